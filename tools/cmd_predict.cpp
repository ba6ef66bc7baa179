// bnlab predict: a saved model's predicted class (with its name, where the checkpoint has the
// dataset's class names) and class probabilities for each row of a file, or for one image.
//
//   bnlab predict --checkpoint run.safetensors --input t10k-images-idx3-ubyte.gz --limit 5
//   bnlab predict --checkpoint run.safetensors --input boot.png        # "1 9 Ankle boot 0.9700 …"
//   bnlab predict --checkpoint run.safetensors --input rows.csv --json predictions.json
//   bnlab predict --checkpoint run.safetensors --input fashion-mnist_test.csv --pixels 255   # 0-255 pixel CSV
//
// The input is either
//   - an IDX file of images (raw or gzipped; recognized by its first two bytes, 00 00): each image
//     is one row; or
//   - one image, PNG or PGM / PPM (data/image_file.hpp; recognized by its first bytes): one row of
//     0-255 pixel bytes, as an IDX image is. Its size and channels must be the model's input
//     (28x28 grayscale for [28,28,1], 32x32 RGB for [32,32,3]); anything else is refused with both
//     sizes named: predict neither resizes nor converts colour to gray; or
//   - CSV text, one row per line: either exactly the model's N inputs (features only), or N + 1
//     fields with the class label first (the layout of the csv dataset's files), in which case the
//     label is shown beside the prediction and the accuracy is reported. A first line whose first
//     field is not a number is a header and is skipped.
// The rows are then prepared as the checkpoint says its training inputs were (its "preprocessing"):
// divided by --pixels (255: 0-255 pixels into [0, 1]; 1: as they are), then standardized with the
// stored statistics. --pixels defaults to how training read its own files: 255 for IDX input of a
// model trained on pixels / 255, the csv dataset's own scaling for its CSV rows, 1 for CSV rows of
// other models — and where that is a guess (a model trained on [0, 1] pixels given CSV values
// above 1; IDX bytes for a model trained on unscaled values) predict refuses and says what to pass.
// The choice is printed on stderr. The prediction table is predict's product, the one table of bnlab
// on stdout (one line per row, whitespace-separated, a header first), so it can be piped; the
// labelled rows' accuracy is a note for people, on stderr. A checkpoint from before "preprocessing"
// that was trained with --standardize has its statistics recomputed from its dataset (--data-dir if
// its files moved).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "data/csv.hpp"
#include "data/file_kind.hpp"
#include "data/idx.hpp"
#include "data/image_file.hpp"
#include "graph/errors.hpp"
#include "lab/run_control.hpp"
#include "tools/command.hpp"
#include "tools/flag_values.hpp"
#include "tools/signals.hpp"
#include "train/atomic_file.hpp"
#include "train/checkpoint.hpp"
#include "train/predictor.hpp"

