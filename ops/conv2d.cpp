#include "ops/conv2d.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "graph/errors.hpp"

namespace bnlab {
namespace {

constexpr AttrDecl kAttrs[] = {{"stride_h", 1}, {"stride_w", 1}, {"pad_h", 0}, {"pad_w", 0}};
constexpr int stride_h = index_of(kAttrs, "stride_h"), stride_w = index_of(kAttrs, "stride_w");
constexpr int pad_h = index_of(kAttrs, "pad_h"), pad_w = index_of(kAttrs, "pad_w");

// The batch is processed in tiles of whole images, at least kTileRows output pixels each (the rows
// of the product), so that col2im, which scatters a patch back over its neighbours, never has two
// threads writing one image, and a tile's patches (its "columns") stay in cache: 392 × 288 floats,
// 450 KB, for the reference CNN's second conv. The tiles are cut into at most kPartials contiguous
// ranges, "partials", fixed by the batch and not by the thread count: a thread takes whole partials,
// each with its own columns buffer and its own partial sums of dweight and dbias, which are then
// added in the order of the partials.
constexpr int64_t kPartials = 8;
constexpr int64_t kTileRows = 256;

int64_t attr(std::span<const double> attrs, int i) { return static_cast<int64_t>(attrs[static_cast<size_t>(i)]); }

// Everything the kernels derive from the shapes: x [B,H,W,C], weight [kh,kw,C,F], out [B,Ho,Wo,F].
// In a shape rule B is the symbolic batch: only what does not depend on it (tile, stride) is used.
struct Geometry {
  int64_t B, H, W, C, kh, kw, F, sh, sw, ph, pw, Ho, Wo;
  int64_t K;          // kh·kw·C: one patch, one row of "columns"
  int64_t pixels;     // Ho·Wo: rows of the product per image
  int64_t tile;       // images per tile
  int64_t stride;     // elements of one partial's columns buffer: tile·pixels·K rounded up to 64 bytes
  int64_t tiles;      // ⌈B / tile⌉
  int64_t parts;      // min(kPartials, tiles)
  bool pointwise;     // 1×1, stride 1, no padding: columns = x
  bool keep;          // the whole batch's columns are saved for backward: K ≤ F, not pointwise

  Geometry(const Shape& x, const Shape& w, std::span<const double> attrs)
      : B(x[0]), H(x[1]), W(x[2]), C(x[3]), kh(w[0]), kw(w[1]), F(w[3]),
        sh(attr(attrs, stride_h)), sw(attr(attrs, stride_w)), ph(attr(attrs, pad_h)), pw(attr(attrs, pad_w)),
        Ho((H + 2 * ph - kh) / sh + 1), Wo((W + 2 * pw - kw) / sw + 1), K(kh * kw * C), pixels(Ho * Wo),
        tile(std::max<int64_t>(1, (kTileRows + pixels - 1) / std::max<int64_t>(1, pixels))),
        stride((tile * pixels * K + 15) / 16 * 16), tiles(B > 0 ? (B + tile - 1) / tile : 0),
        parts(std::min(kPartials, tiles)), pointwise(kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0),
        keep(!pointwise && K <= F) {}

