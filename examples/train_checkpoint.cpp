// Trains a preset model with bnlab::Trainer and saves a checkpoint after every epoch — what
// `bnlab train --checkpoint` does, as a library user writes it.
//   train_checkpoint OUT.safetensors [epochs]        (default 2; synthetic data, no download needed)
// Then: predict_from_checkpoint OUT.safetensors
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "data/registry.hpp"
#include "models/presets.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: train_checkpoint OUT.safetensors [epochs]\n");
    return 2;
  }
  try {
    const bnlab::data::LoadOptions load{.seed = 0};
    const bnlab::data::Splits data = bnlab::data::load("synthetic", load);

    // dense → relu → batch norm, per hidden layer
    const bnlab::ModelSpec spec =
        bnlab::preset_spec("batchnorm", data.train.feature_count, data.train.num_classes, {.hidden = {{32, 16}}});
    bnlab::TrainConfig config;                                  // Adam 1e-3, batch 32, seed 0
    config.dataset = "synthetic";
    config.epochs = argc > 2 ? std::atoi(argv[2]) : 2;

    bnlab::Trainer trainer(spec, config, data);
    std::vector<bnlab::EpochMetrics> history;
    while (trainer.epoch() < config.epochs) {
      history.push_back(trainer.train_epoch());
      bnlab::save_checkpoint(argv[1], trainer, history, load);  // atomic: a crash never leaves half a file
      std::printf("epoch %d  train loss %.4f  val acc %.4f  → %s\n", history.back().epoch, history.back().train_loss,
                  history.back().val_acc, argv[1]);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_checkpoint: %s\n", e.what());
    return 1;
  }
}