namespace bnlab::tool {

namespace {

struct PredictFlags {
  std::string checkpoint;
  std::string input;
  int64_t limit = 0;
  std::string data_dir;
  std::string pixels;  // "", "255" or "1"
  std::string json;
  bool quiet = false;
  int threads = 1;
};

struct Rows {
  std::vector<float> x;          // [n, inputs], prepared (IDX: the bytes until then)
  std::vector<double> raw;       // CSV: the values as read, until prepared
  std::vector<int32_t> labels;   // [n] when the input carried labels, else empty
  int64_t n = 0;
  std::string format;            // "IDX 28x28 images", "PNG 28x28 grayscale image", "CSV"
  bool pixel_bytes = false;      // IDX and image files: 0-255 bytes, kept in x until prepared
  bool header_skipped = false;   // CSV: the first line was taken as a header
  double above_one = 0;          // CSV: the first value above 1, and where it is (line, column)
  int64_t above_one_line = 0;
  size_t above_one_column = 0;
};


// A field quoted in a message: at most 40 characters, control bytes shown as '?'.
std::string quoted(std::string_view field) {
  std::string s(field.substr(0, 40));
  for (char& ch : s)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return "'" + s + "'";
}

Rows read_idx_rows(const std::string& path, const Checkpoint& ck, int64_t limit) {
  const data::IdxArray a = data::read_idx(path);
  int64_t features = 1;
  std::string dims;
  for (size_t i = 1; i < a.dims.size(); ++i) {
    features *= a.dims[i];
    dims += (dims.empty() ? "" : "x") + std::to_string(a.dims[i]);
  }
  Rows r;
  r.format = a.dims.size() == 1 ? "IDX rank 1 (one value per row: a labels file?)" : "IDX " + dims + " images";
  if (features != ck.spec.input_features())
    throw InputError(fmt::format("{}: {} features per row ({}), but the model in {} takes {} inputs", path, features, r.format,
                                 ck.path, ck.spec.input_features()));
  // Images of the right size but another shape ([14,56] for a model of [28,28,1]) would be read
  // as scrambled pixels; a flat training sample ([784], CSV) takes any image of as many values.
  std::vector<int64_t> shape;
  for (size_t i = 1; i < a.dims.size(); ++i) shape.push_back(a.dims[i]);
  if (shape.size() == 2) shape.push_back(1);
  const std::vector<int64_t> trained = training_preparation(ck).sample_shape;
  if (trained.size() > 1 && shape.size() > 1 && shape != trained)
    throw InputError(fmt::format("{}: images are {}, but the model in {} was trained on images of {}", path,
                                 data::shape_text(shape), ck.path, data::shape_text(trained)));
  r.pixel_bytes = true;
  r.n = a.dims[0];
  if (limit > 0) r.n = std::min(r.n, limit);
  r.x.resize(static_cast<size_t>(r.n * features));
  for (size_t i = 0; i < r.x.size(); ++i) r.x[i] = static_cast<float>(a.values[i]);
  return r;
}

// One image as one row of pixel bytes, channels last as the datasets' images are. No resizing and
// no colour conversion: an image that is not the model's input is refused, naming both.
// The width predict's table keeps to when the model has class names.
constexpr size_t kPredictWidth = 100;

Rows read_image_rows(const std::string& path, const std::vector<uint8_t>& bytes, const Checkpoint& ck) {
  const data::Image im = data::read_image(path, bytes);
  const std::vector<int64_t> shape = {im.height, im.width, im.channels};
  const std::vector<int64_t> trained = training_preparation(ck).sample_shape;
  const int64_t features = im.height * im.width * im.channels;
  const auto model_images = [&] {
    if (trained.size() == 3 && (trained[2] == 1 || trained[2] == 3))
      return fmt::format("{}x{} {} images ({})", trained[1], trained[0], trained[2] == 1 ? "grayscale" : "RGB", data::shape_text(trained));
    return fmt::format("{} inputs ({})", ck.spec.input_features(), data::shape_text(trained));
  };
  // A flat training sample ([784]: pixels read from CSV) takes any image of as many values, as for IDX.
  if ((trained.size() > 1 && shape != trained) || features != ck.spec.input_features())
    throw InputError(fmt::format("{}: a {} {} ({}), but the model in {} takes {}; predict does not resize images or convert "
                                 "their colours",
                                 path, im.format, im.described(), data::shape_text(shape), ck.path, model_images()));
  Rows r;
  r.format = fmt::format("{} {} image", im.format, im.described());
  r.pixel_bytes = true;
  r.n = 1;
  r.x.assign(im.pixels.begin(), im.pixels.end());
  return r;
}

Rows read_csv_rows(const std::string& path, const std::vector<uint8_t>& bytes, const Checkpoint& ck, int64_t limit) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const int64_t inputs = ck.spec.input_features();
  Rows r;
  r.format = "CSV";
  size_t expected = 0;  // fields per row, fixed by the first data row
  int64_t first_line = 0;
  bool labelled = false;
  std::vector<std::string_view> fields;
  int64_t line_no = 0;
  for (size_t pos = 0; pos < text.size() && (limit == 0 || r.n < limit);) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = data::trim_csv(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    data::split_csv(line, fields);
    double probe = 0;
    if (expected == 0) {
      if (first_line == 0 && !data::parse_csv_number(fields[0], probe)) {  // a header line
        first_line = -1;
        r.header_skipped = true;
        continue;
      }
      expected = fields.size();
      first_line = line_no;
      if (expected == static_cast<size_t>(inputs) + 1) {
        labelled = true;
      } else if (expected != static_cast<size_t>(inputs)) {
        throw InputError(fmt::format("{}: line {}: {} fields per row, but the model in {} takes {} inputs ({} fields, or {} "
                                     "with the label first)",
                                     path, line_no, expected, ck.path, inputs, inputs, inputs + 1));
      }
    } else if (fields.size() != expected) {
      throw InputError(fmt::format("{}: line {}: {} fields, expected {} as on line {}", path, line_no, fields.size(), expected,
                                   first_line));
    }
    size_t c = 0;
    if (labelled) {
      double label = 0;
      if (!data::parse_csv_number(fields[0], label) || label < 0 || label != std::floor(label) ||
          label >= static_cast<double>(ck.spec.classes))
        throw InputError(fmt::format("{}: line {}, column 1: label {} is not a class of the model (an integer from 0 to {})",
                                     path, line_no, quoted(fields[0]), ck.spec.classes - 1));
      r.labels.push_back(static_cast<int32_t>(label));
      c = 1;
    }
    for (; c < fields.size(); ++c) {
      double v = 0;
      if (!data::parse_csv_number(fields[c], v))
        throw InputError(fmt::format("{}: line {}, column {}: {} is not a finite number", path, line_no, c + 1, quoted(fields[c])));
      if (std::fabs(v) > std::numeric_limits<float>::max())
        throw InputError(fmt::format("{}: line {}, column {}: {} is too large for a 32-bit float", path, line_no, c + 1,
                                     quoted(fields[c])));
      if (v > 1 && r.above_one_line == 0) {
        r.above_one = v;
        r.above_one_line = line_no;
        r.above_one_column = c + 1;
      }
      // Kept as a double until divided: v / 255 rounded once, as data/csv.cpp reads the csv dataset.
      r.raw.push_back(v);
    }
    ++r.n;
  }
  return r;
}

Rows read_rows(const std::string& path, const Checkpoint& ck, int64_t limit) {
  // A file of another kind bnlab knows (a checkpoint, a metrics document, …) is named for what it is,
  // not read as CSV text and refused at its second line. `binary`: a damaged IDX header is the IDX
  // reader's to name, and other bytes the CSV reader's.
  using data::FileKind;
  data::refuse_file_kind(path,
                         {FileKind::idx, FileKind::gzip, FileKind::png, FileKind::pgm, FileKind::ppm, FileKind::csv,
                          FileKind::text, FileKind::empty, FileKind::binary},
                         "an input predict reads", "give IDX images, a PNG / PGM / PPM image or CSV rows");
  const std::vector<uint8_t> bytes = data::read_file_bytes(path);  // InputError for a missing file, bad gzip
  Rows r = bytes.size() >= 2 && bytes[0] == 0 && bytes[1] == 0 ? read_idx_rows(path, ck, limit)
           : data::is_image_file(bytes)                         ? read_image_rows(path, bytes, ck)
                                                                : read_csv_rows(path, bytes, ck, limit);
  if (r.n == 0)
    throw InputError(path + ": no rows to predict" + (r.header_skipped ? " (its first line is not numbers, so it was taken as a header)" : ""));
  return r;
}

// The divisor for the input's values: --pixels, or how training read its own files, or — where that
// would be a guess — an InputError saying what to pass.
double input_divisor(const Rows& rows, const Checkpoint& ck, const PredictFlags& f) {
  if (f.pixels == "255") return 255;
  if (f.pixels == "1") return 1;
  const double trained = training_preparation(ck).divisor;
  const std::string choose = "pass --pixels 255 if they are 0-255 pixels (to divide them by 255), --pixels 1 to use them as they are";
  if (rows.pixel_bytes) {
    if (trained == 255) return 255;
    const std::string kind = rows.format.rfind("IDX", 0) == 0 ? "IDX images hold" : "an image file holds";
    throw InputError(fmt::format("{}: {} 0-255 pixel bytes, but the model in {} was trained on {} ({}): {}", f.input, kind,
                                 ck.path, divisor_text(trained), ck.dataset, choose));
  }
  if (ck.dataset == "csv") return trained;  // the csv dataset's rows, read as its files were
  if (trained == 255 && rows.above_one_line > 0)
    throw InputError(fmt::format("{}: line {}, column {}: value {} is above 1, but the model in {} was trained on pixels divided by 255 "
                                 "into [0, 1] ({}): {}",
                                 f.input, rows.above_one_line, rows.above_one_column, rows.above_one, ck.path, ck.dataset, choose));
  return 1;
}

// The training split's standardization, recomputed as data::load computed it (a checkpoint from
// before the statistics were stored).
data::Standardization recomputed_standardization(const Checkpoint& ck, const PredictFlags& f) {
  data::LoadOptions options = *ck.data;
  options.standardize = false;
  if (!f.data_dir.empty()) options.data_dir = f.data_dir;
  data::Splits splits;
  try {
    splits = data::load(ck.dataset, options);
  } catch (const InputError& e) {
    throw InputError(ck.path + " was trained with --standardize, so predict needs its training data (" + ck.dataset +
                     ") to standardize the input the same way: " + e.what());
  }
  if (!f.quiet)
    std::fprintf(stderr, "standardized the input with the mean and std of %s (%lld rows), as at training\n", splits.train.name.c_str(),
                 static_cast<long long>(splits.train.size()));
  return data::fit_standardization(splits.train);
}

// Divides the values and standardizes them as the checkpoint's training inputs were.
void prepare(Rows& rows, const Checkpoint& ck, const PredictFlags& f) {
  const double divisor = input_divisor(rows, ck, f);
  if (rows.pixel_bytes) {
    // The IDX and CIFAR-10 datasets' scaling exactly (data/idx.cpp, data/cifar10.cpp): v / 255.0f.
    if (divisor != 1)
      for (float& v : rows.x) v /= static_cast<float>(divisor);
  } else {
    rows.x.resize(rows.raw.size());
    for (size_t i = 0; i < rows.raw.size(); ++i) rows.x[i] = static_cast<float>(rows.raw[i] / divisor);
    rows.raw = {};
  }
  const data::Preparation trained = training_preparation(ck);
  const bool stored = trained.standardization.has_value();
  const bool recompute = !stored && ck.data && ck.data->standardize;
  if (!f.data_dir.empty() && !recompute)
    throw UsageError(fmt::format("--data-dir {}: predict reads no training data for {}, which {}", f.data_dir, ck.path,
                                 stored ? "carries its standardization statistics" : "was not trained with --standardize"));
  if (!f.quiet)
    std::fprintf(stderr, "%s: %s (--pixels %g)%s\n", f.input.c_str(), divisor_text(divisor).c_str(), divisor,
                 stored ? ", standardized with the statistics stored in the checkpoint" : "");
  const std::optional<data::Standardization> z =
      stored ? trained.standardization : recompute ? std::optional(recomputed_standardization(ck, f)) : std::nullopt;
  if (z) data::apply_standardization(rows.x, ck.spec.input_features(), *z, f.input);
}

void run_predict(const PredictFlags& f) {
  if (f.limit < 0) throw UsageError(fmt::format("--limit {}: must be >= 0 (0 = all rows)", f.limit));
  if (!f.pixels.empty() && f.pixels != "255" && f.pixels != "1")
    throw UsageError("--pixels " + f.pixels + ": must be 255 (0-255 pixels, divided by 255) or 1 (values used as they are)");
  if (!f.json.empty()) check_output_path("--json", f.json);
  const Checkpoint ck = read_checkpoint(f.checkpoint);
  Rows rows = read_rows(f.input, ck, f.limit);
  prepare(rows, ck, f);

  Predictor predictor(ck, f.threads);
  const std::vector<float> probs = predictor.probabilities(rows.x);
  const std::vector<int32_t> classes = predictor.predict(rows.x);
  const int64_t c = ck.spec.classes;
  const bool labelled = !rows.labels.empty();

  // A model with class names shows the predicted class's name and probability beside its id, and
  // every class's probability only where the line still fits in 100 columns (--json has them all).
  const std::vector<std::string> names = class_names(ck);
  const bool named = names != data::class_ids(c);
  size_t name_width = 4;
  for (const std::string& n : names) name_width = std::max(name_width, n.size());
  const size_t fixed_width = 12 + (named ? 1 + name_width + 8 : 0) + (labelled ? 6 : 0);
  const bool every_class = !named || fixed_width + static_cast<size_t>(c) * 8 <= kPredictWidth;
  std::string head = fmt::format("{:>6} {:>5}", "row", "class");
  if (named) head += fmt::format(" {:<{}} {:>7}", "name", name_width, "p");
  if (labelled) head += fmt::format(" {:>5}", "label");
  if (every_class)
    for (int64_t k = 0; k < c; ++k) head += fmt::format(" {:>7}", fmt::format("p({})", k));
  fmt::print("{}\n", head);
  int64_t correct = 0;
  for (int64_t i = 0; i < rows.n; ++i) {
    const auto row = static_cast<size_t>(i);
    const float* p = probs.data() + i * c;
    std::string line = fmt::format("{:>6} {:>5}", i + 1, classes[row]);
    if (named) line += fmt::format(" {:<{}} {:>7.4f}", names[static_cast<size_t>(classes[row])], name_width, p[classes[row]]);
    if (labelled) {
      line += fmt::format(" {:>5}", rows.labels[row]);
      correct += classes[row] == rows.labels[row];
    }
    if (every_class)
      for (int64_t k = 0; k < c; ++k) line += fmt::format(" {:>7.4f}", p[k]);
    fmt::print("{}\n", line);
  }
  const double accuracy = labelled ? static_cast<double>(correct) / static_cast<double>(rows.n) : 0;
  std::fflush(stdout);
  if (labelled && !f.quiet) fmt::print(stderr, "accuracy {:.4f} ({} of {} labelled rows)\n", accuracy, correct, rows.n);
  if (f.json.empty()) return;

  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (int64_t i = 0; i < rows.n; ++i) {
    const auto row = static_cast<size_t>(i);
    nlohmann::ordered_json r = {{"row", i + 1}, {"class", classes[row]}, {"name", names[static_cast<size_t>(classes[row])]}};
    if (labelled) r["label"] = rows.labels[row];
    r["probabilities"] = std::vector<float>(probs.begin() + i * c, probs.begin() + (i + 1) * c);
    list.push_back(std::move(r));
  }
  nlohmann::ordered_json doc = {{"tool", "bnlab"},        {"version", BNLAB_VERSION}, {"command", "predict"},
                                {"checkpoint", ck.path},  {"input", f.input},         {"format", rows.format},
                                {"model", ck.spec.describe()}, {"classes", c}, {"class_names", names}};
  if (labelled) doc["accuracy"] = accuracy;
  doc["rows"] = std::move(list);
  write_file_atomically(f.json, doc.dump(2) + "\n");
}

}  // namespace

