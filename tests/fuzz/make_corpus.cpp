// Writes the seed corpora of the fuzz targets: a few tiny valid files and a few broken ones each.
//   build-fuzz/fuzz_make_corpus tests/fuzz/corpus
// Files are named <what>.bin; rerunning overwrites them (a fuzzer's finds, named otherwise, stay).
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "data/registry.hpp"
#include "lab/metrics_json.hpp"
#include "lab/run_control.hpp"
#include "lab/run_job.hpp"
#include "models/presets.hpp"
#include "tools/app.hpp"
#include "models/mlp.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

fs::path root;

void put(const std::string& target, const std::string& name, const Bytes& b) {
  fs::create_directories(root / target);
  std::ofstream out(root / target / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) throw std::runtime_error("cannot write " + (root / target / name).string());
}
void put(const std::string& target, const std::string& name, const std::string& s) {
  put(target, name, Bytes(s.begin(), s.end()));
}

Bytes gzip(const Bytes& in) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  Bytes out(deflateBound(&z, in.size()) + 32);
  z.next_in = const_cast<Bytes::value_type*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Bytes idx(const std::vector<uint32_t>& dims, uint32_t fill_mod) {
  Bytes b{0, 0, 8, static_cast<uint8_t>(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>((i * 37) % fill_mod));
  return b;
}

Bytes cat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// The fuzz_idx layout: class count, little-endian length of the images file, images, labels.
Bytes idx_input(uint8_t classes, const Bytes& images, const Bytes& labels) {
  const auto n = static_cast<uint32_t>(images.size());
  Bytes b{classes, static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n >> 16),
          static_cast<uint8_t>(n >> 24)};
  return cat(cat(b, images), labels);
}

