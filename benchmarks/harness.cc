#include "benchmarks/harness.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "autograd/parallel.h"
#include "ops/runtime.h"

namespace recgrad::bench {

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.error_occurred) continue;
    const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
    if (run.run_type != Run::RT_Iteration && !median) continue;
    Result& r = results_[run.run_name.function_name];  // the registered name, no suffixes
    if (r.median && !median) continue;
    r.median = median;
    r.seconds = (cpu_time_ ? run.GetAdjustedCPUTime() : run.GetAdjustedRealTime()) /
                benchmark::GetTimeUnitMultiplier(run.time_unit);
    for (const auto& [name, c] : run.counters) r.counters[name] = c.value;
  }
  ConsoleReporter::ReportRuns(runs);
  if (!on_result) return;
  std::vector<std::string> names;
  for (const Run& run : runs)
    if (std::find(names.begin(), names.end(), run.run_name.function_name) == names.end())
      names.push_back(run.run_name.function_name);
  for (const std::string& name : names) on_result(name);
}

double CollectingReporter::counter(const std::string& benchmark, const std::string& name) const {
  auto b = results_.find(benchmark);
  if (b == results_.end()) return 0;
  auto c = b->second.counters.find(name);
  return c == b->second.counters.end() ? 0 : c->second;
}

std::map<std::string, double> CollectingReporter::counters(const std::string& benchmark) const {
  auto b = results_.find(benchmark);
  return b == results_.end() ? std::map<std::string, double>{} : b->second.counters;
}

double CollectingReporter::seconds(const std::string& benchmark) const {
  auto b = results_.find(benchmark);
  return b == results_.end() ? 0 : b->second.seconds;
}

// ---------------------------------------------------------------------------------------------

void Bound::add(const std::string& part, double seconds, double count) {
  seconds_ += seconds;
  for (auto& [name, n] : parts_)
    if (name == part) {
      n += count;
      return;
    }
  parts_.emplace_back(part, count);
}

Bound& Bound::gemm(const GemmShape& s, double count) {
  add("sgemm", count * peaks().sgemm_seconds(s, threads_), count);
  return *this;
}

Bound& Bound::gemm_batched(const GemmShape& s, double count) {
  add("sgemm", count * peaks().sgemm_seconds(s, 1) / threads_, count);
  return *this;
}

Bound& Bound::copy_bytes(double bytes) {
  add("copy", bytes * 1e-9 / peaks().copy_gbps(threads_), 1);
  return *this;
}

Bound& Bound::gather_bytes(double bytes) {
  add("gather", bytes * 1e-9 / peaks().gather_gbps(threads_), 1);
  return *this;
}

std::string Bound::label() const {
  std::string out;
  for (const auto& [name, n] : parts_) {
    if (!out.empty()) out += " + ";
    out += name;
    if (name == "sgemm" && n != 1) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " x%g", n);
      out += buf;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

namespace {

std::vector<int> parse_thread_list(const std::string& list) {
  std::vector<int> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const int n = std::atoi(item.c_str());
    RECGRAD_CHECK(n >= 1, "--threads: '", list, "' is not a comma-separated list of counts >= 1");
    out.push_back(n);
  }
  RECGRAD_CHECK(!out.empty(), "--threads: empty list");
  return out;
}

// The value of "--name=V" or "--name V" at argv[i] (advancing i past V); nullptr otherwise.
const char* flag_value(const char* name, int argc, char** argv, int& i) {
  const size_t len = std::strlen(name);
  if (std::strncmp(argv[i], name, len) != 0) return nullptr;
  if (argv[i][len] == '=') return argv[i] + len + 1;
  if (argv[i][len] == '\0' && i + 1 < argc) return argv[++i];
  return nullptr;
}

std::string read_first_line(const char* path, const char* prefix = nullptr) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (prefix == nullptr || line.rfind(prefix, 0) == 0) return line;
  return "";
}

}  // namespace