  int64_t first_image(int64_t t) const { return t * tile; }
  int64_t end_image(int64_t t) const { return std::min(B, (t + 1) * tile); }
  // Partial p: tiles [first_tile(p), first_tile(p + 1)).
  int64_t first_tile(int64_t p) const { return tiles * p / parts; }
};

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Shape infer(const ShapeContext& c) {
  const Shape& x = c.in[0];
  const Shape& w = c.in[1];
  if (x.rank() != 4) throw ShapeError("input must be [B,H,W,C], got " + x.to_string());
  if (w.rank() != 4) throw ShapeError("weight must be [kh,kw,C,F], got " + w.to_string());
  if (w.has_batch()) throw ShapeError("weight cannot have the batch dimension, got " + w.to_string());
  if (c.in.size() > 2 && !(c.in[2].rank() == 1 && c.in[2][0] == w[3]))
    throw ShapeError("bias must be [F] = [" + std::to_string(w[3]) + "] for weight " + w.to_string() + ", got " +
                     c.in[2].to_string());
  for (const AttrDecl& d : kAttrs) {
    const double v = c.attrs[static_cast<size_t>(&d - kAttrs)];
    if (!(std::isfinite(v) && v == std::floor(v))) throw ShapeError(std::string(d.name) + " must be an integer, got " + number(v));
    if (std::abs(v) > 1 << 30) throw ShapeError(std::string(d.name) + " must be at most 2^30, got " + number(v));
  }
  for (int i : {stride_h, stride_w})
    if (attr(c.attrs, i) < 1) throw ShapeError(std::string(kAttrs[i].name) + " must be at least 1, got " + number(c.attrs[i]));
  for (int i : {pad_h, pad_w})
    if (attr(c.attrs, i) < 0) throw ShapeError(std::string(kAttrs[i].name) + " must be at least 0, got " + number(c.attrs[i]));
  if (w[2] != x[3])
    throw ShapeError("weight " + w.to_string() + " takes " + std::to_string(w[2]) + " input channels, input " + x.to_string() +
                     " has " + std::to_string(x[3]));
  if (w[0] < 1 || w[1] < 1) throw ShapeError("kernel must be at least 1x1, got weight " + w.to_string());
  const int64_t hp = x[1] + 2 * attr(c.attrs, pad_h), wp = x[2] + 2 * attr(c.attrs, pad_w);
  if (w[0] > hp || w[1] > wp)
    throw ShapeError("kernel " + std::to_string(w[0]) + "x" + std::to_string(w[1]) + " is larger than the padded input " +
                     std::to_string(hp) + "x" + std::to_string(wp) + ": input " + x.to_string() + ", weight " + w.to_string() +
                     ", pad " + std::to_string(attr(c.attrs, pad_h)) + "," + std::to_string(attr(c.attrs, pad_w)));
  const int64_t ho = (hp - w[0]) / attr(c.attrs, stride_h) + 1, wo = (wp - w[1]) / attr(c.attrs, stride_w) + 1;
  return Shape{x[0], ho, wo, w[3]};
}

// Which columns backward reads. Usually none are kept: backward builds a tile's columns again (a
// copy, cheaper than keeping the whole batch's, which for the reference CNN's second conv at batch
// 256 were 58 MB that every product streamed from memory). When a patch is no longer than an
// output row (K ≤ F: a first layer's few input channels, 9 against 32 for the reference CNN's
// first conv) the columns are no larger than the output, and rebuilding them would cost more than
// the products they feed (0.26 → 0.37 ms of that conv's backward at batch 32): they are saved,
// [B,Ho,Wo,K], written by forward in place of its tile buffer. Empty otherwise.
Shape columns_shape(const ShapeContext& c) {
  const Shape out = infer(c);
  const Geometry g(c.in[0], c.in[1], c.attrs);
  return g.keep ? Shape{out[0], out[1], out[2], g.K} : Shape{0};
}

// One columns buffer per partial, [kPartials, tile·Ho·Wo·K (rounded up)], in which the tile's
// columns are built and backward then overwrites them with dL/dcolumns; empty for a pointwise conv,
// whose product reads x itself.
Shape tile_columns_shape(const ShapeContext& c) {
  infer(c);
  const Geometry g(c.in[0], c.in[1], c.attrs);
  return g.pointwise ? Shape{0} : Shape{kPartials, g.stride};
}

constexpr TensorDecl kSaved[] = {{"columns", columns_shape}};
constexpr int columns = index_of(kSaved, "columns");
constexpr TensorDecl kScratch[] = {
    {"tile_columns", tile_columns_shape},
    {"dweight_partials",  // [kPartials·kh·kw·C, F]
     [](const ShapeContext& c) { return Shape{kPartials * c.in[1][0] * c.in[1][1] * c.in[1][2], c.in[1][3]}; },
     ScratchPass::backward},
    {"dbias_partials",  // [kPartials, F], empty without a bias
     [](const ShapeContext& c) { return c.in.size() > 2 ? Shape{kPartials, c.in[1][3]} : Shape{0}; }, ScratchPass::backward},
};
constexpr int tile_columns = index_of(kScratch, "tile_columns");
constexpr int dweight_partials = index_of(kScratch, "dweight_partials"), dbias_partials = index_of(kScratch, "dbias_partials");

// Partials per thread, at least: a part below ~1 MFLOP costs more to hand over than it saves
// (as matmul's grain, ops/matmul.cpp).
int64_t grain(double flops_per_piece) {
  return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(int64_t{1} << 20) / std::max(1.0, flops_per_piece)));
}