void idx_corpus() {
  const Bytes images = idx({3, 2, 2}, 256), labels = idx({3}, 10);
  put("idx", "valid.bin", idx_input(10, images, labels));
  put("idx", "valid-gzip.bin", idx_input(10, gzip(images), gzip(labels)));
  put("idx", "valid-rank1-images.bin", idx_input(4, idx({5}, 256), idx({5}, 4)));
  put("idx", "valid-empty.bin", idx_input(10, idx({0, 28, 28}, 256), idx({0}, 10)));
  put("idx", "bad-magic.bin", idx_input(10, Bytes{0x1f, 0x00, 0x08, 0x03, 0, 0, 0, 1}, labels));
  put("idx", "bad-type.bin", idx_input(10, Bytes{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, labels));
  Bytes truncated = images;
  truncated.resize(truncated.size() - 3);
  put("idx", "truncated-data.bin", idx_input(10, truncated, labels));
  put("idx", "truncated-header.bin", idx_input(10, Bytes{0, 0, 8, 3, 0, 0, 0}, labels));
  put("idx", "huge-dims.bin", idx_input(10, Bytes{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff}, labels));
  put("idx", "count-mismatch.bin", idx_input(10, images, idx({4}, 10)));
  put("idx", "label-out-of-range.bin", idx_input(3, images, idx({3}, 10)));
  put("idx", "labels-rank2.bin", idx_input(10, images, idx({3, 1}, 10)));
  Bytes cut = gzip(images);
  cut.resize(cut.size() - 6);
  put("idx", "truncated-gzip.bin", idx_input(10, cut, labels));
}

Bytes cifar(int records, uint8_t label_mod) {
  Bytes b;
  for (int r = 0; r < records; ++r) {
    b.push_back(static_cast<uint8_t>(r % label_mod));
    for (int k = 0; k < 3072; ++k) b.push_back(static_cast<uint8_t>((k * 7 + r) % 251));
  }
  return b;
}

void cifar_corpus() {
  put("cifar10", "valid-1.bin", cifar(1, 10));
  put("cifar10", "valid-2-gzip.bin", gzip(cifar(2, 10)));
  put("cifar10", "empty.bin", Bytes{});
  Bytes partial = cifar(1, 10);
  partial.resize(100);
  put("cifar10", "incomplete-record.bin", partial);
  Bytes bad = cifar(1, 10);
  bad[0] = 200;
  put("cifar10", "label-200.bin", bad);
  Bytes cut = gzip(cifar(1, 10));
  cut.resize(cut.size() / 2);
  put("cifar10", "truncated-gzip.bin", cut);
}

void csv_corpus() {
  put("csv", "valid.csv", "label,x1,x2\n1,0.5,-2\n0,3e-1,4\n");
  put("csv", "valid-crlf.csv", "2, +1.5 ,7\r\n\r\n0,1e3,-0\r\n");
  put("csv", "valid-pixels.csv", "3,0,255,128\n1,12,0,255\n9,1,2,3\n");
  put("csv", "valid-gzip.csv", gzip(Bytes{'1', ',', '2', '\n', '0', ',', '3', '\n'}));
  put("csv", "header-only.csv", "label,a,b\n");
  put("csv", "one-field.csv", "1\n2\n");
  put("csv", "wrong-field-count.csv", "1,2,3\n1,2\n");
  put("csv", "not-a-number.csv", "1,2\n0,abc\n");
  put("csv", "nonfinite.csv", "1,inf\n0,nan\n1,1e999\n");
  put("csv", "bad-label.csv", "-1,2\n1.5,3\n");
  put("csv", "label-int32-max.csv", "2147483647,1\n");  // the class count overflowed int32 (fixed)
}

void checkpoint_corpus() {
  const fs::path tmp = fs::temp_directory_path() / ("bnlab-make-corpus-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  bnlab::data::LoadOptions lo;
  lo.synthetic = {.train_rows = 8, .test_rows = 4, .features = 2, .classes = 2, .clusters_per_class = 1};
  lo.val_fraction = 0.25;
  const bnlab::data::Splits data = bnlab::data::load("synthetic", lo);
  struct Variant {
    const char* name;
    bnlab::Norm norm;
    bnlab::OptimizerKind opt;
    int epochs;
    bool with_data;
  };
  for (const Variant& v : {Variant{"valid-v2-bn-adam-1epoch.bin", bnlab::Norm::batch, bnlab::OptimizerKind::adam, 1, true},
                           Variant{"valid-v2-plain-sgd-0epochs.bin", bnlab::Norm::none, bnlab::OptimizerKind::sgd, 0, false},
                           Variant{"valid-v2-ln-momentum-1epoch.bin", bnlab::Norm::layer, bnlab::OptimizerKind::momentum, 1, false}}) {
    bnlab::MlpSpec spec;
    spec.inputs = 2;
    spec.hidden = {3};
    spec.classes = 2;
    spec.norm = v.norm;
    bnlab::TrainConfig config;
    config.dataset = "synthetic";
    config.epochs = 1;
    config.batch_size = 3;
    config.record_internals = false;
    config.optimizer.kind = v.opt;
    bnlab::Trainer t(spec.model_spec(), config, data);
    std::vector<bnlab::EpochMetrics> history;
    for (int e = 0; e < v.epochs; ++e) history.push_back(t.train_epoch());
    const fs::path p = tmp / v.name;
    bnlab::save_checkpoint(p.string(), t, history, v.with_data ? std::optional(lo) : std::nullopt);
    const Bytes b = read(p);
    put("checkpoint", v.name, b);
    if (v.opt == bnlab::OptimizerKind::adam) {
      Bytes cut = b;
      cut.resize(cut.size() - 10);
      put("checkpoint", "truncated-data.bin", cut);
      cut.resize(40);
      put("checkpoint", "truncated-header.bin", cut);
      Bytes huge = b;
      for (int i = 0; i < 8; ++i) huge[static_cast<size_t>(i)] = 0xff;
      put("checkpoint", "huge-header-length.bin", huge);
    }
  }
  // A convolutional layer list (conv, group norm, max-pool, dropout, flatten) on 4×4 one-channel
  // "images": the reader of every layer kind's attributes, and dropout's step state.
  {
    bnlab::data::LoadOptions io = lo;
    io.synthetic.features = 16;
    bnlab::data::Splits images = bnlab::data::load("synthetic", io);
    for (bnlab::data::Dataset* d : {&images.train, &images.val, &images.test}) d->shape = {4, 4, 1};
    bnlab::ModelSpec spec;
    spec.input_shape = {4, 4, 1};
    spec.classes = 2;
    auto layer = [&](bnlab::LayerKind kind, const std::string& name) -> bnlab::LayerSpec& {
      spec.layers.push_back({});
      spec.layers.back().kind = kind;
      spec.layers.back().name = name;
      return spec.layers.back();
    };
    bnlab::LayerSpec& conv = layer(bnlab::LayerKind::conv2d, "conv1");
    conv.filters = 2;
    conv.padding = {1, 1};
    layer(bnlab::LayerKind::group_norm, "gn1").groups = 2;
    layer(bnlab::LayerKind::max_pool2d, "pool1").stride = {2, 2};
    layer(bnlab::LayerKind::dropout, "drop1").rate = 0.25;
    layer(bnlab::LayerKind::flatten, "flatten");
    layer(bnlab::LayerKind::dense, "out").units = 2;
    bnlab::TrainConfig config;
    config.dataset = "synthetic";
    config.model = "cnn";
    config.batch_size = 3;
    config.record_internals = false;
    bnlab::Trainer t(spec, config, images);
    std::vector<bnlab::EpochMetrics> history = {t.train_epoch()};
    const fs::path p = tmp / "valid-v2-cnn-1epoch.bin";
    bnlab::save_checkpoint(p.string(), t, history, std::optional(io));
    put("checkpoint", "valid-v2-cnn-1epoch.bin", read(p));
  }
  // Hand-made safetensors files: the format alone, without bnlab's metadata.
  auto st = [](const std::string& header, const Bytes& data) {
    Bytes b;
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(n >> (8 * i)));
    b.insert(b.end(), header.begin(), header.end());
    b.insert(b.end(), data.begin(), data.end());
    return b;
  };
  const Bytes eight(8, 0);
  put("checkpoint", "plain-safetensors.bin", st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", eight));
  put("checkpoint", "dtype-f16.bin", st(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", eight));
  put("checkpoint", "overlap.bin",
      st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight));
  put("checkpoint", "big-shape.bin", st(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", eight));
  put("checkpoint", "bad-json.bin", st(R"({"a":{"dtype":)", eight));
  put("checkpoint", "metadata-not-string.bin", st(R"({"__metadata__":{"format":1}})", {}));
  fs::remove_all(tmp);
}

// Model files (docs/model-files.md): small valid ones of every layer kind (so a mutant still
// builds and runs quickly) and broken ones; the examples in examples/models/ are copied in too.
void model_spec_corpus() {
  put("model_spec", "valid-mlp-bn.json", R"({"input_shape": [6], "classes": 3, "layers": [
  {"kind": "dense", "name": "fc1", "units": 5, "init": "he_normal", "probe": "fc1"},
  {"kind": "batch_norm", "name": "bn1", "momentum": 0.2, "eps": 1e-3, "ghost_batches": 2},
  {"kind": "activation", "name": "act1", "activation": "tanh"},
  {"kind": "dropout", "rate": 0.1},
  {"kind": "dense", "name": "out", "units": 3, "bias": false, "weight_scale": 0.5}]})");
  put("model_spec", "valid-mlp-ln.json", R"({"input_shape": [4], "classes": 2, "layers": [
  {"kind": "dense", "units": 3, "init": "torch_default"}, {"kind": "layer_norm", "eps": 1e-4},
  {"kind": "activation", "activation": "sigmoid"}, {"kind": "dense", "units": 2, "init": "he_uniform"}]})");
  put("model_spec", "valid-cnn-small.json", R"({"input_shape": [6, 6, 2], "classes": 3, "layers": [
  {"kind": "conv2d", "name": "c1", "filters": 4, "kernel": [3, 2], "stride": [1, 2], "padding": [1, 0]},
  {"kind": "group_norm", "groups": 2}, {"kind": "activation", "activation": "relu"},
  {"kind": "max_pool2d", "window": 2, "stride": 1},
  {"kind": "conv2d", "filters": 2, "kernel": 3, "padding": "same", "bias": false},
  {"kind": "batch_norm"}, {"kind": "avg_pool2d", "window": [2, 1]},
  {"kind": "flatten"}, {"kind": "dense", "units": 3}]})");
  put("model_spec", "valid-cnn-gap.json", R"({"input_shape": [5, 5, 1], "classes": 2, "layers": [
  {"kind": "conv2d", "filters": 3, "kernel": 5, "padding": "valid"}, {"kind": "global_avg_pool"},
  {"kind": "dense", "units": 2}], "recipe": [["hidden", [3]], ["norm", "none"], ["lr", 0.5]]})");
  put("model_spec", "bad-not-json.json", R"({"input_shape": [4], "classes": 2, "layers": [)");
  put("model_spec", "bad-unknown-field.json", R"({"input_shape": [4], "classes": 2, "layers": [{"kind": "dense", "units": 2, "dilation": 2}]})");
  put("model_spec", "bad-no-flatten.json", R"({"input_shape": [4, 4, 1], "classes": 2, "layers": [{"kind": "dense", "units": 2}]})");
  put("model_spec", "bad-last-layer.json", R"({"input_shape": [4], "classes": 2, "layers": [{"kind": "dense", "units": 3}]})");
  put("model_spec", "bad-same-even-kernel.json", R"({"input_shape": [4, 4, 1], "classes": 2, "layers": [
  {"kind": "conv2d", "filters": 2, "kernel": 2, "padding": "same"}, {"kind": "flatten"}, {"kind": "dense", "units": 2}]})");
  put("model_spec", "bad-groups.json", R"({"input_shape": [3], "classes": 2, "layers": [{"kind": "group_norm", "groups": 2}, {"kind": "dense", "units": 2}]})");
  put("model_spec", "bad-huge-units.json", R"({"input_shape": [784], "classes": 10, "layers": [{"kind": "dense", "units": 16777216}, {"kind": "dense", "units": 10}]})");
  put("model_spec", "bad-types.json", R"({"input_shape": "28x28", "classes": 2.5, "layers": {}})");
  for (const char* example : {"small-cnn.json", "cnn-groupnorm.json"}) {
    std::ifstream in(fs::path(BNLAB_ROOT_DIR) / "examples" / "models" / example, std::ios::binary);
    put("model_spec", std::string("example-") + example, Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }
}

