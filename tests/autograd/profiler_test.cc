// The profiler's bookkeeping: op names, call counts, and which op each stretch of time is
// charged to. Time comes from a fake clock that the test ops advance, so every figure is exact
// and nothing depends on how fast the machine is.
#include "autograd/profiler.h"

#include <doctest/doctest.h>

#include <thread>

#include "autograd/graph.h"

using namespace recgrad;

namespace {

double g_now = 0;  // the fake clock, in ms
double fake_clock() { return g_now; }

// Installs the fake clock for one test and removes it after.
struct FakeClock {
  FakeClock() {
    g_now = 0;
    detail::set_profile_clock(&fake_clock);
  }
  ~FakeClock() { detail::set_profile_clock(nullptr); }
};

// y = c·x; forward "takes" fwd_ms, backward bwd_ms.
Tensor scale(const Tensor& x, float c, double fwd_ms = 1, double bwd_ms = 1) {
  g_now += fwd_ms;
  Tensor out = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out.data()[i] = c * x.data()[i];
  return record("scale", out, {x}, [c, bwd_ms](const Tensor& g, GradSink& s) {
    g_now += bwd_ms;
    Tensor dx = Tensor::empty(g.shape());
    for (int64_t i = 0; i < g.numel(); ++i) dx.data()[i] = c * g.data()[i];
    s.add(0, dx);
  });
}

// Σx; forward 2 ms, backward 3 ms.
Tensor total(const Tensor& x) {
  g_now += 2;
  Tensor out = scalar(0.f);
  for (int64_t i = 0; i < x.numel(); ++i) out.data()[0] += x.data()[i];
  const Shape shape = x.shape();
  return record("total", out, {x}, [shape](const Tensor& g, GradSink& s) {
    g_now += 3;
    s.add(0, full(shape, g.item()));
  });
}

}  // namespace

TEST_CASE("profiler: counts forward and backward calls per op name") {
  Tensor x = tensor({1, 2, 3}).set_requires_grad();
  const ProfileTable t = profile_step([&] { total(scale(scale(x, 2.f), 3.f)).backward(); });
  REQUIRE(t.ops.size() == 2);
  const OpProfile* s = t.find("scale");
  const OpProfile* sum = t.find("total");
  REQUIRE(s != nullptr);
  REQUIRE(sum != nullptr);
  CHECK(s->forward_calls == 2);
  CHECK(s->backward_calls == 2);
  CHECK(sum->forward_calls == 1);
  CHECK(sum->backward_calls == 1);
  CHECK(t.find("matmul") == nullptr);
}

TEST_CASE("profiler: backward time goes to the op whose closure ran") {
  FakeClock clock;
  Tensor x = tensor({1, 2}).set_requires_grad();
  const ProfileTable t =
      profile_step([&] { total(scale(x, 2.f, /*fwd_ms=*/1, /*bwd_ms=*/7)).backward(); });
  CHECK(t.find("scale")->backward_ms == 7);
  CHECK(t.find("total")->backward_ms == 3);
  CHECK(t.engine_ms == 0);  // the fake clock does not move outside closures
}

TEST_CASE("profiler: forward time is the time since the previous op, glue included") {
  FakeClock clock;
  Tensor x = tensor({1, 2}).set_requires_grad();
  const ProfileTable t = profile_step([&] {
    Tensor y = scale(x, 2.f, /*fwd_ms=*/4);
    g_now += 10;  // non-op work between ops is charged to the next op (a documented limit)
    Tensor l = total(y);
    g_now += 20;  // between the last op and backward: no op's
    l.backward();
    g_now += 40;  // after backward (an optimizer loop calling no op): no op's
  });
  CHECK(t.find("scale")->forward_ms == 4);
  CHECK(t.find("total")->forward_ms == 12);
  CHECK(t.other_ms == 60);
  CHECK(t.wall_ms == 4 + 12 + 20 + 3 + 1 + 40);
  double sum = t.engine_ms + t.other_ms;
  for (const OpProfile& op : t.ops) sum += op.total_ms();
  CHECK(sum == t.wall_ms);
  // Sorted by total time: total (12 + 3) before scale (4 + 1).
  CHECK(t.ops[0].op == "total");
}