// im2col of images [b0, b1) into `cols` (its first row is image b0's first output pixel): row
// (b, i, j) is the patch under output pixel (i, j),
//   cols[(b,i,j), (dy,dx,c)] = xpad[b, i·sh − ph + dy, j·sw − pw + dx, c]   (0 in the padding).
// For one dy the kw·C entries are one contiguous run of x (dx, c row-major), cut where the
// padding begins: one copy and at most two zero fills per kernel row.
template <class T>
void im2col_runs(const Geometry& g, const T* x, T* cols, int64_t b0, int64_t b1) {
  const int64_t run = g.kw * g.C;
  T* dst = cols;
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t i = 0; i < g.Ho; ++i)
      for (int64_t j = 0; j < g.Wo; ++j, dst += g.K) {
        const int64_t x0 = j * g.sw - g.pw;
        const int64_t lo = std::clamp<int64_t>(-x0, 0, g.kw), hi = std::clamp<int64_t>(g.W - x0, lo, g.kw);  // dx in [lo, hi) inside
        for (int64_t dy = 0; dy < g.kh; ++dy) {
          T* d = dst + dy * run;
          const int64_t y = i * g.sh - g.ph + dy;
          if (y < 0 || y >= g.H) {
            std::fill_n(d, run, T(0));
            continue;
          }
          std::fill_n(d, lo * g.C, T(0));
          std::copy_n(x + ((b * g.H + y) * g.W + x0 + lo) * g.C, (hi - lo) * g.C, d + lo * g.C);
          std::fill_n(d + hi * g.C, (g.kw - hi) * g.C, T(0));
        }
      }
}

// The same for one channel, column by column: for each (dy, dx) one strided loop along the output
// row, cols[(b,i,j), (dy,dx)] = x[b, y, j·sw − pw + dx] for the j inside, instead of kh runs of kw
// elements per pixel. NOTE: measured alone on the 28x28x1 3x3 conv (batch 32, geometry not known to
// the compiler), im2col_runs took 0.25–0.29 ms, this 0.11 ms; with 32 channels it is the other way
// round (0.32 against 0.38 ms), so it is used for C = 1 only.
template <class T>
void im2col_one_channel(const Geometry& g, const T* x, T* cols, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t i = 0; i < g.Ho; ++i) {
      T* row = cols + ((b - b0) * g.pixels + i * g.Wo) * g.K;  // the patches of output row i
      for (int64_t dy = 0; dy < g.kh; ++dy) {
        const int64_t y = i * g.sh - g.ph + dy;
        for (int64_t dx = 0; dx < g.kw; ++dx) {
          T* d = row + dy * g.kw + dx;
          // x = j·sw − off lies in [0, W) for j in [j0, j1).
          const int64_t off = g.pw - dx;
          int64_t j0 = std::min(g.Wo, off > 0 ? (off + g.sw - 1) / g.sw : 0);
          int64_t j1 = std::clamp<int64_t>(g.W + off > 0 ? (g.W + off - 1) / g.sw + 1 : 0, j0, g.Wo);
          if (y < 0 || y >= g.H) j0 = j1 = g.Wo;  // the whole kernel row is in the padding
          for (int64_t j = 0; j < j0; ++j) d[j * g.K] = T(0);
          if (j1 > j0) {
            const T* s = x + (b * g.H + y) * g.W + j0 * g.sw - off;
            for (int64_t j = j0; j < j1; ++j) d[j * g.K] = s[(j - j0) * g.sw];
          }
          for (int64_t j = j1; j < g.Wo; ++j) d[j * g.K] = T(0);
        }
      }
    }
}

