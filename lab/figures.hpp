// Which figures a metrics document gets, built from the document alone (so `bnlab report` can
// redraw any run's figures later):
//   train, compare, …  curves (loss and accuracy, train and validation, per run) and layers
//                      (per hidden layer: pre-activation mean and std, weight-gradient norm, per epoch)
//   sweep              sweep-accuracy, sweep-time (against batch size), sweep-curves, sweep-layers
//   study              study-item<ID> per item (from study.items[].figure), study-curves, study-layers
//
//   std::vector<Figure> figs = document_figures(doc);
//   FigureOutput out = write_figures(dir, figs, gnuplot_available());
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/plots.hpp"

namespace bnlab::lab {

std::vector<Figure> document_figures(const nlohmann::ordered_json& doc);

// The building blocks, for a selection of runs (entries of "runs"): loss/accuracy curves, and the
// per-layer internals (empty when the runs recorded none).
Figure curves_figure(const std::string& name, const std::string& title, const std::vector<const nlohmann::ordered_json*>& runs);
std::optional<Figure> layers_figure(const std::string& name, const std::string& title,
                                    const std::vector<const nlohmann::ordered_json*>& runs);

}  // namespace bnlab::lab