TEST_CASE("profiler: ops under NoGradGuard are counted, without backward") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  const ProfileTable t = profile_step([&] {
    NoGradGuard no_grad;
    scale(x, 2.f);
  });
  REQUIRE(t.find("scale") != nullptr);
  CHECK(t.find("scale")->forward_calls == 1);
  CHECK(t.find("scale")->backward_calls == 0);
}

TEST_CASE("profiler: off means nothing is recorded") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  total(scale(x, 2.f)).backward();  // before any profiler
  Profiler p;
  const ProfileTable empty = p.table();
  CHECK(empty.ops.empty());
  scale(x, 2.f);
  p.stop();
  total(scale(x, 2.f)).backward();  // after stop
  const ProfileTable t = p.table();
  REQUIRE(t.ops.size() == 1);
  CHECK(t.ops[0].forward_calls == 1);
  CHECK(t.ops[0].backward_calls == 0);
  CHECK(detail::t_profile == nullptr);
}

TEST_CASE("profiler: ops on another thread are not seen") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  const ProfileTable t = profile_step([&] {
    std::thread other([&] { total(scale(x, 2.f)).backward(); });
    other.join();
  });
  CHECK(t.ops.empty());
}

TEST_CASE("profiler: a second profiler on the same thread is refused") {
  Profiler p;
  CHECK_THROWS_AS(Profiler(), UsageError);
  p.stop();
  Profiler q;  // fine once the first has stopped
}

TEST_CASE("profiler: the table prints and serialises every op") {
  FakeClock clock;
  Tensor x = tensor({1, 2}).set_requires_grad();
  const ProfileTable t = profile_step([&] { total(scale(x, 2.f)).backward(); });
  const std::string text = t.str();
  CHECK(text.find("scale") != std::string::npos);
  CHECK(text.find("total") != std::string::npos);
  CHECK(text.find("(backward engine)") != std::string::npos);
  const std::string json = t.json();
  CHECK(json.find("\"op\":\"scale\",\"forward_calls\":1,\"backward_calls\":1") !=
        std::string::npos);
  CHECK(json.find("\"wall_ms\":7.0000") != std::string::npos);
}

TEST_CASE("profiler: profile_mark charges non-op work to its own row, not the next op") {
  FakeClock clock;
  Tensor x = tensor({1, 2}).set_requires_grad();
  const ProfileTable t = profile_step([&] {
    for (int step = 0; step < 2; ++step) {
      total(scale(x, 2.f, /*fwd_ms=*/1, /*bwd_ms=*/1)).backward();
      g_now += 40;  // an optimizer's update loop: no op
      profile_mark("(optimizer step)");
    }
  });
  const OpProfile* opt = t.find("(optimizer step)");
  REQUIRE(opt != nullptr);
  CHECK(opt->forward_calls == 2);
  CHECK(opt->forward_ms == 80);
  CHECK(opt->backward_calls == 0);
  CHECK(t.find("scale")->forward_ms == 2);  // 1 ms per step: the optimizer's 40 went elsewhere
  CHECK(t.other_ms == 0);
  double sum = t.engine_ms + t.other_ms;
  for (const OpProfile& op : t.ops) sum += op.total_ms();
  CHECK(sum == t.wall_ms);
  profile_mark("(outside)");  // no profiler: nothing happens
  CHECK(detail::t_profile == nullptr);
}

TEST_CASE("profiler: ops run inside a backward closure count as that closure's time") {
  FakeClock clock;
  Tensor x = tensor({1, 2}).set_requires_grad();
  const ProfileTable t = profile_step([&] {
    Tensor y = scale(x, 2.f, /*fwd_ms=*/1, /*bwd_ms=*/1);
    Tensor out = Tensor::empty(y.shape());
    for (int64_t i = 0; i < y.numel(); ++i) out.data()[i] = y.data()[i];
    record("outer", out, {y}, [](const Tensor& g, GradSink& s) {
      s.add(0, scale(g, 1.f, /*fwd_ms=*/5));  // an op inside the closure, 5 ms
    }).backward(tensor({1, 1}));
  });
  CHECK(t.find("outer")->backward_ms == 5);
  CHECK(t.find("scale")->forward_calls == 1);  // the inner call is not a forward of its own
  CHECK(t.find("scale")->forward_ms == 1);
}