Flags parse_flags(int& argc, char** argv) {
  Flags f;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--cpu_time") == 0) {
      f.cpu_time = true;
      peaks().set_cpu_time(true);
    } else if (const char* v = flag_value("--json", argc, argv, i)) {
      f.json = v;
    } else if (const char* v = flag_value("--threads", argc, argv, i)) {
      f.threads = parse_thread_list(v);
    } else {
      // Google Benchmark 1.7 takes seconds ("0.01"); later versions also "0.01s" or "10x"
      // (an iteration count, which says nothing about seconds: peaks keep their default).
      const std::string arg = argv[i];
      const std::string key = "--benchmark_min_time=";
      if (arg.rfind(key, 0) == 0 && arg.back() != 'x')
        peaks().set_min_time(std::atof(arg.c_str() + key.size()));
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;
  if (f.threads.empty()) {
    f.threads.push_back(1);
    if (num_threads() > 1) f.threads.push_back(num_threads());
  }
  return f;
}

std::string with_threads(const std::string& name, int threads) {
  return name + "/threads:" + std::to_string(threads);
}

std::string machine_summary() {
  std::string cpu = read_first_line("/proc/cpuinfo", "model name");
  if (const size_t colon = cpu.find(": "); colon != std::string::npos) cpu = cpu.substr(colon + 2);
  utsname u{};
  uname(&u);
  std::ostringstream os;
  os << "machine: " << (cpu.empty() ? "unknown CPU" : cpu) << ", " << sysconf(_SC_NPROCESSORS_ONLN)
     << " cores online, " << u.sysname << " " << u.release << ", load average "
     << read_first_line("/proc/loadavg") << "\n"
     << runtime_summary();
  return os.str();
}

void print_sections(const std::vector<Section>& sections) {
  for (const Section& s : sections) {
    if (s.rows.empty()) continue;
    std::printf("\n%s\n", s.title.c_str());
    std::printf("  %-58s %10s %10s %-7s  %-26s %6s  %s\n", "benchmark", "recgrad", "bound", "",
                "bound is", "ratio", "target");
    for (const Comparison& r : s.rows) {
      if (r.seconds <= 0) continue;
      char target[32] = "";
      if (r.target > 0)
        std::snprintf(target, sizeof target, ">=%.0f%% %s", 100 * r.target,
                      r.met() ? "met" : "MISSED");
      std::printf("  %-58s %10.2f %10.2f %-7s  %-26s %5.0f%%  %s\n", r.what.c_str(), r.rate(),
                  r.bound_rate(), r.unit.c_str(), r.bound.c_str(), 100 * r.ratio(), target);
    }
  }
}

void write_json(const std::string& path, const std::string& binary, const Flags& flags,
                const std::vector<Section>& sections) {
  using nlohmann::json;
  json j;
  j["binary"] = binary;
  j["timing"] = flags.cpu_time ? "process CPU time" : "wall-clock time";
  j["machine"] = {{"summary", machine_summary()},
                  {"load_average_at_end", read_first_line("/proc/loadavg")},
                  {"cores_online", sysconf(_SC_NPROCESSORS_ONLN)},
                  {"recgrad_threads", num_threads()}};
  j["peaks"] = json::array();
  for (const PeakRecord& p : peaks().measured())
    j["peaks"].push_back(
        {{"name", p.name}, {"threads", p.threads}, {"value", p.value}, {"unit", p.unit}});
  j["sections"] = json::array();
  for (const Section& s : sections) {
    json rows = json::array();
    for (const Comparison& r : s.rows) {
      if (r.seconds <= 0) continue;
      json row = {{"name", r.what},
                  {"unit", r.unit},
                  {"seconds", r.seconds},
                  {"rate", r.rate()},
                  {"bound_rate", r.bound_rate()},
                  {"bound_seconds", r.bound_seconds},
                  {"bound", r.bound},
                  {"ratio", r.ratio()}};
      if (r.target > 0) {
        row["target"] = r.target;
        row["met"] = r.met();
      }
      if (!r.counters.empty()) row["counters"] = r.counters;
      rows.push_back(row);
    }
    j["sections"].push_back({{"title", s.title}, {"rows", rows}});
  }
  std::ofstream out(path);
  RECGRAD_CHECK(out.good(), "--json: cannot write ", path);
  out << j.dump(2) << "\n";
  RECGRAD_CHECK(out.good(), "--json: failed writing ", path);
}