// Command lines for fuzz_cli: the arguments after `bnlab`, separated by NUL bytes.
void cli_corpus() {
  auto line = [](const std::string& name, std::initializer_list<std::string> args) {
    std::string b;
    for (const std::string& a : args) b += (b.empty() ? "" : std::string(1, '\0')) + a;
    put("cli", name, b);
  };
  line("train.bin", {"train", "--dataset", "synthetic", "--model", "batchnorm", "--epochs", "2", "--batch-size", "64", "--lr", "1e-3"});
  line("train-refine.bin", {"train", "--model", "plain", "--hidden", "128,64", "--activation", "tanh", "--norm", "layer",
                            "--norm-placement", "before_activation", "--init", "he_normal", "--optimizer", "momentum", "--threads", "2"});
  line("train-outputs.bin", {"train", "--json", "m.json", "--csv", "m.csv", "--checkpoint", "c.safetensors", "--quiet", "--seed", "7"});
  line("compare.bin", {"compare", "--variants", "plain,batchnorm", "--epochs", "1", "--limit-train", "500", "--val-fraction", "0.1"});
  line("sweep.bin", {"sweep", "--variants", "plain,batchnorm", "--batch-sizes", "32,128", "--seeds", "0,1", "--out", "runs/s",
                     "--bn-ghost-batches", "2", "--weight-decay", "1e-4", "--standardize", "--drop-last"});
  line("study.bin", {"study", "--budget", "quick", "--items", "1,6", "--out", "runs/study", "--threshold", "0.85"});
  line("eval.bin", {"eval", "--checkpoint", "c.safetensors", "--dataset", "mnist", "--data-dir", "d"});
  line("predict.bin", {"predict", "--checkpoint", "c.safetensors", "--input", "x.csv", "--input-shape", "28,28,1"});
  line("gradcheck.bin", {"gradcheck", "--model", "cnn-batchnorm", "--batch", "4"});
  line("report.bin", {"report", "runs/s", "--out", "r"});
  line("help.bin", {"train", "--help"});
  line("bad-list.bin", {"sweep", "--batch-sizes", "32,,64", "--seeds", "1,"});
  line("bad-number.bin", {"train", "--epochs", "0x10", "--lr", "nan"});

  // The dictionary: every command and flag name of the app, and the names flags take.
  CLI::App app{bnlab::tool::app_description, "bnlab"};
  bnlab::tool::CommandResult result;
  bnlab::tool::add_commands(app, result);
  std::set<std::string> words;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    words.insert(sub->get_name());
    for (const CLI::Option* o : sub->get_options())
      for (const std::string& n : o->get_lnames()) words.insert("--" + n);
  }
  for (const std::string& n : bnlab::preset_names()) words.insert(n);
  for (const std::string& n : bnlab::data::dataset_names()) words.insert(n);
  for (const char* n : {"relu", "tanh", "sigmoid", "none", "batch", "layer", "before_activation", "after_activation", "sgd", "momentum", "adam",
                        "glorot_uniform", "he_normal", "he_uniform", "torch_default", "pytorch", "keras", "quick", "full",
                        "stop", "skip", "sync", "local", "ghost", "1e-3", "0", "-1", "1,2", ",", "nan", "inf", "1e999", "9223372036854775808"})
    words.insert(n);
  std::ofstream dict(root / ".." / "cli.dict", std::ios::trunc);
  dict << "# libFuzzer dictionary for fuzz_cli: every command and flag of bnlab (written by make_corpus.cpp from the app)\n";
  for (const std::string& w : words) dict << '"' << w << "\"\n";
}

