#include "ops/registry.hpp"

#include "ops/add.hpp"
#include "ops/avg_pool2d.hpp"
#include "ops/batch_norm.hpp"
#include "ops/bias_add.hpp"
#include "ops/conv2d.hpp"
#include "ops/dropout.hpp"
#include "ops/group_norm.hpp"
#include "ops/global_avg_pool.hpp"
#include "ops/layer_norm.hpp"
#include "ops/matmul.hpp"
#include "ops/max_pool2d.hpp"
#include "ops/relu.hpp"
#include "ops/reshape.hpp"
#include "ops/sigmoid.hpp"
#include "ops/softmax_cross_entropy.hpp"
#include "ops/tanh.hpp"

namespace bnlab {

std::span<const OpInfo* const> all_ops() {
  static const OpInfo* const ops[] = {&add_op,        &matmul_op,   &bias_add_op,
                                      &relu_op,       &tanh_op,     &sigmoid_op,
                                      &softmax_cross_entropy_op, &batch_norm_op, &layer_norm_op,
                                      &conv2d_op,     &max_pool2d_op, &avg_pool2d_op,
                                      &global_avg_pool_op, &reshape_op, &group_norm_op,
                                      &dropout_op};
  return ops;
}

}  // namespace bnlab
