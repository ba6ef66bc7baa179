// Which figures a metrics document gets, built from the document alone (so `bnlab report` can
// redraw any run's figures later):
//   train, compare, …  curves (loss and accuracy, train and validation, per run) and layers
//                      (per hidden layer: pre-activation mean and std, weight-gradient norm, per epoch)
//   sweep              sweep-accuracy, sweep-time (against batch size), sweep-curves, sweep-layers
//   study              study-item<ID> per item (from study.items[].figure), study-curves, study-layers
//
//   std::vector<Figure> figs = document_figures(doc, records);   // records: the doc's runs, read once
//   FigureOutput out = write_figures(dir, figs, gnuplot_available());
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/plots.hpp"
#include "train/trainer.hpp"

namespace bnlab::lab {

// requires: `runs` are doc["runs"] read back (metrics_json.hpp run_from_json), in order. The rest of
// the document (command, sweep threshold, study items' figures) is read from `doc`.
std::vector<Figure> document_figures(const nlohmann::ordered_json& doc, const std::vector<RunRecord>& runs);

// How many different seeds `runs` were trained with (what their mean ± std is over).
size_t seed_count(const std::vector<RunRecord>& runs);

// The building blocks, for a selection of runs: loss/accuracy curves, and the per-layer internals
// (empty when the runs recorded none).
Figure curves_figure(const std::string& name, const std::string& title, const std::vector<const RunRecord*>& runs);
std::optional<Figure> layers_figure(const std::string& name, const std::string& title, const std::vector<const RunRecord*>& runs);

}  // namespace bnlab::lab