// Run files as a sweep stores them (DIR/runs/<name>.json: run_job's entry, lab/run_job.hpp), from
// tiny runs on synthetic data: finished with and without batch norm, with the extra evaluations,
// and diverged; and a metrics document holding them, as `bnlab report` reads it.
void run_store_corpus() {
  bnlab::data::LoadOptions lo;
  lo.synthetic = {.train_rows = 12, .test_rows = 4, .features = 3, .classes = 2, .clusters_per_class = 1};
  lo.val_fraction = 0.25;
  const bnlab::data::Splits data = bnlab::data::load("synthetic", lo);
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  struct Variant {
    const char* name;
    const char* preset;
    double lr;
  };
  for (const Variant& v : {Variant{"plain-bs3-seed0", "plain", 1e-3}, Variant{"batchnorm-bs3-seed0", "batchnorm", 1e-3},
                           Variant{"plain-lr1e30-seed0", "plain", 1e30}}) {
    bnlab::lab::RunJob job;
    job.name = v.name;
    bnlab::MlpSpec mlp;
    mlp.inputs = 3;
    mlp.hidden = {4};
    mlp.classes = 2;
    mlp.norm = std::string(v.preset) == "batchnorm" ? bnlab::Norm::batch : bnlab::Norm::none;
    job.spec = mlp.model_spec();
    job.config.dataset = "synthetic";
    job.config.model = v.preset;
    job.config.epochs = 2;
    job.config.batch_size = 3;
    job.config.optimizer.lr = v.lr;
    job.extra_config = bnlab::lab::data_config(lo);
    job.eval_train = true;
    job.eval_batch_stats = std::string(v.preset) == "batchnorm";
    const nlohmann::ordered_json run = bnlab::lab::run_job(job, data);
    put("run_store", std::string("valid-") + v.name + ".json", run.dump(2) + "\n");
    runs.push_back(run);
  }
  nlohmann::ordered_json doc = {{"tool", "bnlab"}, {"version", "0.1.0"}, {"command", "sweep"}, {"runs", runs}};
  put("run_store", "valid-metrics-sweep.json", doc.dump(2) + "\n");
  doc["command"] = "compare";
  put("run_store", "valid-metrics-compare.json", doc.dump() + "\n");
  put("run_store", "bad-not-json.json", "{\"name\": \"run\", \"config\": ");
  put("run_store", "bad-epochs-type.json", R"({"name": "run", "config": {"epochs": 1}, "epochs": [{"epoch": "one"}]})");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  root = argv[1];
  idx_corpus();
  cifar_corpus();
  csv_corpus();
  checkpoint_corpus();
  model_spec_corpus();
  cli_corpus();
  run_store_corpus();
  return 0;
}
