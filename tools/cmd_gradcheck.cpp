// bnlab gradcheck: checks a model's analytic gradients against finite differences, in double
// precision through the same kernels that train in float. Exit status 0 when every checked element
// agrees within the tolerance, 1 when not, so it can gate a build. The table is text for people, so
// it goes to stderr like every command's (README, "Output streams"); --quiet leaves only the verdict.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "graph/gradcheck.hpp"
#include "graph/suggest.hpp"
#include "models/cnn.hpp"
#include "models/model.hpp"
#include "train/model_file.hpp"
#include "tools/command.hpp"
#include "tools/train_flags.hpp"

namespace bnlab::tool {

namespace {

struct GradcheckFlags {
  std::string model = "batchnorm";
  TrainFlags refine;  // only the model refinements are registered and used
  int64_t inputs = 784;
  std::vector<int64_t> input_shape;  // overrides inputs; a CNN's default is Fashion-MNIST's [28,28,1]
  std::string model_file;
  int64_t classes = 10;
  int64_t batch_size = 8;
  uint64_t seed = 0;
  double tolerance = 1e-6;
  double step = GradCheckOptions{}.step;
  int64_t max_elements = 200;
  std::string mode = "train";
  int threads = 1;
  bool quiet = false;
};

Mode gradcheck_mode(const std::string& name) {
  if (name == "train") return Mode::train;
  if (name == "eval") return Mode::eval;
  if (name == "eval-batch-stats") return Mode::eval_batch_stats;
  throw UsageError("--mode " + name + ": unknown mode" + known_names_hint(name, {"train", "eval", "eval-batch-stats"}));
}

// One line per checked tensor: its worst element's errors and both gradients there; "<-" marks a
// tensor over the tolerance.
void print_tensor_table(const GradCheckResult& r) {
  size_t name_width = 9;
  for (const TensorCheck& t : r.tensors) name_width = std::max(name_width, t.name.size() + (t.is_parameter ? 0 : 8));
  fmt::print(stderr, "{:<{}}  {:>15}  {:>13}  {:>13}  {:>11}  {:>15}  {:>15}\n", "parameter", name_width, "elements", "max rel error",
             "max abs error", "worst index", "analytic", "numeric");
  for (const TensorCheck& t : r.tensors) {
    const std::string name = t.is_parameter ? t.name : t.name + " (input)";
    const std::string elements = t.checked == t.elements ? std::to_string(t.elements) : fmt::format("{}/{}", t.checked, t.elements);
    fmt::print(stderr, "{:<{}}  {:>15}  {:>13.3e}  {:>13.3e}  {:>11}  {:>15.8e}  {:>15.8e}{}\n", name, name_width, elements,
               t.max_rel_error, t.max_abs_error, t.worst_index, t.analytic, t.numeric,
               t.max_rel_error < r.tolerance ? "" : "  <-");
  }
}

void run_gradcheck(const GradcheckFlags& g, CommandResult& result) {
  if (g.model_file.empty()) check_preset("--model", g.model);
  const Mode mode = gradcheck_mode(g.mode);
  if (g.inputs < 1) throw UsageError(fmt::format("--inputs {}: must be at least 1", g.inputs));
  if (g.classes < 2) throw UsageError(fmt::format("--classes {}: must be at least 2", g.classes));
  if (g.batch_size < 1) throw UsageError(fmt::format("--batch-size {}: must be at least 1", g.batch_size));
  if (!(std::isfinite(g.tolerance) && g.tolerance > 0))
    throw UsageError(fmt::format("--tolerance {}: must be a positive finite number", g.tolerance));
  if (!(std::isfinite(g.step) && g.step > 0)) throw UsageError(fmt::format("--step {}: must be a positive finite number", g.step));
  if (g.max_elements < 0) throw UsageError(fmt::format("--max-elements {}: must be >= 0 (0 = all)", g.max_elements));
  for (int64_t d : g.input_shape)
    if (d < 1) throw UsageError(fmt::format("--input-shape {}: every dimension must be at least 1", fmt::join(g.input_shape, ",")));
  const std::vector<int64_t> shape = !g.input_shape.empty()      ? g.input_shape
                                     : CnnSpec::is_preset(g.model) ? std::vector<int64_t>{28, 28, 1}
                                                                   : std::vector<int64_t>{g.inputs};
  const ModelSpec spec = g.model_file.empty() ? model_spec(g.refine, g.model, shape, g.classes) : read_model_file(g.model_file);
  if (spec.has(LayerKind::batch_norm) && g.batch_size < 2)
    throw UsageError(fmt::format("--batch-size {}: batch norm needs at least 2 samples per batch", g.batch_size));

  const Model model = build_model(spec);
  GradCheckOptions options;
  options.batch = g.batch_size;
  options.seed = g.seed;
  options.tolerance = g.tolerance;
  options.step = g.step;
  options.max_elements_per_tensor = g.max_elements;
  options.mode = mode;
  options.threads = g.threads;
  const GradCheckResult r = gradcheck(model.graph, model.loss, options);

  const std::string how = spec.recipe.empty() ? std::string("from the model file")
                                              : fmt::format("{} {}, norm {} {}", spec.recipe_text("activation"), spec.recipe_text("init"),
                                                            spec.recipe_text("norm"), spec.recipe_text("norm_placement"));
  const bool passed = r.passed();
  result.exit_code = passed ? 0 : 1;
  if (!g.quiet) {
    fmt::print(stderr, "gradcheck {} {} ({}), batch {}, seed {}, step {}, double precision, {} mode, {} thread{}\n",
               g.model_file.empty() ? g.model : g.model_file, spec.describe(), how, g.batch_size, g.seed, g.step, g.mode, g.threads,
               g.threads == 1 ? "" : "s");
    print_tensor_table(r);
  }
  fmt::print(stderr, "{}: max relative error {:.3e} {} tolerance {:.1e}\n", passed ? "PASS" : "FAIL", r.max_rel_error(),
             passed ? "<" : ">=", r.tolerance);
}

}  // namespace

void register_gradcheck(CLI::App& app, CommandResult& result) {
  CLI::App* cmd = app.add_subcommand("gradcheck", "check a model's gradients against finite differences (exit 1 on failure)");
  auto g = std::make_shared<GradcheckFlags>();
  cmd->add_option("--model", g->model, "preset: " + fmt::format("{}", fmt::join(preset_names(), ", ")))
      ->capture_default_str();
  TrainFlags& f = g->refine;
  add_model_flags(*cmd, f, [](const FieldInfo& field) {
    const std::string n = field.name;
    return n == "hidden" || n == "activation" || n == "norm_placement" || n == "init";
  });
  cmd->add_option("--model-file", g->model_file, "check the model a JSON file describes (docs/model-files.md) instead of a preset")
      ->type_name("PATH");
  add_number_option(*cmd, "--inputs", g->inputs, "input features of an MLP preset", kAtLeastOne)->capture_default_str();
  add_list_option(*cmd, "--input-shape", g->input_shape, "one sample's shape, e.g. 28,28,1 (a CNN preset's default)")
      ->type_name("H,W,C");
  add_number_option(*cmd, "--classes", g->classes, "classes", Range{2, std::numeric_limits<double>::infinity()})->capture_default_str();
  add_number_option(*cmd, "--batch-size", g->batch_size, "samples in the checked batch", kAtLeastOne)->capture_default_str();
  add_number_option(*cmd, "--seed", g->seed, "seed of the inputs, labels, weights and element sample")->capture_default_str();
  add_number_option(*cmd, "--tolerance", g->tolerance, "largest relative error that passes", kPositive)->capture_default_str();
  add_number_option(*cmd, "--step", g->step,
                  "central-difference step h: the numeric gradient's rounding error grows as h shrinks, a ReLU's or max-pool's "
                  "kink crossed within ±h spoils it as h grows", kPositive)
      ->capture_default_str();
  add_number_option(*cmd, "--max-elements", g->max_elements,
                  "check a seeded sample of at most N elements per tensor (0 = all; a full 784-input check takes minutes)", kNonNegative)
      ->capture_default_str();
  cmd->add_option("--mode", g->mode,
                  "the mode the forward pass runs in: train (batch statistics, running statistics updated), eval (running "
                  "statistics) or eval-batch-stats")
      ->type_name("train|eval|eval-batch-stats")
      ->capture_default_str();
  add_number_option(*cmd, "--threads", g->threads,
                  "threads the kernels split their work over, as in training (batch norm's split crosses at 32 features on 2)",
                  kAtLeastOne)
      ->capture_default_str();
  cmd->add_flag("--quiet", g->quiet, "print only the verdict line (PASS or FAIL), not the per-tensor table");
  cmd->callback([g, &result] { run_gradcheck(*g, result); });
}

}  // namespace bnlab::tool
