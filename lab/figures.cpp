#include "lab/figures.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "lab/run_stats.hpp"
#include "lab/sweep_summary.hpp"

namespace bnlab::lab {

namespace {

std::vector<double> epoch_numbers(const RunRecord& run, EpochMetric k) {
  std::vector<double> v;
  for (const EpochMetrics& e : run.epochs) v.push_back(value_of(e, k));
  return v;
}

std::vector<double> epoch_index(const RunRecord& run) {
  std::vector<double> v;
  for (const EpochMetrics& e : run.epochs) v.push_back(static_cast<double>(e.epoch));
  return v;
}

// Layer names in the order the first epoch lists them.
std::vector<std::string> layer_names(const RunRecord& run) {
  std::vector<std::string> names;
  if (!run.epochs.empty())
    for (const LayerStats& l : run.epochs.front().layers) names.push_back(l.layer);
  return names;
}

// Per epoch: `layer`'s mean (or std), NaN in an epoch without it (the last entry of that name wins).
std::vector<double> layer_values(const RunRecord& run, const std::string& layer, double LayerStats::*field) {
  std::vector<double> v;
  for (const EpochMetrics& e : run.epochs) {
    double x = std::nan("");
    for (const LayerStats& l : e.layers)
      if (l.layer == layer) x = l.*field;
    v.push_back(x);
  }
  return v;
}

std::vector<double> grad_values(const RunRecord& run, const std::string& parameter) {
  std::vector<double> v;
  for (const EpochMetrics& e : run.epochs) {
    double x = std::nan("");
    for (const GradNorm& g : e.grad_norms)
      if (g.parameter == parameter) x = g.mean_norm;
    v.push_back(x);
  }
  return v;
}

std::vector<Figure> sweep_figures(const json& doc, const std::vector<RunRecord>& runs) {
  const std::string spread = seeds_note(seed_count(runs));
  const double threshold = doc.contains("sweep") ? doc["sweep"].value("threshold", 0.85) : 0.85;
  const std::vector<SweepRow> rows = sweep_summary(runs, threshold);
  std::vector<std::string> variants;
  for (const SweepRow& r : rows)
    if (std::find(variants.begin(), variants.end(), r.variant) == variants.end()) variants.push_back(r.variant);

  Figure acc{.name = "sweep-accuracy", .title = "Sweep: final accuracy against batch size (" + spread + ")"};
  acc.caption = "Final validation accuracy and test accuracy of each variant at each batch size.";
  Panel val{.title = "validation accuracy (last epoch)", .xlabel = "batch size", .ylabel = "accuracy", .logx = 2, .key = "below"};
  Panel test{.title = "test accuracy", .xlabel = "batch size", .ylabel = "accuracy", .logx = 2, .key = "below"};
  Figure time{.name = "sweep-time", .title = "Sweep: time and convergence against batch size (" + spread + ")"};
  time.caption = fmt::format("Training seconds per epoch, and the first epoch at which validation accuracy reached {}.", threshold);
  Panel sec{.title = "seconds per epoch (training steps only)", .xlabel = "batch size", .ylabel = "seconds", .logx = 2, .logy = true,
            .key = "below"};
  Panel reach{.title = fmt::format("first epoch with val acc >= {} (seeds that reached it)", threshold), .xlabel = "batch size",
              .ylabel = "epoch", .logx = 2, .key = "below"};
  for (size_t v = 0; v < variants.size(); ++v) {
    std::vector<double> x, va, ve, ta, te, s, se, r, re;
    for (const SweepRow& row : rows) {
      if (row.variant != variants[v]) continue;
      x.push_back(static_cast<double>(row.batch_size));
      va.push_back(row.val_acc.mean), ve.push_back(row.val_acc.std);
      ta.push_back(row.test_acc.mean), te.push_back(row.test_acc.std);
      s.push_back(row.epoch_seconds.mean), se.push_back(row.epoch_seconds.std);
      r.push_back(row.threshold_epoch.mean), re.push_back(row.threshold_epoch.std);
    }
    const int color = static_cast<int>(v);
    val.series.push_back(make_series(variants[v], x, va, ve, color));
    test.series.push_back(make_series(variants[v], x, ta, te, color));
    sec.series.push_back(make_series(variants[v], x, s, se, color));
    reach.series.push_back(make_series(variants[v], x, r, re, color));
  }
  acc.panels = {val, test};
  time.panels = {sec, reach};

  // Validation curves per variant, one series per batch size, mean over seeds (no error bars: a
  // panel holds six batch sizes).
  const size_t seeds = seed_count(runs);
  Figure curves{.name = "sweep-curves", .title = seeds >= 2 ? fmt::format("Sweep: validation accuracy per epoch (mean over {} seeds)", seeds)
                                                            : std::string("Sweep: validation accuracy per epoch (one seed)")};
  curves.caption = "One panel per variant, one line per batch size.";
  for (const std::string& variant : variants) {
    Panel p{.title = variant, .xlabel = "epoch", .ylabel = "validation accuracy", .key = "below"};
    int color = 0;
    for (const SweepRow& row : rows) {
      if (row.variant != variant) continue;
      std::vector<std::vector<double>> per_seed;
      size_t epochs = 0;
      for (const RunRecord& r : runs)
        if (r.config.model == variant && r.config.batch_size == row.batch_size) {
          per_seed.push_back(epoch_numbers(r, EpochMetric::val_acc));
          epochs = std::max(epochs, per_seed.back().size());
        }
      std::vector<double> x, y;
      for (size_t e = 0; e < epochs; ++e) {
        std::vector<double> v;
        for (const auto& s : per_seed)
          if (e < s.size()) v.push_back(s[e]);
        x.push_back(static_cast<double>(e + 1));
        y.push_back(mean_std(v).mean);
      }
      p.series.push_back(make_series(fmt::format("batch {}", row.batch_size), x, y, {}, color++));
    }
    curves.panels.push_back(std::move(p));
  }
  std::vector<Figure> figs = {acc, time, curves};

  // Internals of the first seed at batch size 32 (or the first batch size).
  std::optional<uint64_t> seed;
  int64_t batch = rows.empty() ? 0 : rows.front().batch_size;
  for (const SweepRow& r : rows)
    if (r.batch_size == 32) batch = 32;
  std::vector<const RunRecord*> chosen;
  for (const RunRecord& r : runs) {
    if (r.config.batch_size != batch) continue;
    const uint64_t s = r.config.seed;
    if (!seed) seed = s;
    if (s == *seed) chosen.push_back(&r);
  }
  if (auto f = layers_figure("sweep-layers", fmt::format("Inside the network: batch size {}, seed {}", batch, seed.value_or(0)), chosen))
    figs.push_back(*f);
  return figs;
}

std::vector<Figure> study_figures(const json& doc, const std::vector<RunRecord>& runs) {
  std::vector<Figure> figs;
  const json& study = doc["study"];
  for (const json& item : study.value("items", json::array()))
    if (item.contains("figure")) figs.push_back(figure_from_json(item["figure"]));
  // The reference runs of the first seed: their curves and internals.
  std::vector<const RunRecord*> ref;
  std::optional<uint64_t> seed;
  for (const RunRecord& r : runs) {
    if (r.name.rfind("ref-", 0) != 0) continue;
    const uint64_t s = r.config.seed;
    if (!seed) seed = s;
    if (s == *seed) ref.push_back(&r);
  }
  if (!ref.empty()) {
    figs.push_back(curves_figure("study-curves", fmt::format("Reference runs (seed {}): loss and accuracy", *seed), ref));
    if (auto f = layers_figure("study-layers", fmt::format("Reference runs (seed {}): inside the network", *seed), ref))
      figs.push_back(*f);
  }
  return figs;
}

}  // namespace

size_t seed_count(const std::vector<RunRecord>& runs) {
  std::set<uint64_t> seeds;
  for (const RunRecord& r : runs) seeds.insert(r.config.seed);
  return seeds.size();
}

Figure curves_figure(const std::string& name, const std::string& title, const std::vector<const RunRecord*>& runs) {
  Figure f{.name = name, .title = title};
  f.caption = "Training (dashed: running average over the epoch, train mode) and validation (solid: eval mode after the epoch).";
  Panel loss{.title = "loss", .xlabel = "epoch", .ylabel = "cross-entropy (nats)", .key = "below"};
  Panel acc{.title = "accuracy", .xlabel = "epoch", .ylabel = "accuracy", .key = "below"};
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = *runs[i];
    const std::vector<double> x = epoch_index(r);
    const int color = static_cast<int>(i);
    loss.series.push_back(make_series(r.name + " train", x, epoch_numbers(r, EpochMetric::train_loss), {}, color, true));
    loss.series.push_back(make_series(r.name + " val", x, epoch_numbers(r, EpochMetric::val_loss), {}, color));
    acc.series.push_back(make_series(r.name + " train", x, epoch_numbers(r, EpochMetric::train_acc), {}, color, true));
    acc.series.push_back(make_series(r.name + " val", x, epoch_numbers(r, EpochMetric::val_acc), {}, color));
  }
  f.panels = {loss, acc};
  return f;
}