void register_predict(CLI::App& app, CommandResult&) {
  CLI::App* cmd = app.add_subcommand("predict", "predict the class (and its name) and the class probabilities of each row of an "
                                                "IDX or CSV file, or of a PNG or PGM image, with a saved model");
  auto f = std::make_shared<PredictFlags>();
  cmd->add_option("--checkpoint", f->checkpoint, "the model (written by train --checkpoint)")->type_name("PATH")->required();
  cmd->add_option("--input", f->input,
                  "IDX images (raw or .gz), one PNG / PGM (P5, P2) / PPM (P6, P3) image of the model's input size, or CSV "
                  "rows of the model's N inputs, or N+1 fields with the label first")
      ->type_name("FILE")
      ->required();
  add_number_option(*cmd, "--limit", f->limit, "predict the first N rows only (0 = all)")->type_name("N")->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir,
                  "where the training data are, if the model was trained with --standardize (default: the checkpoint's)")
      ->type_name("DIR");
  cmd->add_option("--pixels", f->pixels,
                  "255: the input's values are 0-255 pixels, divide them by 255; 1: use them as they are (default: as the "
                  "model's training data were read; refused where that is a guess)")
      ->type_name("255|1");
  cmd->add_option("--json", f->json, "write the predictions as JSON to PATH")->type_name("PATH");
  add_number_option(*cmd, "--threads", f->threads, "threads the forward passes split their work over", kAtLeastOne)
      ->capture_default_str();
  cmd->add_flag("--quiet", f->quiet, "only the prediction table (stdout): no notes or accuracy on stderr");
  cmd->callback([f] { run_predict(*f); });
}

}  // namespace bnlab::tool
