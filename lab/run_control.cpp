#include "lab/run_control.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "lab/metrics_csv.hpp"
#include "lab/metrics_json.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::lab {

namespace {

void copy_store(std::vector<float>& dst, const TensorStore<float>& src) { dst.assign(src.data.begin(), src.data.end()); }
void copy_back(TensorStore<float>& dst, const std::vector<float>& src) {
  // In place: sessions hold views into these buffers.
  std::copy(src.begin(), src.end(), dst.data.begin());
}

}  // namespace

void TrainerSnapshot::take(const Trainer& t) {
  copy_store(parameters_, t.session().parameters());
  copy_store(state_, t.session().state());
  copy_store(first_, t.optimizer().first_moment());
  copy_store(second_, t.optimizer().second_moment());
  steps_ = t.optimizer().steps();
  epoch_ = t.epoch();
}

void TrainerSnapshot::restore(Trainer& t) const {
  copy_back(t.session().parameters(), parameters_);
  copy_back(t.session().state(), state_);
  copy_back(t.optimizer().first_moment(), first_);
  copy_back(t.optimizer().second_moment(), second_);
  t.optimizer().set_steps(steps_);
  t.set_epoch(epoch_);
}

data::LoadOptions checkpoint_load_options(const Checkpoint& ckpt) {
  if (ckpt.data) return *ckpt.data;
  data::LoadOptions o;
  o.seed = ckpt.config.seed;
  return o;
}

nlohmann::ordered_json data_config(const data::LoadOptions& o) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  visit_fields(o, [&](const FieldInfo& f, const auto& value) {
    if (f.metrics) j[f.metrics] = value;
  });
  return j;
}

void write_interrupted_outputs(const OutputPaths& paths, const std::string& command, const std::vector<RunRecord>& runs,
                               const nlohmann::ordered_json& extra_config, const nlohmann::ordered_json& interrupted,
                               DocumentExtras extras) {
  extras.top["interrupted"] = interrupted;
  write_outputs(paths, command, runs, extra_config, extras);
}

}  // namespace bnlab::lab
