#include "ops/rnn_cell.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/fast_math.h"

namespace recgrad {
namespace {

using detail::fast_sigmoid;
using detail::fast_tanh;

// Sizes of one validated step. Row b of the step's input projection starts at
// xp.data() + b·xp_stride + xp_offset.
struct StepLayout {
  int64_t batch, hidden, width;  // width = gates·hidden
  int64_t xp_stride, xp_offset;
};

std::string describe(const Tensor& xp, const Tensor& hh, const Tensor& b_hh, const char* state,
                     const Tensor& s, const Tensor& mask) {
  std::string out = detail::str_cat("xp ", xp.shape(), ", hh ", hh.shape(), ", b_hh ",
                                    b_hh.defined() ? b_hh.shape().str() : "none", ", ", state,
                                    " ", s.shape());
  if (mask.defined()) out += detail::str_cat(", mask ", mask.shape());
  return out;
}

// Checks the operands of a cell op with `gates` gates whose state is `state_parts` blocks of
// H (GRU: h, 1 block; LSTM: [h | c], 2 blocks).
StepLayout check_step(const char* op, int64_t gates, int64_t state_parts, const char* state,
                      const Tensor& xp, int64_t t, const Tensor& hh, const Tensor& b_hh,
                      const Tensor& s, const Tensor& mask) {
  RECGRAD_CHECK(xp.defined() && hh.defined() && s.defined(), op,
                ": xp, hh and the state must be defined tensors");
  const std::string what = describe(xp, hh, b_hh, state, s, mask);
  RECGRAD_CHECK(s.dim() == 2 && s.size(1) % state_parts == 0 && s.size(1) > 0, op, ": ", what,
                ": ", state, " must be [B, ", state_parts == 1 ? "H" : "2H", "] with H > 0");
  const int64_t B = s.size(0), H = s.size(1) / state_parts, G = gates * H;
  RECGRAD_CHECK(hh.shape() == Shape({B, G}), op, ": ", what, ": hh must be [B, ", gates,
                "H] = ", Shape({B, G}));
  RECGRAD_CHECK(!b_hh.defined() || b_hh.shape() == Shape({G}), op, ": ", what,
                ": b_hh must be [", gates, "H] = ", Shape({G}));
  RECGRAD_CHECK(!mask.defined() || mask.shape() == Shape({B}), op, ": ", what,
                ": mask must be [B] = ", Shape({B}));
  if (xp.dim() == 3) {
    RECGRAD_CHECK(xp.size(0) == B && xp.size(2) == G, op, ": ", what, ": xp must be [B, T, ",
                  gates, "H] = [", B, ", T, ", G, "]");
    RECGRAD_CHECK(t >= 0 && t < xp.size(1), op, ": ", what, ": step ", t, " is outside [0, ",
                  xp.size(1), ")");
    return {B, H, G, xp.size(1) * G, t * G};
  }
  RECGRAD_CHECK(xp.shape() == Shape({B, G}), op, ": ", what, ": xp must be [B, T, ", gates,
                "H] or [B, ", gates, "H] with B = ", B, ", H = ", H);
  RECGRAD_CHECK(t == 0, op, ": ", what, ": step ", t, " given for a single-step xp");
  return {B, H, G, G, 0};
}

// Rows per task: a row costs ~width transcendental-heavy elements.
int64_t row_grain(const StepLayout& L) {
  return detail::items_per_task(L.width, detail::kGrainExpensive);
}

// b_hh as a plain array (zeros when there is no bias), so the kernels have one shape.
std::vector<float> bias_values(const Tensor& b_hh, int64_t width) {
  if (!b_hh.defined()) return std::vector<float>(static_cast<size_t>(width), 0.f);
  return std::vector<float>(b_hh.data(), b_hh.data() + width);
}

// db_hh += Σ_b dhh[b], rows summed in order (deterministic at any thread count).
void add_bias_grad(GradSink& g, size_t i, const Tensor& dhh, const StepLayout& L) {
  float* db = g.dense(i).data();
  const float* d = dhh.data();
  for (int64_t b = 0; b < L.batch; ++b)
    for (int64_t j = 0; j < L.width; ++j) db[j] += d[b * L.width + j];
}

// One valid row of a GRU step: its input projection x = [x_r | x_z | x_n], hidden projection
// a = [a_r | a_z | a_n] and bias b = [b_r | b_z | b_n], each part H wide.
struct GruRow {
  const float* x;
  const float* a;
  const float* b;
  int64_t H;
};

// N units of a row, every array its own __restrict parameter: with N = kSimdBlock (a constant
// trip count) GCC vectorises the loop (ops/fast_math.h); it ignores __restrict on local
// pointers, and the scalar loop ran the transcendental-heavy gates at ~25 ns per unit.
template <int64_t N>
inline void gru_forward_kernel(const float* __restrict xr, const float* __restrict xz,
                               const float* __restrict xn, const float* __restrict ar,
                               const float* __restrict az, const float* __restrict an,
                               const float* __restrict br, const float* __restrict bz,
                               const float* __restrict bn, const float* __restrict h,
                               float* __restrict r, float* __restrict z, float* __restrict n,
                               float* __restrict hn, float* __restrict out) {
  for (int64_t k = 0; k < N; ++k) {
    const float rk = fast_sigmoid(xr[k] + ar[k] + br[k]);
    const float zk = fast_sigmoid(xz[k] + az[k] + bz[k]);
    const float hnk = an[k] + bn[k];
    const float nk = fast_tanh(xn[k] + rk * hnk);
    r[k] = rk;
    z[k] = zk;
    hn[k] = hnk;
    n[k] = nk;
    out[k] = (1.f - zk) * nk + zk * h[k];
  }
}

// Units [j, j + N) of a row: r, z, n and hh_n + b_hn into `saved` (4 blocks of H), the new
// state into o, from the previous state hp.
template <int64_t N>
inline void gru_units_forward(const GruRow& row, int64_t j, const float* hp, float* saved,
                              float* o) {
  const int64_t H = row.H;
  gru_forward_kernel<N>(row.x + j, row.x + H + j, row.x + 2 * H + j, row.a + j, row.a + H + j,
                        row.a + 2 * H + j, row.b + j, row.b + H + j, row.b + 2 * H + j, hp + j,
                        saved + j, saved + H + j, saved + 2 * H + j, saved + 3 * H + j, o + j);
}

// N units of a row's backward (formulas at gru_cell_gates); __restrict parameters as in
// gru_forward_kernel. With AddDx, dx_* += da_*; without, the dx pointers are unused.
template <int64_t N, bool AddDx>
inline void gru_backward_kernel(const float* __restrict g, const float* __restrict h,
                                const float* __restrict r, const float* __restrict z,
                                const float* __restrict n, const float* __restrict hn,
                                float* __restrict dh, float* __restrict da_r,
                                float* __restrict da_z, float* __restrict da_n,
                                float* __restrict dx_r, float* __restrict dx_z,
                                float* __restrict dx_n) {
  for (int64_t k = 0; k < N; ++k) {
    const float gv = g[k];
    dh[k] = gv * z[k];
    const float dz = gv * (h[k] - n[k]);
    const float dan = gv * (1.f - z[k]) * (1.f - n[k] * n[k]);
    const float dar = dan * hn[k] * r[k] * (1.f - r[k]);
    const float daz = dz * z[k] * (1.f - z[k]);
    da_r[k] = dar;
    da_z[k] = daz;
    da_n[k] = dan * r[k];
    if constexpr (AddDx) {
      dx_r[k] += dar;
      dx_z[k] += daz;
      dx_n[k] += dan;
    }
  }
}

// A valid row's backward: the output gradient g, the previous state h and what the forward
// saved (r, z, n, hh_n + b_hn).
struct GruRowGrad {
  const float* g;
  const float* h;
  const float* saved;
  int64_t H;
};

// Units [j, j + N) of a row's backward: dh, dhh = da (3 blocks of H) and, with AddDx,
// dx += [da_r | da_z | da_n].
template <int64_t N, bool AddDx>
inline void gru_units_backward(const GruRowGrad& row, int64_t j, float* dh, float* da,
                               float* dx) {
  const int64_t H = row.H;
  const float* s = row.saved;
  float* dx_r = AddDx ? dx + j : nullptr;
  float* dx_z = AddDx ? dx + H + j : nullptr;
  float* dx_n = AddDx ? dx + 2 * H + j : nullptr;
  gru_backward_kernel<N, AddDx>(row.g + j, row.h + j, s + j, s + H + j, s + 2 * H + j,
                                s + 3 * H + j, dh + j, da + j, da + H + j, da + 2 * H + j, dx_r,
                                dx_z, dx_n);
}

// N units of an LSTM row (formulas at lstm_cell_gates), __restrict parameters as in
// gru_forward_kernel: gates i, f, g, o from the projections x_*, a_* and biases b_*, then
// c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh c'. Saves the gates and tanh c'.
template <int64_t N>
inline void lstm_forward_kernel(
    const float* __restrict xi, const float* __restrict xf, const float* __restrict xg,
    const float* __restrict xo, const float* __restrict ai, const float* __restrict af,
    const float* __restrict ag, const float* __restrict ao, const float* __restrict bi,
    const float* __restrict bf, const float* __restrict bg, const float* __restrict bo,
    const float* __restrict c, float* __restrict gi, float* __restrict gf, float* __restrict gg,
    float* __restrict go, float* __restrict tc, float* __restrict h_out, float* __restrict c_out) {
  for (int64_t k = 0; k < N; ++k) {
    const float ik = fast_sigmoid(xi[k] + ai[k] + bi[k]);
    const float fk = fast_sigmoid(xf[k] + af[k] + bf[k]);
    const float gk = fast_tanh(xg[k] + ag[k] + bg[k]);
    const float ok = fast_sigmoid(xo[k] + ao[k] + bo[k]);
    const float cn = fk * c[k] + ik * gk;
    const float tk = fast_tanh(cn);
    gi[k] = ik;
    gf[k] = fk;
    gg[k] = gk;
    go[k] = ok;
    tc[k] = tk;
    h_out[k] = ok * tk;
    c_out[k] = cn;
  }
}

// One valid LSTM row: projections x = [x_i | x_f | x_g | x_o] and a likewise, bias b, the
// previous cell c, and where the step writes: the 5 saved blocks (i, f, g, o, tanh c') and
// the output [h' | c'], each block H wide.
struct LstmRow {
  const float* x;
  const float* a;
  const float* b;
  const float* c;
  float* saved;
  float* out;
  int64_t H;
};

template <int64_t N>
inline void lstm_units_forward(const LstmRow& r, int64_t j) {
  const int64_t H = r.H;
  float* s = r.saved;
  lstm_forward_kernel<N>(r.x + j, r.x + H + j, r.x + 2 * H + j, r.x + 3 * H + j, r.a + j,
                         r.a + H + j, r.a + 2 * H + j, r.a + 3 * H + j, r.b + j, r.b + H + j,
                         r.b + 2 * H + j, r.b + 3 * H + j, r.c + j, s + j, s + H + j, s + 2 * H + j,
                         s + 3 * H + j, s + 4 * H + j, r.out + j, r.out + H + j);
}

// N units of an LSTM row's backward (formulas at lstm_cell_gates). With AddDx, dx_* += da_*;
// without, the dx pointers are unused.
template <int64_t N, bool AddDx>
inline void lstm_backward_kernel(const float* __restrict dh, const float* __restrict dc_out,
                                 const float* __restrict c, const float* __restrict gi,
                                 const float* __restrict gf, const float* __restrict gg,
                                 const float* __restrict go, const float* __restrict tc,
                                 float* __restrict da_i, float* __restrict da_f,
                                 float* __restrict da_g, float* __restrict da_o,
                                 float* __restrict ds_h, float* __restrict ds_c,
                                 float* __restrict dx_i, float* __restrict dx_f,
                                 float* __restrict dx_g, float* __restrict dx_o) {
  for (int64_t k = 0; k < N; ++k) {
    const float dhv = dh[k];
    const float dc = dc_out[k] + dhv * go[k] * (1.f - tc[k] * tc[k]);
    const float dai = dc * gg[k] * gi[k] * (1.f - gi[k]);
    const float daf = dc * c[k] * gf[k] * (1.f - gf[k]);
    const float dag = dc * gi[k] * (1.f - gg[k] * gg[k]);
    const float dao = dhv * tc[k] * go[k] * (1.f - go[k]);
    da_i[k] = dai;
    da_f[k] = daf;
    da_g[k] = dag;
    da_o[k] = dao;
    ds_h[k] = 0.f;
    ds_c[k] = dc * gf[k];
    if constexpr (AddDx) {
      dx_i[k] += dai;
      dx_f[k] += daf;
      dx_g[k] += dag;
      dx_o[k] += dao;
    }
  }
}

// A valid LSTM row's backward: the output gradient [dh' | dc_out], the previous cell c, what
// the forward saved, and where it writes: da (4 blocks of H, dhh's row), ds ([0 | dc]) and,
// with AddDx, dx.
struct LstmRowGrad {
  const float* g;
  const float* c;
  const float* saved;
  float* da;
  float* ds;
  float* dx;
  int64_t H;
};

template <int64_t N, bool AddDx>
inline void lstm_units_backward(const LstmRowGrad& r, int64_t j) {
  const int64_t H = r.H;
  const float* s = r.saved;
  float* dx = AddDx ? r.dx : nullptr;
  lstm_backward_kernel<N, AddDx>(
      r.g + j, r.g + H + j, r.c + j, s + j, s + H + j, s + 2 * H + j, s + 3 * H + j, s + 4 * H + j,
      r.da + j, r.da + H + j, r.da + 2 * H + j, r.da + 3 * H + j, r.ds + j, r.ds + H + j,
      AddDx ? dx + j : nullptr, AddDx ? dx + H + j : nullptr, AddDx ? dx + 2 * H + j : nullptr,
      AddDx ? dx + 3 * H + j : nullptr);
}

// Units [0, H) of a row: whole blocks of kSimdBlock (vectorised), then a scalar tail.
template <typename Units>
inline void for_unit_blocks(int64_t H, const Units& units) {
  const int64_t full = H - H % detail::kSimdBlock;
  for (int64_t j = 0; j < full; j += detail::kSimdBlock)
    units(std::integral_constant<int64_t, detail::kSimdBlock>{}, j);
  for (int64_t j = full; j < H; ++j) units(std::integral_constant<int64_t, 1>{}, j);
}

}  // namespace

Tensor gru_cell_gates(const Tensor& xp, int64_t t, const Tensor& hh, const Tensor& b_hh,
                      const Tensor& h, const Tensor& mask) {
  const StepLayout L = check_step("gru_cell_gates", 3, 1, "h", xp, t, hh, b_hh, h, mask);
  const int64_t B = L.batch, H = L.hidden, G = L.width;
  const std::vector<float> bias = bias_values(b_hh, G);
  Tensor out = Tensor::empty({B, H});
  // Saved for backward, per row: r, z, n and hh_n + b_hn (the factor r multiplies).
  Tensor saved = Tensor::empty({B, 4 * H});
  {
    const float* px = xp.data() + L.xp_offset;
    const float* phh = hh.data();
    const float* ph = h.data();
    const float* pm = mask.defined() ? mask.data() : nullptr;
    const float* pb = bias.data();
    float* po = out.data();
    float* ps = saved.data();
    detail::parallel_for(B, row_grain(L), [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        const float* hp = ph + b * H;
        float* o = po + b * H;
        if (pm && pm[b] == 0.f) {  // padded: the state passes through
          std::memcpy(o, hp, sizeof(float) * H);
          continue;
        }
        const GruRow row{px + b * L.xp_stride, phh + b * G, pb, H};
        float* saved_row = ps + b * 4 * H;
        for_unit_blocks(
            H, [&](auto n, int64_t j) { gru_units_forward<n()>(row, j, hp, saved_row, o); });
      }
    });
  }
  // With a = pre-activations and g = dL/dh_out (valid rows):
  //   dh = g ⊙ z (the direct path; hh's path goes through the matmul),  dz = g ⊙ (h − n),
  //   da_n = g ⊙ (1 − z) ⊙ (1 − n²),  dr = da_n ⊙ (hh_n + b_hn),
  //   da_r = dr ⊙ r(1 − r),  da_z = dz ⊙ z(1 − z);
  //   dxp = [da_r | da_z | da_n],  dhh = db_hh = [da_r | da_z | r ⊙ da_n].
  // Padded rows: dh = g, nothing else.
  return record("gru_cell_gates", out, {xp, hh, b_hh, h},
                [h, mask, saved, L](const Tensor& dout, GradSink& g) {
                  const int64_t B = L.batch, H = L.hidden, G = L.width;
                  float* dxp = g.wants(0) ? g.dense(0).data() + L.xp_offset : nullptr;
                  Tensor dhh = Tensor::empty({B, G});
                  Tensor dh = Tensor::empty({B, H});
                  const float* pg = dout.data();
                  const float* ph = h.data();
                  const float* ps = saved.data();
                  const float* pm = mask.defined() ? mask.data() : nullptr;
                  float* pdhh = dhh.data();
                  float* pdh = dh.data();
                  detail::parallel_for(B, row_grain(L), [&](int64_t lo, int64_t hi) {
                    for (int64_t b = lo; b < hi; ++b) {
                      const float* go = pg + b * H;
                      float* dhr = pdh + b * H;
                      float* da = pdhh + b * G;
                      if (pm && pm[b] == 0.f) {
                        std::memcpy(dhr, go, sizeof(float) * H);
                        std::fill(da, da + G, 0.f);
                        continue;
                      }
                      const GruRowGrad row{go, ph + b * H, ps + b * 4 * H, H};
                      float* dx = dxp ? dxp + b * L.xp_stride : nullptr;
                      if (dx)
                        for_unit_blocks(H, [&](auto n, int64_t j) {
                          gru_units_backward<n(), true>(row, j, dhr, da, dx);
                        });
                      else
                        for_unit_blocks(H, [&](auto n, int64_t j) {
                          gru_units_backward<n(), false>(row, j, dhr, da, dx);
                        });
                    }
                  });
                  if (g.wants(2)) add_bias_grad(g, 2, dhh, L);
                  if (g.wants(1)) g.add(1, dhh);
                  if (g.wants(3)) g.add(3, dh);
                });
}