std::optional<Figure> layers_figure(const std::string& name, const std::string& title, const std::vector<const RunRecord*>& runs) {
  Figure f{.name = name, .title = title, .columns = 3};
  f.caption = "Per hidden layer, over each epoch's training steps: mean and standard deviation of the pre-activation values "
              "(what enters the activation function), and the mean L2 norm of each weight's gradient.";
  for (const RunRecord* r : runs) {
    const std::vector<std::string> layers = layer_names(*r);
    if (layers.empty()) continue;
    const std::vector<double> x = epoch_index(*r);
    Panel mean{.title = r->name + ": pre-activation mean", .xlabel = "epoch", .ylabel = "mean", .key = "below"};
    Panel sd{.title = r->name + ": pre-activation std", .xlabel = "epoch", .ylabel = "std", .key = "below"};
    Panel grad{.title = r->name + ": weight gradient norm", .xlabel = "epoch", .ylabel = "L2 norm", .logy = true, .key = "below"};
    // Many layers (deep models) would crowd the key: name them in the key only up to eight.
    for (size_t l = 0; l < layers.size(); ++l) {
      const int color = static_cast<int>(l);
      mean.series.push_back(make_series(layers[l], x, layer_values(*r, layers[l], &LayerStats::mean), {}, color));
      sd.series.push_back(make_series(layers[l], x, layer_values(*r, layers[l], &LayerStats::std), {}, color));
      grad.series.push_back(make_series(layers[l] + ".weight", x, grad_values(*r, layers[l] + ".weight"), {}, color));
    }
    grad.series.push_back(make_series("out.weight", x, grad_values(*r, "out.weight"), {}, static_cast<int>(layers.size()), true));
    if (layers.size() > 8) mean.key = sd.key = grad.key = "off";
    f.panels.push_back(std::move(mean));
    f.panels.push_back(std::move(sd));
    f.panels.push_back(std::move(grad));
  }
  if (f.panels.empty()) return std::nullopt;
  return f;
}

std::vector<Figure> document_figures(const json& doc, const std::vector<RunRecord>& runs) {
  const std::string command = doc.value("command", std::string());
  if (command == "study" && doc.contains("study")) return study_figures(doc, runs);
  if (command == "sweep") return sweep_figures(doc, runs);
  std::vector<Figure> figs;
  std::vector<const RunRecord*> all;
  for (const RunRecord& r : runs) all.push_back(&r);
  if (all.empty()) return figs;
  figs.push_back(curves_figure("curves", fmt::format("{}: loss and accuracy per epoch", command.empty() ? "runs" : command), all));
  if (auto f = layers_figure("layers", "Inside the network, per epoch", all)) figs.push_back(*f);
  return figs;
}

}  // namespace bnlab::lab