template <class T>
void im2col(const Geometry& g, const T* x, T* cols, int64_t b0, int64_t b1) {
  if (g.C == 1) im2col_one_channel(g, x, cols, b0, b1); else im2col_runs(g, x, cols, b0, b1);
}

// col2im of images [b0, b1) (`dcols` starts at image b0), the adjoint of im2col: every entry of a
// patch is added back to the input element it was copied from (padding entries are dropped). dx is
// zeroed first unless another consumer already wrote it (accumulate).
template <class T>
void col2im(const Geometry& g, const T* dcols, T* dx, bool accumulate, int64_t b0, int64_t b1) {
  const int64_t run = g.kw * g.C;
  if (!accumulate) std::fill_n(dx + b0 * g.H * g.W * g.C, (b1 - b0) * g.H * g.W * g.C, T(0));
  const T* src = dcols;
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t i = 0; i < g.Ho; ++i)
      for (int64_t j = 0; j < g.Wo; ++j, src += g.K) {
        const int64_t x0 = j * g.sw - g.pw;
        const int64_t lo = std::clamp<int64_t>(-x0, 0, g.kw), hi = std::clamp<int64_t>(g.W - x0, lo, g.kw);
        for (int64_t dy = 0; dy < g.kh; ++dy) {
          const int64_t y = i * g.sh - g.ph + dy;
          if (y < 0 || y >= g.H) continue;
          const T* s = src + dy * run + lo * g.C;
          T* d = dx + ((b * g.H + y) * g.W + x0 + lo) * g.C;
          for (int64_t k = 0, n = (hi - lo) * g.C; k < n; ++k) d[k] += s[k];
        }
      }
}

template <class T>
using RowMat = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <class T>
using ConstRowMat = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <class T>
using RowVec = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;

template <class Dst, class Lhs, class Rhs>
void product(bool accumulate, Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  if (accumulate) dst.noalias() += lhs * rhs; else dst.noalias() = lhs * rhs;
}

// out = columns · weight (+ bias): [B·Ho·Wo, K]·[K, F] → [B·Ho·Wo, F], with
//   columns[(b,i,j), (dy,dx,c)] = xpad[b, i·sh + dy, j·sw + dx, c]   (xpad: x with ph, pw zeros around)
// so that out[b,i,j,f] = bias[f] + Σ_{dy,dx,c} xpad[b, i·sh + dy, j·sw + dx, c] · weight[dy,dx,c,f].
// Tile by tile: its rows of columns are built in its partial's buffer and multiplied while they are
// in cache, into output rows that start as the bias. Every tile is one product of a fixed size,
// whichever thread computes it, so the result does not depend on the thread count.
template <class T>
void forward(const ForwardArgs<T>& a) {
  const Geometry g(a.in_shapes[0], a.in_shapes[1], a.attrs);
  const bool has_bias = a.in.size() > 2;
  const auto w = a.in[1].mat();  // [K, F]
  const auto x = a.in[0].mat();  // [B·H·W, C]: the columns of a pointwise conv
  auto out = a.out.mat();        // [B·Ho·Wo, F]
  const double flops = 2.0 * static_cast<double>(g.B * g.pixels * g.K * g.F) / static_cast<double>(std::max<int64_t>(1, g.parts));
  parallel_for(a.pool, g.parts, grain(flops), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t t = g.first_tile(p); t < g.first_tile(p + 1); ++t) {
        const int64_t b0 = g.first_image(t), b1 = g.end_image(t);
        const int64_t r0 = b0 * g.pixels, n = (b1 - b0) * g.pixels;
        T* buf = g.pointwise ? nullptr : g.keep ? a.saved[columns].data + r0 * g.K : a.scratch[tile_columns].data + p * g.stride;
        auto o = out.middleRows(r0, n);
        if (has_bias)  // row by row: Eigen's replicate() indexes every coefficient modulo F (25% of a CNN epoch)
          for (int64_t r = 0; r < n; ++r) o.row(r) = a.in[2].row();
        if (g.pointwise) {
          product(has_bias, o, x.middleRows(r0, n), w);
          continue;
        }
        im2col(g, a.in[0].data, buf, b0, b1);
        product(has_bias, o, RowMat<T>(buf, n, g.K), w);
      }
    }
  });
}