Tensor lstm_cell_gates(const Tensor& xp, int64_t t, const Tensor& hh, const Tensor& b_hh,
                       const Tensor& s, const Tensor& mask) {
  const StepLayout L = check_step("lstm_cell_gates", 4, 2, "s", xp, t, hh, b_hh, s, mask);
  const int64_t B = L.batch, H = L.hidden, G = L.width;
  const std::vector<float> bias = bias_values(b_hh, G);
  Tensor out = Tensor::empty({B, 2 * H});
  // Saved for backward, per row: i, f, g, o and tanh(c').
  Tensor saved = Tensor::empty({B, 5 * H});
  {
    const float* px = xp.data() + L.xp_offset;
    const float* phh = hh.data();
    const float* pst = s.data();
    const float* pm = mask.defined() ? mask.data() : nullptr;
    const float* pb = bias.data();
    float* po = out.data();
    float* ps = saved.data();
    detail::parallel_for(B, row_grain(L), [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        const float* st = pst + b * 2 * H;
        float* o = po + b * 2 * H;
        if (pm && pm[b] == 0.f) {  // padded: the state passes through
          std::memcpy(o, st, sizeof(float) * 2 * H);
          continue;
        }
        const LstmRow row{px + b * L.xp_stride, phh + b * G, pb, st + H, ps + b * 5 * H, o, H};
        for_unit_blocks(H, [&](auto n, int64_t j) { lstm_units_forward<n()>(row, j); });
      }
    });
  }
  // With [dh' | dc_out] = dL/d out (valid rows):
  //   dc' = dc_out + dh' ⊙ o ⊙ (1 − tanh²c'),   do = dh' ⊙ tanh c',
  //   da_i = dc' ⊙ g ⊙ i(1 − i),  da_f = dc' ⊙ c ⊙ f(1 − f),  da_g = dc' ⊙ i ⊙ (1 − g²),
  //   da_o = do ⊙ o(1 − o);   dxp = dhh = db_hh = da;   ds = [0 | dc' ⊙ f]
  //   (h reaches the gates only through hh's matmul).
  // Padded rows: ds = dL/d out, nothing else.
  return record("lstm_cell_gates", out, {xp, hh, b_hh, s},
                [s, mask, saved, L](const Tensor& dout, GradSink& g) {
                  const int64_t B = L.batch, H = L.hidden, G = L.width;
                  float* dxp = g.wants(0) ? g.dense(0).data() + L.xp_offset : nullptr;
                  Tensor dhh = Tensor::empty({B, G});
                  Tensor ds = Tensor::empty({B, 2 * H});
                  const float* pg = dout.data();
                  const float* pst = s.data();
                  const float* ps = saved.data();
                  const float* pm = mask.defined() ? mask.data() : nullptr;
                  float* pdhh = dhh.data();
                  float* pds = ds.data();
                  detail::parallel_for(B, row_grain(L), [&](int64_t lo, int64_t hi) {
                    for (int64_t b = lo; b < hi; ++b) {
                      const float* gr = pg + b * 2 * H;
                      float* dsr = pds + b * 2 * H;
                      float* da = pdhh + b * G;
                      if (pm && pm[b] == 0.f) {
                        std::memcpy(dsr, gr, sizeof(float) * 2 * H);
                        std::fill(da, da + G, 0.f);
                        continue;
                      }
                      float* dx = dxp ? dxp + b * L.xp_stride : nullptr;
                      const LstmRowGrad row{gr, pst + b * 2 * H + H, ps + b * 5 * H, da, dsr, dx,
                                            H};
                      if (dx)
                        for_unit_blocks(
                            H, [&](auto n, int64_t j) { lstm_units_backward<n(), true>(row, j); });
                      else
                        for_unit_blocks(
                            H, [&](auto n, int64_t j) { lstm_units_backward<n(), false>(row, j); });
                    }
                  });
                  if (g.wants(2)) add_bias_grad(g, 2, dhh, L);
                  if (g.wants(1)) g.add(1, dhh);
                  if (g.wants(3)) g.add(3, ds);
                });
}

}  // namespace recgrad
