// The CNN family: the reference convolutional network of the CNN experiments and the layer list
// it makes. The presets "cnn-plain" and "cnn-batchnorm" (models/presets.hpp) are values of it;
// train/ and lab/ see only the ModelSpec.
//
//   bnlab::CnnSpec spec = bnlab::CnnSpec::preset("cnn-batchnorm");
//   spec.input_shape = {32, 32, 3};                          // CIFAR-10
//   bnlab::Model m = bnlab::build_model(spec.model_spec());
//
// Block i (1-based) of `filters` is: conv2d "conv<i>" 3×3, padding 1 (same), with bias →
// [norm "bn<i>" if before] → activation "act<i>" → [norm if after] → max_pool2d "pool<i>" 2×2,
// stride 2. Then flatten "flatten", and hidden dense layers "fc<j>" as in the MLP family (j counts
// on from the blocks: with two blocks the first dense layer is "fc3"), then dense "out".
// Normalization on an image is batch norm per channel (BatchNorm2d), or for Norm::layer group norm
// with one group (layer norm over H, W and C). What enters each activation is probed as
// "conv<i>" / "fc<j>".
//
// The reference model (the CNN issue, as careful PyTorch and Keras implementations write it):
//   conv 3×3×32 → [BN] → ReLU → max-pool 2×2 → conv 3×3×64 → [BN] → ReLU → max-pool 2×2 →
//   flatten (3136 for 28×28×1) → dense 128 → [BN] → ReLU → dense 10
// with batch norm between the linear op and its ReLU (placement before the activation), PyTorch's
// momentum 0.1 and eps 1e-5, a bias on every conv and dense layer, Glorot-uniform weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/initializer.hpp"
#include "models/layer_style.hpp"
#include "models/model_spec.hpp"
#include "models/presets.hpp"
#include "ops/batch_norm.hpp"

namespace bnlab {

// The sizes here; the activation, the norm and where it sits (between the linear op and its
// activation unless refined), the initializer, … in LayerStyle.
struct CnnSpec : LayerStyle {
  std::vector<int64_t> input_shape = {28, 28, 1};  // [H,W,C]
  std::vector<int64_t> filters = {32, 64};         // one conv block per entry
  std::vector<int64_t> hidden = {128};             // dense layers after the flatten
  int64_t classes = 10;

  CnnSpec() { placement = NormPlacement::before_activation; }

  // "cnn-plain" or "cnn-batchnorm".
  static CnnSpec preset(const std::string& name);
  static bool is_preset(const std::string& name);
  // The layer list, validated (ModelSpec::validate names the layer that does not fit, e.g. an
  // image too small for the pools), with the family's parameters as its recipe.
  ModelSpec model_spec() const;
  // This spec refined by `options` (the fields they set; `hidden` refines the dense layers).
  CnnSpec refined(const ModelOptions& options) const;
};

}  // namespace bnlab