// Backward, with G = dL/dout as a [B·Ho·Wo, F] matrix and out = Col · Wt + 1·biasᵀ (Col the
// columns, Wt the weight as a [K, F] matrix, 1 a column of ones):
//   dL/dWt[k,f] = Σ_r G[r,f] · ∂out[r,f]/∂Wt[k,f] = Σ_r Col[r,k] · G[r,f]      → dWt = Colᵀ · G
//   dL/dbias[f] = Σ_r G[r,f] · ∂out[r,f]/∂bias[f] = Σ_r G[r,f]                 → dbias = Gᵀ · 1
//   dL/dCol[r,k] = Σ_f G[r,f] · ∂out[r,f]/∂Col[r,k] = Σ_f G[r,f] · Wt[k,f]    → dCol = G · Wtᵀ
// Col[r,k] is a copy of one input element x[b, i·sh − ph + dy, j·sw − pw + dx, c] (or the constant 0
// of the padding), and one x element is copied into every patch that covers it, so by the chain rule
//   dL/dx[b,y,x,c] = Σ over the entries (r,k) of Col that copy x[b,y,x,c] of dCol[r,k]
// which is col2im: each row of dCol scattered back, added, over its patch (padding entries dropped).
// A pointwise conv has Col = x, so dx = G · Wtᵀ directly.
//
// The sums over r run tile by tile (rows of whole images). Per tile: im2col again into the
// partial's buffer (unless forward kept the columns: K ≤ F, columns_shape), the partial's dWt += Colᵀ·G and
// dbias += the rows of G, then dCol = G·Wtᵀ over the same buffer (Col is no longer needed) and
// col2im into the tile's images of dx. Threads take whole partials (no element of dx is written by
// two threads: a tile holds whole images); the partials of dWt and dbias are then added in a fixed
// order (dWt parallel over its rows, each sum in one thread) — the same numbers for any thread
// count. With a single partial its sums go straight into the gradients.
template <class T>
void backward(const BackwardArgs<T>& a) {
  const Geometry g(a.in_shapes[0], a.in_shapes[1], a.attrs);
  const auto w = a.in[1].mat();
  const auto x = a.in[0].mat();
  const auto G = a.grad_out.mat();
  const auto& dx = a.grad_in[0];
  const auto& dw = a.grad_in[1];
  const GradTarget<T> none{};
  const auto& db = a.in.size() > 2 ? a.grad_in[2] : none;
  const bool want_dx = !dx.grad.empty(), want_dw = !dw.grad.empty(), want_db = !db.grad.empty();
  if (g.parts == 0 || !(want_dx || want_dw || want_db)) return;
  const bool direct = g.parts == 1;  // one partial: its sums are the gradients
  const double products = (want_dx ? 1.0 : 0.0) + (want_dw ? 1.0 : 0.0);
  const double flops = 2.0 * products * static_cast<double>(g.B * g.pixels * g.K * g.F) / static_cast<double>(g.parts);

  parallel_for(a.pool, g.parts, grain(flops), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* buf = g.pointwise ? nullptr : a.scratch[tile_columns].data + p * g.stride;
      RowMat<T> dwp(want_dw ? (direct ? dw.grad.data : a.scratch[dweight_partials].data + p * g.K * g.F) : nullptr, g.K, g.F);
      RowVec<T> dbp(want_db ? (direct ? db.grad.data : a.scratch[dbias_partials].data + p * g.F) : nullptr, g.F);
      bool dw_added = direct && dw.accumulate, db_added = direct && db.accumulate;  // add into, or assign
      for (int64_t t = g.first_tile(p); t < g.first_tile(p + 1); ++t) {
        const int64_t b0 = g.first_image(t), b1 = g.end_image(t);
        const int64_t r0 = b0 * g.pixels, n = (b1 - b0) * g.pixels;
        const auto Gt = G.middleRows(r0, n);
        if (want_db) {
          // Row by row, along memory (as bias_add's backward).
          if (!db_added) dbp.setZero();
          for (int64_t r = 0; r < n; ++r) dbp += Gt.row(r);
          db_added = true;
        }
        if (g.pointwise) {
          if (want_dw) product(dw_added, dwp, x.middleRows(r0, n).transpose(), Gt);  // [C,n]·[n,F]
          if (want_dx) product(dx.accumulate, dx.grad.mat().middleRows(r0, n), Gt, w.transpose());
          dw_added = true;
          continue;
        }
        if (want_dw) {
          const T* cols = buf;
          if (g.keep) cols = a.saved[columns].data + r0 * g.K; else im2col(g, a.in[0].data, buf, b0, b1);
          product(dw_added, dwp, ConstRowMat<T>(cols, n, g.K).transpose(), Gt);  // [K,n]·[n,F] → [K,F]
          dw_added = true;
        }
        if (want_dx) {
          RowMat<T>(buf, n, g.K).noalias() = Gt * w.transpose();  // dCol: [n,F]·[F,K] → [n,K]
          col2im(g, buf, dx.grad.data, dx.accumulate, b0, b1);
        }
      }
    }
  });
  if (direct) return;

  if (want_dw) {
    auto d = dw.grad.mat();  // [K, F]
    const auto partial = a.scratch[dweight_partials].mat();  // [kPartials·K, F]
    parallel_for(a.pool, g.K, std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, g.parts * g.F)), [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        auto row = d.row(k);
        if (dw.accumulate) row += partial.row(k); else row = partial.row(k);
        for (int64_t p = 1; p < g.parts; ++p) row += partial.row(p * g.K + k);
      }
    });
  }
  if (want_db) {
    auto d = db.grad.row();
    const auto partial = a.scratch[dbias_partials].mat();  // [kPartials, F]
    if (db.accumulate) d += partial.row(0); else d = partial.row(0);
    for (int64_t p = 1; p < g.parts; ++p) d += partial.row(p);
  }
}

