#include "lab/study_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "lab/plots.hpp"
#include "lab/run_stats.hpp"
#include "lab/study_criteria.hpp"

namespace bnlab::lab {

namespace {

using Runs = std::map<std::string, json>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Colours shared by every study figure: plain blue, batch norm red, layer norm green.
constexpr int kPlainColor = 0, kBnColor = 1, kLnColor = 2;

struct Ctx {
  const StudyContext& study;
  const Runs& runs;
  std::vector<std::string> used;  // run names read, in order

  double chance() const { return 1.0 / static_cast<double>(std::max<int64_t>(study.classes, 1)); }
  const std::vector<uint64_t>& seeds() const { return study.budget.seeds; }

  const json& run(const std::string& name) {
    const auto it = runs.find(name);
    if (it == runs.end()) throw RuntimeError("study: the run '" + name + "' is missing (it should have been trained)");
    if (std::find(used.begin(), used.end(), name) == used.end()) used.push_back(name);
    return it->second;
  }
  // One value per seed.
  std::vector<double> per_seed(const std::function<std::string(uint64_t)>& name, const std::function<double(const json&)>& value) {
    std::vector<double> v;
    for (uint64_t s : seeds()) v.push_back(value(run(name(s))));
    return v;
  }
  MeanStd cell(const std::function<std::string(uint64_t)>& name, const std::function<double(const json&)>& value) {
    return mean_std(per_seed(name, value));
  }
  // Final validation accuracy; a diverged run (or one with no value) counts as chance.
  std::function<double(const json&)> final_acc() const {
    const double c = chance();
    return [c](const json& r) {
      const double a = final_value(r, "val_acc");
      return diverged(r) || !std::isfinite(a) ? c : a;
    };
  }
};

std::string f4(double v) { return std::isfinite(v) ? fmt::format("{:.4f}", v) : std::string("-"); }
std::string ms(const MeanStd& m) { return format_mean_std(m, 4); }
std::string signed4(double v) { return std::isfinite(v) ? fmt::format("{:+.4f}", v) : std::string("-"); }

json row(std::initializer_list<std::string> cells) { return json(std::vector<std::string>(cells)); }

// Mean ± std over seeds of `key` at every epoch of the runs `name(seed)`.
struct Curve {
  std::vector<double> epoch, mean, std;
};
Curve epoch_curve(Ctx& c, const std::function<std::string(uint64_t)>& name, const std::string& key) {
  Curve curve;
  size_t epochs = 0;
  for (uint64_t s : c.seeds()) epochs = std::max(epochs, c.run(name(s))["epochs"].size());
  for (size_t e = 1; e <= epochs; ++e) {
    std::vector<double> v;
    for (uint64_t s : c.seeds()) v.push_back(epoch_value(c.run(name(s)), static_cast<int>(e), key));
    const MeanStd m = mean_std(v);
    curve.epoch.push_back(static_cast<double>(e));
    curve.mean.push_back(m.mean);
    curve.std.push_back(m.std);
  }
  return curve;
}

json item_object(int id, Verdict verdict, double tol, std::string summary, json numbers, const Figure& figure,
                 std::vector<std::string> runs) {
  return {{"id", id},
          {"title", item_title(id)},
          {"claim", claim_text(id)},
          {"criterion", criterion_text(id)},
          {"verdict", to_string(verdict)},
          {"summary", std::move(summary)},
          {"tolerance", std::isfinite(tol) ? json(tol) : json(nullptr)},
          {"numbers", std::move(numbers)},
          {"runs", std::move(runs)},
          {"figure", figure_to_json(figure)}};
}

std::string epochs_text(std::optional<int> e) { return e ? std::to_string(*e) : std::string("never"); }

// ---- 1 ------------------------------------------------------------------------------------------
json item1(Ctx& c) {
  const double T = c.study.threshold;
  json rows = json::array();
  std::vector<ConvergenceSeed> seeds;
  std::vector<double> ep_plain, ep_bn, t_plain, t_bn;
  for (uint64_t s : c.seeds()) {
    const json& p = c.run(reference_run_name("plain", s));
    const json& b = c.run(reference_run_name("batchnorm", s));
    ConvergenceSeed cs;
    cs.epochs_plain = first_epoch_reaching(p, T);
    cs.epochs_bn = first_epoch_reaching(b, T);
    cs.seconds_plain = cs.epochs_plain ? seconds_through_epoch(p, *cs.epochs_plain) : kNaN;
    cs.seconds_bn = cs.epochs_bn ? seconds_through_epoch(b, *cs.epochs_bn) : kNaN;
    seeds.push_back(cs);
    ep_plain.push_back(cs.epochs_plain ? *cs.epochs_plain : kNaN);
    ep_bn.push_back(cs.epochs_bn ? *cs.epochs_bn : kNaN);
    t_plain.push_back(cs.seconds_plain);
    t_bn.push_back(cs.seconds_bn);
    rows.push_back(row({std::to_string(s), epochs_text(cs.epochs_plain), epochs_text(cs.epochs_bn), f4(cs.seconds_plain),
                        f4(cs.seconds_bn), f4(mean_epoch_seconds(p)), f4(mean_epoch_seconds(b))}));
  }
  const MeanStd mep = mean_std(ep_plain), meb = mean_std(ep_bn), mtp = mean_std(t_plain), mtb = mean_std(t_bn);
  const Verdict v = convergence_verdict(seeds);
  rows.push_back(row({"mean", format_mean_std(mep, 2), format_mean_std(meb, 2), format_mean_std(mtp, 2), format_mean_std(mtb, 2),
                      "", ""}));
  std::string summary = fmt::format(
      "val acc >= {}: plain at epoch {} ({}/{} seeds reached it, {} s of training), batchnorm at epoch {} ({}/{}, {} s)", T,
      format_mean_std(mep, 1), mep.n, c.seeds().size(), format_mean_std(mtp, 1), format_mean_std(meb, 1), meb.n,
      c.seeds().size(), format_mean_std(mtb, 1));
  if (mep.n == 0 && meb.n == 0) summary += "; neither reached the threshold, so this says nothing about speed";

  Figure fig;
  fig.name = "study-item1";
  fig.title = "1. Convergence: plain vs batchnorm (mean ± std over seeds)";
  fig.caption = "Validation accuracy per epoch and against training wall time; the dotted line is the threshold.";
  Panel acc{.title = "validation accuracy per epoch", .xlabel = "epoch", .ylabel = "validation accuracy", .key = "below"};
  Panel wall{.title = "validation accuracy vs training time", .xlabel = "training seconds (cumulative)",
             .ylabel = "validation accuracy", .key = "below"};
  acc.hline = wall.hline = T;
  acc.hline_title = wall.hline_title = fmt::format("threshold {}", T);
  for (const auto& [variant, color] : {std::pair<std::string, int>{"plain", kPlainColor}, {"batchnorm", kBnColor}}) {
    const auto name = [&](uint64_t s) { return reference_run_name(variant, s); };
    const Curve va = epoch_curve(c, name, "val_acc");
    const Curve sec = epoch_curve(c, name, "seconds");
    std::vector<double> cumulative;
    double t = 0;
    for (double x : sec.mean) cumulative.push_back(t += x);
    acc.series.push_back(make_series(variant, va.epoch, va.mean, va.std, color));
    wall.series.push_back(make_series(variant, cumulative, va.mean, {}, color));
  }
  fig.panels = {acc, wall};
  json numbers = {{"columns", {"seed", "plain: epoch", "batchnorm: epoch", "plain: s to T", "batchnorm: s to T",
                               "plain: s/epoch", "batchnorm: s/epoch"}},
                  {"rows", rows},
                  {"threshold", T},
                  {"epochs_plain", ep_plain},
                  {"epochs_bn", ep_bn},
                  {"seconds_plain", t_plain},
                  {"seconds_bn", t_bn}};
  for (auto* key : {"epochs_plain", "epochs_bn", "seconds_plain", "seconds_bn"})
    for (auto& x : numbers[key])
      if (!std::isfinite(x.get<double>())) x = nullptr;
  return item_object(1, v, kNaN, summary, numbers, fig, c.used);
}

// ---- 2 ------------------------------------------------------------------------------------------
json item2(Ctx& c) {
  const auto& lrs = c.study.budget.learning_rates;
  json rows = json::array();
  std::vector<LrOutcome> outcomes;
  std::vector<double> stds;
  struct Opt {
    std::string name;
    std::vector<LrCell> plain, bn;
    std::vector<MeanStd> mp, mb;
  };
  std::vector<Opt> opts;
  for (const char* opt : {"sgd", "adam"}) {
    Opt o{opt, {}, {}, {}, {}};
    for (double lr : lrs) {
      for (const auto& [variant, cells, means] :
           {std::tuple<std::string, std::vector<LrCell>*, std::vector<MeanStd>*>{"plain", &o.plain, &o.mp},
            {"batchnorm", &o.bn, &o.mb}}) {
        const auto name = [&, variant = variant](uint64_t s) { return lr_run_name(opt, lr, variant, s); };
        const MeanStd m = c.cell(name, c.final_acc());
        int div = 0;
        for (uint64_t s : c.seeds()) div += diverged(c.run(name(s)));
        cells->push_back({lr, m.mean, div});
        means->push_back(m);
        stds.push_back(m.std);
      }
    }
    opts.push_back(std::move(o));
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const double margin = std::max(kLrMargin, tol);
  json max_good = json::object();
  std::string summary = "largest learning rate that trains well —";
  Figure fig;
  fig.name = "study-item2";
  fig.title = "2. Learning rates: final validation accuracy (diverged runs at chance)";
  fig.caption = "Final validation accuracy against the learning rate; the dotted line is 'trains well' (best − margin).";
  const size_t seeds = c.seeds().size();
  for (const Opt& o : opts) {
    double best = -1;
    for (const auto* cells : {&o.plain, &o.bn})
      for (const LrCell& cell : *cells)
        if (std::isfinite(cell.acc_mean)) best = std::max(best, cell.acc_mean);
    const LrOutcome out{max_good_lr(o.plain, best, margin), max_good_lr(o.bn, best, margin)};
    outcomes.push_back(out);
    max_good[o.name] = {{"plain", out.max_good_plain}, {"batchnorm", out.max_good_bn}, {"best", best}};
    summary += fmt::format(" {}: plain {}, batchnorm {};", o.name, out.max_good_plain > 0 ? fmt::format("{}", out.max_good_plain) : "none",
                           out.max_good_bn > 0 ? fmt::format("{}", out.max_good_bn) : "none");
    Panel p{.title = o.name, .xlabel = "learning rate", .ylabel = "final validation accuracy", .logx = 10, .key = "below"};
    p.hline = best - margin;
    p.hline_title = "trains well above";
    std::vector<double> yp, ep, yb, eb;
    for (size_t i = 0; i < lrs.size(); ++i) {
      rows.push_back(row({o.name, fmt::format("{}", lrs[i]), ms(o.mp[i]), fmt::format("{}/{}", o.plain[i].diverged, seeds),
                          ms(o.mb[i]), fmt::format("{}/{}", o.bn[i].diverged, seeds)}));
      yp.push_back(o.mp[i].mean);
      ep.push_back(o.mp[i].std);
      yb.push_back(o.mb[i].mean);
      eb.push_back(o.mb[i].std);
    }
    p.series.push_back(make_series("plain", lrs, yp, ep, kPlainColor));
    p.series.push_back(make_series("batchnorm", lrs, yb, eb, kBnColor));
    fig.panels.push_back(std::move(p));
  }
  summary.pop_back();
  const Verdict v = learning_rate_verdict(outcomes);
  json numbers = {{"columns", {"optimizer", "lr", "plain: val acc", "plain: diverged", "batchnorm: val acc", "batchnorm: diverged"}},
                  {"rows", rows},
                  {"margin", margin},
                  {"max_good_lr", max_good}};
  return item_object(2, v, tol, summary, numbers, fig, c.used);
}

// ---- 3 ------------------------------------------------------------------------------------------
json item3(Ctx& c) {
  const auto& scales = c.study.budget.weight_scales;
  json rows = json::array();
  std::vector<double> stds;
  std::vector<double> fp, ffp, fb, ffb, efp, effp, efb, effb;  // first/final × plain/bn means, errors
  const double chance = c.chance();
  const auto first_acc = [chance](const json& r) {
    const double a = epoch_value(r, 1, "val_acc");
    return std::isfinite(a) ? a : chance;  // diverged in the first epoch
  };
  for (double scale : scales) {
    const auto np = [&](uint64_t s) { return init_run_name(scale, "plain", s); };
    const auto nb = [&](uint64_t s) { return init_run_name(scale, "batchnorm", s); };
    const MeanStd p1 = c.cell(np, first_acc), pf = c.cell(np, c.final_acc()), b1 = c.cell(nb, first_acc), bf = c.cell(nb, c.final_acc());
    for (const MeanStd* m : {&p1, &pf, &b1, &bf}) stds.push_back(m->std);
    rows.push_back(row({fmt::format("×{}", scale), ms(p1), ms(pf), ms(b1), ms(bf)}));
    fp.push_back(p1.mean), efp.push_back(p1.std), ffp.push_back(pf.mean), effp.push_back(pf.std);
    fb.push_back(b1.mean), efb.push_back(b1.std), ffb.push_back(bf.mean), effb.push_back(bf.std);
  }
  const auto spread = [](const std::vector<double>& v) {
    if (v.empty()) return kNaN;
    return *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end());
  };
  const InitSpread sp{spread(ffp), spread(ffb), spread(fp), spread(fb)};
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = init_verdict(sp, tol);
  rows.push_back(row({"spread (max − min)", f4(sp.first_plain), f4(sp.final_plain), f4(sp.first_bn), f4(sp.final_bn)}));
  const std::string summary = fmt::format(
      "spread of validation accuracy over weight scales {} — after epoch 1: plain {:.4f}, batchnorm {:.4f}; final: plain {:.4f}, "
      "batchnorm {:.4f} (tol {:.4f})",
      fmt::join(scales, "/"), sp.first_plain, sp.first_bn, sp.final_plain, sp.final_bn, tol);
  Figure fig;
  fig.name = "study-item3";
  fig.title = "3. Initialization: validation accuracy vs weight scale (Glorot × scale)";
  fig.caption = "Validation accuracy after the first and after the last epoch, per initial weight scale.";
  Panel first{.title = "after epoch 1", .xlabel = "weight scale", .ylabel = "validation accuracy", .logx = 10, .key = "below"};
  Panel last{.title = "after the last epoch", .xlabel = "weight scale", .ylabel = "validation accuracy", .logx = 10, .key = "below"};
  first.series = {make_series("plain", scales, fp, efp, kPlainColor), make_series("batchnorm", scales, fb, efb, kBnColor)};
  last.series = {make_series("plain", scales, ffp, effp, kPlainColor), make_series("batchnorm", scales, ffb, effb, kBnColor)};
  fig.panels = {first, last};
  json numbers = {{"columns", {"weight scale", "plain: epoch 1", "plain: final", "batchnorm: epoch 1", "batchnorm: final"}},
                  {"rows", rows},
                  {"spread", {{"first_plain", sp.first_plain}, {"first_bn", sp.first_bn}, {"final_plain", sp.final_plain}, {"final_bn", sp.final_bn}}}};
  return item_object(3, v, tol, summary, numbers, fig, c.used);
}

// ---- 4 ------------------------------------------------------------------------------------------
json item4(Ctx& c) {
  const auto& depths = c.study.budget.depths;
  json rows = json::array();
  std::vector<double> stds, ap, ab, ep, eb, x, gp, gb;
  const auto fc1_grad = [](const json& r) {
    // The first layer's mean gradient norm in the first epoch: where vanishing gradients show.
    if (!r.contains("epochs") || r["epochs"].empty()) return kNaN;
    for (const auto& g : r["epochs"][0].value("grad_norms", json::array()))
      if (g.value("parameter", std::string()) == "fc1.weight") return number_or_nan(g, "mean_norm");
    return kNaN;
  };
  for (int d : depths) {
    const auto np = [&](uint64_t s) { return depth_run_name(d, "plain", s); };
    const auto nb = [&](uint64_t s) { return depth_run_name(d, "batchnorm", s); };
    const MeanStd p = c.cell(np, c.final_acc()), b = c.cell(nb, c.final_acc());
    const MeanStd p_grad = c.cell(np, fc1_grad), b_grad = c.cell(nb, fc1_grad);
    stds.push_back(p.std);
    stds.push_back(b.std);
    rows.push_back(row({std::to_string(d), ms(p), ms(b), signed4(b.mean - p.mean), fmt::format("{:.3g}", p_grad.mean),
                        fmt::format("{:.3g}", b_grad.mean)}));
    x.push_back(d), ap.push_back(p.mean), ab.push_back(b.mean), ep.push_back(p.std), eb.push_back(b.std);
    gp.push_back(p_grad.mean), gb.push_back(b_grad.mean);
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = depth_verdict(ap, ab, tol);
  const std::string summary =
      ap.empty() ? std::string("no depths")
                 : fmt::format("final validation accuracy at {} hidden layers: plain {:.4f}, batchnorm {:.4f}; at {}: plain {:.4f}, "
                               "batchnorm {:.4f} (tol {:.4f})",
                               depths.front(), ap.front(), ab.front(), depths.back(), ap.back(), ab.back(), tol);
  Figure fig;
  fig.name = "study-item4";
  fig.title = fmt::format("4. Depth: MLPs with hidden layers of {} units", c.study.budget.depth_width);
  fig.caption = "Final validation accuracy, and the first layer's gradient norm in epoch 1, against the number of hidden layers.";
  Panel acc{.title = "final validation accuracy", .xlabel = "hidden layers", .ylabel = "validation accuracy", .logx = 2, .key = "below"};
  Panel grad{.title = "fc1.weight gradient norm, epoch 1 (mean over steps)", .xlabel = "hidden layers", .ylabel = "L2 norm",
             .logx = 2, .logy = true, .key = "below"};
  acc.series = {make_series("plain", x, ap, ep, kPlainColor), make_series("batchnorm", x, ab, eb, kBnColor)};
  grad.series = {make_series("plain", x, gp, {}, kPlainColor), make_series("batchnorm", x, gb, {}, kBnColor)};
  fig.panels = {acc, grad};
  json numbers = {{"columns", {"hidden layers", "plain: val acc", "batchnorm: val acc", "batchnorm − plain", "plain: fc1 grad",
                               "batchnorm: fc1 grad"}},
                  {"rows", rows}};
  return item_object(4, v, tol, summary, numbers, fig, c.used);
}

// ---- 5 ------------------------------------------------------------------------------------------
json item5(Ctx& c) {
  const auto& batches = c.study.budget.small_batches;
  json rows = json::array();
  std::vector<double> stds, x, gaps;
  std::vector<std::vector<double>> means(3), errs(3);
  const char* variants[] = {"plain", "batchnorm", "layernorm"};
  for (int64_t b : batches) {
    MeanStd m[3];
    for (int i = 0; i < 3; ++i) {
      m[i] = c.cell([&](uint64_t s) { return batch_run_name(b, variants[i], s); }, c.final_acc());
      stds.push_back(m[i].std);
      means[static_cast<size_t>(i)].push_back(m[i].mean);
      errs[static_cast<size_t>(i)].push_back(m[i].std);
    }
    gaps.push_back(m[1].mean - m[0].mean);
    x.push_back(static_cast<double>(b));
    rows.push_back(row({std::to_string(b), ms(m[0]), ms(m[1]), ms(m[2]), signed4(m[1].mean - m[0].mean), signed4(m[2].mean - m[0].mean)}));
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const double gs = gaps.empty() ? kNaN : gaps.front(), gl = gaps.empty() ? kNaN : gaps.back();
  const Verdict v = std::isfinite(gs) && std::isfinite(gl) ? small_batch_verdict(gs, gl, tol) : Verdict::mixed;
  const std::string summary =
      batches.empty() ? std::string("no batch sizes")
                      : fmt::format("batchnorm − none in final validation accuracy: {:+.4f} at batch {}, {:+.4f} at batch {}; "
                                    "layernorm − none: {:+.4f} and {:+.4f} (tol {:.4f})",
                                    gs, batches.front(), gl, batches.back(), means[2].front() - means[0].front(),
                                    means[2].back() - means[0].back(), tol);
  Figure fig;
  fig.name = "study-item5";
  fig.title = "5. Small batches: final validation accuracy vs batch size";
  fig.caption = "Batch norm, layer norm and no normalization trained with the same seeds and epochs at each batch size.";
  Panel p{.title = "final validation accuracy (eval mode)", .xlabel = "batch size", .ylabel = "validation accuracy", .logx = 2,
          .key = "below"};
  p.series = {make_series("none", x, means[0], errs[0], kPlainColor), make_series("batch norm", x, means[1], errs[1], kBnColor),
              make_series("layer norm", x, means[2], errs[2], kLnColor)};
  fig.panels = {p};
  fig.columns = 1;
  json numbers = {{"columns", {"batch size", "none", "batch norm", "layer norm", "batch − none", "layer − none"}},
                  {"rows", rows},
                  {"gap_smallest", std::isfinite(gs) ? json(gs) : json(nullptr)},
                  {"gap_largest", std::isfinite(gl) ? json(gl) : json(nullptr)}};
  return item_object(5, v, tol, summary, numbers, fig, c.used);
}

// ---- 6 ------------------------------------------------------------------------------------------
json item6(Ctx& c) {
  json rows = json::array();
  std::vector<double> stds;
  MeanStd gap[2], val[2];
  const char* variants[] = {"plain", "batchnorm"};
  for (int i = 0; i < 2; ++i) {
    const auto name = [&](uint64_t s) { return reference_run_name(variants[i], s); };
    const MeanStd train = c.cell(name, [](const json& r) { return eval_value(r, "train", "acc"); });
    val[i] = c.cell(name, c.final_acc());
    gap[i] = c.cell(name, [](const json& r) { return eval_value(r, "train", "acc") - final_value(r, "val_acc"); });
    const MeanStd test = c.cell(name, [](const json& r) { return test_value(r, "acc"); });
    for (const MeanStd* m : {&val[i], &gap[i]}) stds.push_back(m->std);
    rows.push_back(row({variants[i], ms(train), ms(val[i]), ms(gap[i]), ms(test)}));
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = regularization_verdict(gap[0].mean, gap[1].mean, val[0].mean, val[1].mean, tol);
  const std::string summary = fmt::format(
      "train − validation accuracy gap: plain {:.4f}, batchnorm {:.4f}; validation accuracy: plain {:.4f}, batchnorm {:.4f} (tol {:.4f})",
      gap[0].mean, gap[1].mean, val[0].mean, val[1].mean, tol);
  Figure fig;
  fig.name = "study-item6";
  fig.title = "6. Regularization: training vs validation accuracy (reference runs)";
  fig.caption = "Training accuracy (running average over each epoch, train mode) and validation accuracy, and their difference.";
  Panel acc{.title = "accuracy per epoch", .xlabel = "epoch", .ylabel = "accuracy", .key = "below"};
  Panel diff{.title = "train − validation accuracy", .xlabel = "epoch", .ylabel = "accuracy gap", .key = "below"};
  for (int i = 0; i < 2; ++i) {
    const auto name = [&](uint64_t s) { return reference_run_name(variants[i], s); };
    const int color = i == 0 ? kPlainColor : kBnColor;
    const Curve tr = epoch_curve(c, name, "train_acc"), va = epoch_curve(c, name, "val_acc");
    std::vector<double> g;
    for (size_t e = 0; e < tr.mean.size(); ++e) g.push_back(tr.mean[e] - va.mean[e]);
    acc.series.push_back(make_series(std::string(variants[i]) + " train", tr.epoch, tr.mean, {}, color, true));
    acc.series.push_back(make_series(std::string(variants[i]) + " val", va.epoch, va.mean, {}, color));
    diff.series.push_back(make_series(variants[i], tr.epoch, g, {}, color));
  }
  fig.panels = {acc, diff};
  json numbers = {{"columns", {"variant", "train acc (eval mode)", "val acc", "gap", "test acc"}}, {"rows", rows}};
  return item_object(6, v, tol, summary, numbers, fig, c.used);
}

// ---- 7 ------------------------------------------------------------------------------------------
json item7(Ctx& c) {
  struct Point {
    int64_t batch;
    std::function<std::string(uint64_t)> name;
  };
  std::vector<Point> points;
  for (int64_t b : c.study.budget.small_batches) points.push_back({b, [b](uint64_t s) { return batch_run_name(b, "batchnorm", s); }});
  points.push_back({32, [](uint64_t s) { return reference_run_name("batchnorm", s); }});
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.batch < b.batch; });
  json rows = json::array();
  std::vector<double> stds, diffs, x, yr, yb, er, eb;
  for (const Point& p : points) {
    const MeanStd running = c.cell(p.name, [](const json& r) { return diverged(r) ? kNaN : final_value(r, "val_acc"); });
    const MeanStd batch = c.cell(p.name, [](const json& r) { return eval_value(r, "val_batch_stats", "acc"); });
    const MeanStd d = c.cell(p.name, [](const json& r) {
      return diverged(r) ? kNaN : final_value(r, "val_acc") - eval_value(r, "val_batch_stats", "acc");
    });
    rows.push_back(row({std::to_string(p.batch), ms(running), ms(batch), ms(d)}));
    if (!std::isfinite(d.mean)) continue;  // every seed diverged: nothing to compare
    stds.push_back(running.std), stds.push_back(batch.std);
    diffs.push_back(d.mean);
    x.push_back(static_cast<double>(p.batch)), yr.push_back(running.mean), yb.push_back(batch.mean);
    er.push_back(running.std), eb.push_back(batch.std);
  }
  const double tol = tolerance(stds, kMinAccTolerance);
  const Verdict v = train_eval_verdict(diffs, tol);
  std::vector<std::string> parts;
  for (size_t i = 0; i < x.size(); ++i) parts.push_back(fmt::format("{:+.4f} at batch {}", diffs[i], x[i]));
  const std::string summary =
      fmt::format("validation accuracy, running − batch statistics: {} (tol {:.4f})", fmt::join(parts, ", "), tol);
  Figure fig;
  fig.name = "study-item7";
  fig.title = "7. Train/eval difference: batch-norm models evaluated two ways";
  fig.caption = "Validation accuracy with running statistics (eval mode) and with batch statistics in chunks of the training batch size.";
  Panel p{.title = "validation accuracy after training", .xlabel = "training batch size (= evaluation chunk for batch statistics)",
          .ylabel = "validation accuracy", .logx = 2, .key = "below"};
  p.series = {make_series("running statistics", x, yr, er, kBnColor), make_series("batch statistics", x, yb, eb, kBnColor, true)};
  fig.panels = {p};
  fig.columns = 1;
  json numbers = {{"columns", {"training batch", "running stats: val acc", "batch stats: val acc", "running − batch"}},
                  {"rows", rows}};
  return item_object(7, v, tol, summary, numbers, fig, c.used);
}

// ---- 8 ------------------------------------------------------------------------------------------
json item8(Ctx& c) {
  const auto& batches = c.study.budget.cost_batches;
  json rows = json::array();
  std::vector<double> ratios, rel_stds, x, yp, yb, ep, eb;
  for (int64_t b : batches) {
    const auto np = [&](uint64_t s) { return cost_run_name(b, "plain", s); };
    const auto nb = [&](uint64_t s) { return cost_run_name(b, "batchnorm", s); };
    const MeanStd p = c.cell(np, seconds_per_step), q = c.cell(nb, seconds_per_step);
    rel_stds.push_back(p.std / p.mean);
    rel_stds.push_back(q.std / q.mean);
    const double ratio = q.mean / p.mean;
    ratios.push_back(ratio);
    rows.push_back(row({std::to_string(b), format_mean_std({p.mean * 1e3, p.std * 1e3, p.n}, 4),
                        format_mean_std({q.mean * 1e3, q.std * 1e3, q.n}, 4), fmt::format("{:.3f}", ratio)}));
    x.push_back(static_cast<double>(b)), yp.push_back(p.mean * 1e3), yb.push_back(q.mean * 1e3);
    ep.push_back(p.std * 1e3), eb.push_back(q.std * 1e3);
  }
  const double tol = tolerance(rel_stds, kMinTimeTolerance);
  const Verdict v = cost_verdict(ratios, tol);
  std::vector<std::string> parts;
  for (size_t i = 0; i < ratios.size(); ++i) parts.push_back(fmt::format("{:.2f} at batch {}", ratios[i], batches[i]));
  const std::string summary = fmt::format("batchnorm / plain seconds per step: {} (tol {:.0f}%)", fmt::join(parts, ", "), 100 * tol);
  Figure fig;
  fig.name = "study-item8";
  fig.title = "8. Cost: training time per step";
  fig.caption = "Milliseconds per training step (forward, backward, update), plain and batchnorm trained side by side.";
  Panel t{.title = "time per step", .xlabel = "batch size", .ylabel = "ms per step", .logx = 2, .logy = true, .key = "below"};
  Panel r{.title = "batchnorm / plain", .xlabel = "batch size", .ylabel = "ratio of times per step", .logx = 2, .key = "below"};
  t.series = {make_series("plain", x, yp, ep, kPlainColor), make_series("batchnorm", x, yb, eb, kBnColor)};
  r.series = {make_series("batchnorm / plain", x, ratios, {}, kBnColor)};
  r.hline = 1.0;
  r.hline_title = "equal cost";
  fig.panels = {t, r};
  json numbers = {{"columns", {"batch size", "plain: ms/step", "batchnorm: ms/step", "ratio"}}, {"rows", rows}, {"ratios", ratios}};
  return item_object(8, v, tol, summary, numbers, fig, c.used);
}

}  // namespace

json analyze_study(const StudyContext& ctx, const std::map<std::string, json>& runs) {
  json items = json::array();
  std::vector<int> selected = ctx.items;
  std::sort(selected.begin(), selected.end());
  selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
  for (int item : selected) {
    Ctx c{ctx, runs, {}};
    switch (item) {
      case 1: items.push_back(item1(c)); break;
      case 2: items.push_back(item2(c)); break;
      case 3: items.push_back(item3(c)); break;
      case 4: items.push_back(item4(c)); break;
      case 5: items.push_back(item5(c)); break;
      case 6: items.push_back(item6(c)); break;
      case 7: items.push_back(item7(c)); break;
      case 8: items.push_back(item8(c)); break;
      default: throw UsageError(fmt::format("--items: {} is not a study item (1..8)", item));
    }
  }
  return items;
}

}  // namespace bnlab::lab