// ---------------------------------------------------------------------------------------------

void Suite::add(const std::string& section, const std::string& name, int threads,
                const std::string& unit, double work, double target,
                std::function<void(Bound&)> bound, std::function<void(benchmark::State&)> body) {
  size_t sec = 0;
  while (sec < sections_.size() && sections_[sec].title != section) ++sec;
  if (sec == sections_.size()) sections_.push_back({section, {}});
  const std::string full = with_threads(name, threads);
  auto* b = benchmark::RegisterBenchmark(full.c_str(),
                                         [threads, body = std::move(body)](benchmark::State& st) {
                                           set_num_threads(threads);
                                           body(st);
                                         });
  b->Unit(benchmark::kMillisecond);
  if (flags_.cpu_time)
    b->MeasureProcessCPUTime();
  else
    b->UseRealTime();
  plan_.push_back({sec, full, unit, work, target, threads, std::move(bound)});
}

int Suite::run(int argc, char** argv, const std::string& binary) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CollectingReporter reporter(flags_.cpu_time);
  reporter.on_result = [&](const std::string& name) {
    const double seconds = reporter.seconds(name);
    for (const Planned& p : plan_) {
      if (p.name != name || seconds <= 0) continue;
      peaks().forget();  // measure the bound now, under the load the result saw
      Bound bound(p.threads);
      p.bound(bound);
      seconds_[p.name] = seconds;
      std::vector<Comparison>& rows = sections_[p.section].rows;
      const Comparison row{p.name,          p.unit,        p.work,   seconds,
                           bound.seconds(), bound.label(), p.target, reporter.counters(name)};
      auto it = std::find_if(rows.begin(), rows.end(),
                             [&](const Comparison& c) { return c.what == p.name; });
      if (it == rows.end())
        rows.push_back(row);
      else
        *it = row;  // a later repetition's report
    }
  };
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\n%s timing; each bound measured right after its result\n",
              flags_.cpu_time ? "process CPU" : "wall-clock");
  print_sections(sections_);
  if (!flags_.json.empty()) {
    write_json(flags_.json, binary, flags_, sections_);
    std::printf("\nwrote %s\n", flags_.json.c_str());
  }
  benchmark::Shutdown();
  return 0;
}

double Suite::seconds(const std::string& name) const {
  auto it = seconds_.find(name);
  return it == seconds_.end() ? 0 : it->second;
}

// Both loops run their body once before timing: the first pass takes its buffers from the
// system (page faults on every fresh page of a 64 MiB tensor), later passes reuse them from the
// storage cache, as training steps do. Under a short --benchmark_min_time that first pass was
// most of the measurement and put add's and matmul's fwd+bwd at a third to half of their
// bounds, against 90-130% once warm.
void forward_loop(benchmark::State& st, const std::function<Tensor()>& fwd) {
  benchmark::DoNotOptimize(fwd().data());
  for (auto _ : st) benchmark::DoNotOptimize(fwd().data());
}

void fwd_bwd_loop(benchmark::State& st, std::vector<Tensor> leaves,
                  const std::function<Tensor()>& fwd) {
  Generator gen(7);
  const Shape shape = fwd().shape();
  // Uniform rather than normal draws: filling a 100 MB gradient with Box-Muller costs seconds
  // per Google Benchmark trial, outside the timed loop but inside the run time.
  const Tensor gy = shape.numel() == 1 ? ones(shape) : uniform(shape, -1.f, 1.f, gen);
  fwd().backward(gy);
  for (Tensor& t : leaves) t.zero_grad();
  for (auto _ : st) {
    fwd().backward(gy);
    for (Tensor& t : leaves) t.zero_grad();
  }
}

}  // namespace recgrad::bench
