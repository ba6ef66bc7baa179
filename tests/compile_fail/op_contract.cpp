// The op contract's compile-time guarantees (graph/op.hpp), one per CASE: each case must fail to
// compile with the error named in tests/CMakeLists.txt; CASE 0 is the same op written correctly and
// must compile, so the failures are the ones intended and not a broken file.
#include "graph/graph.hpp"

using namespace bnlab;

namespace {

constexpr AttrDecl kAttrs[] = {{"eps", 1e-5}, {"momentum", 0.1}};
constexpr TensorDecl kSaved[] = {{"x_sq", [](const ShapeContext& c) { return c.in[0]; }}};
#if CASE == 6
constexpr TensorDecl kTwice[] = {{"t", kSaved[0].shape}, {"t", kSaved[0].shape}};
constexpr int twice = index_of(kTwice, "t");  // a name declared twice
#endif

template <class T>
void forward(const ForwardArgs<T>& a) {
#if CASE == 1
  constexpr int eps = index_of(kAttrs, "epsilon");  // a name the op does not declare
#else
  constexpr int eps = index_of(kAttrs, "eps");
#endif
#if CASE == 2
  a.in[0].vec() = a.out.vec();  // writing an input
#endif
  a.saved[index_of(kSaved, "x_sq")].vec() = a.in[0].vec().square();
  a.out.vec() = a.in[0].vec() * static_cast<T>(a.attrs[eps]);
}

template <class T>
void backward(const BackwardArgs<T>& a) {
#if CASE == 4
  a.saved[0].vec().setZero();  // writing a saved tensor in backward
#endif
  a.grad_in[0].grad.vec() = a.grad_out.vec() * static_cast<T>(a.attrs[index_of(kAttrs, "eps")]);
}

Shape infer(const ShapeContext& c) { return c.in[0]; }

}  // namespace

const OpInfo scale_op = {
    .name = "scale",
    .inputs = {{"x"}},
    .attrs = kAttrs,
    .saved = kSaved,
    .infer = infer,
#if CASE == 3
    .f32 = {forward<float>, backward<float>},  // no double kernels
#elif CASE == 5
    .f32 = {forward<float>, backward<float>},
    .f64 = {nullptr, nullptr},  // null kernels
#else
    .f32 = {forward<float>, backward<float>},
    .f64 = {forward<double>, backward<double>},
#endif
};