// Stride 2 and padding 1 on a non-square image ([B,5,4,2] → [B,3,2,3]), with a bias. The small
// weights keep the checked sum small: the op is linear, so the finite differences' only error is
// rounding, about 1e-16·|sum|/step (with unit-variance weights it reached 1.3e-6 of the 1e-6
// tolerance).
Var example(Graph& g) {
  auto x = g.input("x", {batch, 5, 4, 2});
  auto w = g.parameter("w", {3, 3, 2, 3}, Init::normal(0.1));
  auto b = g.parameter("b", {3}, Init::normal(0.1));
  return conv2d(x, w, b, "conv", {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1});
}

}  // namespace

const OpInfo conv2d_op = {
    .name = "conv2d",
    .inputs = {{"x"}, {"weight"}, {.name = "bias", .optional = true}},
    .attrs = kAttrs,
    .saved = kSaved,
    .scratch = kScratch,
    .infer = infer,
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
    .example = example,
};

namespace {
std::vector<std::pair<std::string, double>> attrs_of(const Conv2dOptions& o) {
  return {{"stride_h", static_cast<double>(o.stride_h)},
          {"stride_w", static_cast<double>(o.stride_w)},
          {"pad_h", static_cast<double>(o.pad_h)},
          {"pad_w", static_cast<double>(o.pad_w)}};
}
}  // namespace

Var conv2d(Var x, Var weight, const std::string& name, Conv2dOptions o) {
  return x.graph->op(conv2d_op, {x, weight}, name.empty() ? x.graph->unique_name("conv2d") : name, attrs_of(o));
}

Var conv2d(Var x, Var weight, Var bias, const std::string& name, Conv2dOptions o) {
  return x.graph->op(conv2d_op, {x, weight, bias}, name.empty() ? x.graph->unique_name("conv2d") : name, attrs_of(o));
}

}  // namespace bnlab
