// Layers: the op helpers that also create their parameters, built only through the public graph API.
//
//   auto h = bnlab::dense(x, 128, "fc1");                    // fc1.weight [784,128], fc1.bias [128]
//   h = bnlab::batch_norm_layer(bnlab::relu(h), "bn1");      // bn1.gamma = 1, bn1.beta = 0 [128]
//   h = bnlab::layer_norm_layer(h, "ln1");
//   c = bnlab::group_norm_layer(conv, 8, "gn1");              // gn1.gamma = 1, gn1.beta = 0 [C]
#pragma once

#include <string>

#include "graph/graph.hpp"
#include "ops/batch_norm.hpp"

namespace bnlab {

struct DenseOptions {
  Init::Kind init = Init::Kind::glorot_uniform;
  double weight_scale = 1.0;  // multiplies the drawn weights (initialization-sensitivity studies)
  bool bias = true;
};

// x [B,in] → [B,units]: x·weight + bias. Biases start at zero, except with torch_default, where they
// are drawn like PyTorch's nn.Linear bias.
Var dense(Var x, int64_t units, const std::string& name, DenseOptions options = {});
// x [B,H,W,C] → [B,H',W',filters]: conv2d with weight [kh,kw,C,filters] (fan-in kh·kw·C, fan-out
// kh·kw·filters for the initializers) + bias [filters], zero unless torch_default, added by the conv
// op itself; the conv node is named `name`.
struct Conv2dLayer {
  int64_t filters = 0;
  int64_t kernel_h = 3, kernel_w = 3;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
};
Var conv2d_layer(Var x, const Conv2dLayer& conv, const std::string& name, DenseOptions options = {});
Var batch_norm_layer(Var x, const std::string& name, BatchNormOptions options = {});
Var layer_norm_layer(Var x, const std::string& name, double eps = 1e-5);
// x [B,H,W,C] or [B,C]: group norm over `groups` groups of C/groups channels (ops/group_norm.hpp).
Var group_norm_layer(Var x, int64_t groups, const std::string& name, double eps = 1e-5);

}  // namespace bnlab
