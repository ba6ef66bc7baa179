// `bnlab report` end to end (issue 16, point 5: reports that never mislead): each input gets a
// folder of its own and a report never replaces another document's; a compare's report carries the
// dataset, the split sizes, the command and the difference rows compare prints (checked against
// numbers computed here from the metrics document); compared panels share one y range; error bars
// and "±" appear with two or more seeds and never with one; the run files of a sweep's store and a
// --csv file are reported on; other files are refused with one line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli_test_support.hpp"

using namespace bnlab::test;

namespace {

// Figures are not rendered (no gnuplot on PATH): the tests read the data and the scripts, and
// skipping gnuplot keeps them fast. test_cli_study renders.
Run bnlab_no_render(const std::string& args, const TempDir& dir) {
  return run_shell("PATH=/nonexistent-bnlab-test " + std::string(BNLAB_TOOL_PATH) + " " + args, dir);
}

constexpr const char* kSmall = "--dataset synthetic --limit-train 600 --limit-test 200 --quiet";

// "{:.4f}", and "-" for a missing number (null in the document).
std::string f4(const json& v) { return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : std::string("-"); }
// A difference as compare prints it: "+0.0123", and "+0.0000" for one that rounds to zero.
std::string signed_text(double v, int precision) {
  if (std::abs(v) < 0.5 * std::pow(10.0, -precision)) v = 0;
  return fmt::format("{:+.{}f}", v, precision);
}

// A Markdown table row with the given cells.
std::string md_row(const std::vector<std::string>& cells) {
  std::string s = "|";
  for (const std::string& c : cells) s += " " + c + " |";
  return s;
}

// The "set yrange [lo:hi]" lines of a gnuplot script, in order.
std::vector<std::pair<double, double>> yranges(const std::string& script) {
  std::vector<std::pair<double, double>> out;
  const std::regex re(R"(set yrange \[([^:\]]+):([^\]]+)\])");
  for (auto it = std::sregex_iterator(script.begin(), script.end(), re); it != std::sregex_iterator(); ++it)
    out.emplace_back(std::stod((*it)[1].str()), std::stod((*it)[2].str()));
  return out;
}

// The y values (and y ± err) of the data blocks `blocks` of a figure's .dat file.
std::vector<double> block_values(const std::string& dat, const std::vector<int>& blocks) {
  std::vector<double> values;
  int block = -1;
  bool in_block = false;
  for (const std::string& line : lines_of(dat)) {
    if (line.rfind("# index ", 0) == 0) {
      block = std::stoi(line.substr(8));
      in_block = std::find(blocks.begin(), blocks.end(), block) != blocks.end();
      continue;
    }
    if (!in_block || line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string x, y, err;
    in >> x >> y >> err;
    if (y == "NaN") continue;
    const double v = std::stod(y);
    values.push_back(v);
    if (!err.empty()) values.push_back(v - std::stod(err)), values.push_back(v + std::stod(err));
  }
  return values;
}

}  // namespace

TEST_CASE("two reports in one folder: each input gets its own folder, and another document's report is never replaced") {
  TempDir dir;
  const std::string a = dir / "a.json", b = dir / "b.json";
  REQUIRE(run_bnlab(std::string("train --model plain --epochs 1 ") + kSmall + " --json " + a, dir).status == 0);
  REQUIRE(run_bnlab(std::string("compare --epochs 2 ") + kSmall + " --json " + b, dir).status == 0);

  // Reports of both, in the folder that holds them: a.report/ and b.report/.
  const Run ra = bnlab_no_render("report " + a, dir);
  REQUIRE(ra.status == 0);
  CHECK(contains(ra.err, "report: " + (dir / "a.report/report.md")));
  REQUIRE(bnlab_no_render("report " + b, dir).status == 0);
  const std::string report_a = read_text(dir / "a.report/report.md"), report_b = read_text(dir / "b.report/report.md");
  CHECK(lines_of(report_a).front() == "<!-- bnlab report of: ../a.json -->");
  CHECK(lines_of(report_b).front() == "<!-- bnlab report of: ../b.json -->");
  CHECK(contains(report_a, "# bnlab train report"));
  CHECK(contains(report_b, "# bnlab compare report"));
  const std::string curves_a = read_text(dir / "a.report/curves.dat");
  CHECK(contains(curves_a, "series 'plain train'"));
  CHECK(!contains(curves_a, "batchnorm"));

  // b's report into a's folder is refused, naming both, and changes nothing there.
  check_error(bnlab_no_render("report " + b + " --out " + (dir / "a.report"), dir), 2,
              {"bnlab: error: report of " + b + ": " + (dir / "a.report/report.md") + " is the report of " + a +
               "; give another --out, or remove " + (dir / "a.report/report.md") + " to replace it"});
  CHECK(read_text(dir / "a.report/report.md") == report_a);
  CHECK(read_text(dir / "a.report/curves.dat") == curves_a);

  // The report of the same document replaces its own, whichever way the folder is named.
  const Run again = bnlab_no_render("report " + a + " --out " + (dir / "a.report/"), dir);
  CHECK(again.status == 0);
  CHECK(lines_of(read_text(dir / "a.report/report.md")).front() == "<!-- bnlab report of: ../a.json -->");

  // A report.md bnlab did not mark: replaced only by the report of the folder's own metrics.json.
  fs::create_directories(dir / "mine");
  write_bytes(dir / "mine/report.md", Bytes{'n', 'o', 't', 'e', 's', '\n'});
  check_error(bnlab_no_render("report " + a + " --out " + (dir / "mine"), dir), 2,
              {"bnlab: error: report of " + a + ": " + (dir / "mine/report.md") +
               " exists and does not say which run it reports on; give another --out, or remove " + (dir / "mine/report.md") +
               " to replace it"});
  CHECK(read_text(dir / "mine/report.md") == "notes\n");
  fs::copy_file(a, dir / "mine/metrics.json");
  const Run own = bnlab_no_render("report " + (dir / "mine"), dir);
  CHECK(own.status == 0);
  CHECK(lines_of(read_text(dir / "mine/report.md")).front() == "<!-- bnlab report of: metrics.json -->");

  // The --csv and the --json of one run: two folders.
  const std::string c = dir / "c.json", csv = dir / "c.csv";
  REQUIRE(run_bnlab(std::string("train --model batchnorm --epochs 2 ") + kSmall + " --json " + c + " --csv " + csv, dir).status == 0);
  REQUIRE(bnlab_no_render("report " + c, dir).status == 0);
  REQUIRE(bnlab_no_render("report " + csv, dir).status == 0);
  CHECK(lines_of(read_text(dir / "c.report/report.md")).front() == "<!-- bnlab report of: ../c.json -->");
  CHECK(lines_of(read_text(dir / "c.csv.report/report.md")).front() == "<!-- bnlab report of: ../c.csv -->");
}

TEST_CASE("the report of a compare carries the dataset, the split sizes, the command and compare's difference rows") {
  TempDir dir;
  const std::string metrics = dir / "compare.json";
  const Run compare = run_bnlab("compare --epochs 3 --dataset synthetic --limit-train 600 --limit-test 200 --json " + metrics, dir);
  REQUIRE(compare.status == 0);
  REQUIRE(bnlab_no_render("report " + metrics, dir).status == 0);
  const std::string report = read_text(dir / "compare.report/report.md");
  const json doc = read_json(metrics);
  const json& plain = doc["runs"][0];
  const json& bn = doc["runs"][1];
  REQUIRE(plain["name"] == "plain");
  REQUIRE(bn["name"] == "batchnorm");

  CHECK(contains(report, "- command: `bnlab compare`\n"));
  const json& c = plain["config"];
  CHECK(contains(report, fmt::format("- dataset: synthetic ({} train / {} validation / {} test rows)\n", c["train_size"].get<int>(),
                                     c["val_size"].get<int>(), c["test_size"].get<int>())));
  CHECK(c["train_size"] == 480);  // 600 rows, 20% held out
  CHECK(c["test_size"] == 200);
  // Settings both runs share once, the ones that differ per run.
  CHECK(contains(report, md_row({"batch_size", "32"})));
  CHECK(contains(report, md_row({"setting", "plain", "batchnorm"})));
  CHECK(contains(report, md_row({"norm", "none", "batch"})));

  // The final difference rows, computed here from the document.
  const auto test = [](const json& run, const char* k) { return run["test"][k].get<double>(); };
  const auto mean_seconds = [](const json& run) {
    double s = 0;
    for (const json& e : run["epochs"]) s += e["seconds"].get<double>();
    return s / static_cast<double>(run["epochs"].size());
  };
  const auto first_reaching = [](const json& run) -> std::string {
    for (const json& e : run["epochs"])
      if (e["val_acc"].is_number() && e["val_acc"].get<double>() >= 0.85) return std::to_string(e["epoch"].get<int>());
    return "never";
  };
  const std::vector<std::string> loss_row = {"test loss", fmt::format("{:.4f}", test(plain, "loss")), fmt::format("{:.4f}", test(bn, "loss")),
                                             signed_text(test(bn, "loss") - test(plain, "loss"), 4)};
  const std::vector<std::string> acc_row = {"test acc", fmt::format("{:.4f}", test(plain, "acc")), fmt::format("{:.4f}", test(bn, "acc")),
                                            signed_text(test(bn, "acc") - test(plain, "acc"), 4)};
  const std::vector<std::string> reach_row = {"first epoch val acc >= 0.85", first_reaching(plain), first_reaching(bn)};
  const std::vector<std::string> time_row = {"mean s/epoch", fmt::format("{:.2f}", mean_seconds(plain)),
                                             fmt::format("{:.2f}", mean_seconds(bn)),
                                             signed_text(mean_seconds(bn) - mean_seconds(plain), 2)};
  CHECK(contains(report, md_row({"", "plain", "batchnorm", "batchnorm - plain"})));
  for (const auto& row : {loss_row, acc_row, reach_row, time_row}) CHECK_MESSAGE(contains(report, md_row(row)), md_row(row));
  // The same rows the terminal showed at the end of the compare (cells separated by spaces there).
  for (const auto& row : {loss_row, acc_row, reach_row}) {
    std::string line;
    for (const std::string& cell : row) line += cell + " ";
    bool found = false;
    for (std::string l : lines_of(compare.err)) {  // the terminal's text is on stderr
      l = std::regex_replace(l, std::regex(" +"), " ");
      if (l + " " == line) found = true;
    }
    CHECK_MESSAGE(found, line);
  }

  // Per epoch: each run's validation loss and accuracy, and batchnorm − plain of each.
  for (size_t e = 0; e < 3; ++e) {
    const json& p = plain["epochs"][e];
    const json& q = bn["epochs"][e];
    const std::vector<std::string> row = {
        std::to_string(e + 1), f4(p["val_loss"]), f4(p["val_acc"]), f4(q["val_loss"]), f4(q["val_acc"]),
        signed_text(q["val_loss"].get<double>() - p["val_loss"].get<double>(), 4),
        signed_text(q["val_acc"].get<double>() - p["val_acc"].get<double>(), 4)};
    CHECK_MESSAGE(contains(report, md_row(row)), md_row(row));
  }
  // The loss and accuracy panels plot different quantities: each its own y range.
  CHECK(yranges(read_text(dir / "compare.report/curves.gp")).empty());
}

TEST_CASE("compared panels share one y range; error bars and ± with two seeds, never with one") {
  TempDir dir;
  const std::string sweep = "sweep --variants plain,batchnorm --batch-sizes 16,64 --epochs 2 ";
  const std::string one = dir / "one", two = dir / "two";
  REQUIRE(bnlab_no_render(sweep + kSmall + " --seeds 0 --out " + one, dir).status == 0);
  REQUIRE(bnlab_no_render(sweep + kSmall + " --seeds 0,1 --out " + two, dir).status == 0);

  for (const std::string& out : {one, two}) {
    CAPTURE(out);
    // sweep-accuracy: validation accuracy (blocks 0, 2: one per variant) beside test accuracy
    // (blocks 1, 3), one y range for both, from the lowest value (or error bar) to the highest
    // with 5% of the span on each side.
    const std::string gp = read_text(out + "/sweep-accuracy.gp"), dat = read_text(out + "/sweep-accuracy.dat");
    const auto ranges = yranges(gp);
    REQUIRE(ranges.size() == 2);
    CHECK(ranges[0] == ranges[1]);
    const std::vector<double> v = block_values(dat, {0, 1, 2, 3});
    REQUIRE(v.size() >= 8);
    const double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
    CHECK(ranges[0].first == doctest::Approx(lo - 0.05 * (hi - lo)).epsilon(1e-6));
    CHECK(ranges[0].second == doctest::Approx(hi + 0.05 * (hi - lo)).epsilon(1e-6));
    // sweep-time: seconds and epochs, different quantities: no shared range.
    CHECK(yranges(read_text(out + "/sweep-time.gp")).empty());
    // sweep-curves: one panel per variant, one range.
    const auto curves = yranges(read_text(out + "/sweep-curves.gp"));
    REQUIRE(curves.size() == 2);
    CHECK(curves[0] == curves[1]);
  }

  const std::string report1 = read_text(one + "/report.md"), gp1 = read_text(one + "/sweep-accuracy.gp");
  CHECK(!contains(report1, "±"));
  CHECK(!contains(gp1, "±"));
  CHECK(!contains(gp1, "yerrorlines"));
  CHECK(contains(gp1, "Sweep: final accuracy against batch size (one seed)"));
  CHECK(contains(report1, "## Summary (one seed)"));
  CHECK(contains(read_text(one + "/sweep-curves.gp"), "(one seed)"));

  const std::string report2 = read_text(two + "/report.md"), gp2 = read_text(two + "/sweep-accuracy.gp");
  CHECK(contains(report2, "## Summary (mean ± std over 2 seeds)"));
  CHECK(contains(gp2, "Sweep: final accuracy against batch size (mean ± std over 2 seeds)"));
  // Every series of both panels has its error bars.
  size_t bars = 0;
  for (size_t at = gp2.find("yerrorlines"); at != std::string::npos; at = gp2.find("yerrorlines", at + 1)) ++bars;
  CHECK(bars == 4);
  // The summary's accuracy cells are mean ± std: the sample std of the two seeds' values.
  const json doc = read_json(two + "/metrics.json");
  std::vector<double> acc;
  for (const json& r : doc["runs"])
    if (r["config"]["preset"] == "plain" && r["config"]["batch_size"] == 16) acc.push_back(r["test"]["acc"].get<double>());
  REQUIRE(acc.size() == 2);
  const double mean = (acc[0] + acc[1]) / 2, sd = std::abs(acc[0] - acc[1]) / std::sqrt(2.0);
  CHECK(contains(report2, fmt::format("{:.4f} ± {:.4f}", mean, sd)));
}

TEST_CASE("report of a sweep's run file, and of a --csv file") {
  TempDir dir;
  const std::string out = dir / "sweep";
  REQUIRE(bnlab_no_render(std::string("sweep --variants batchnorm --batch-sizes 16 --epochs 2 --seeds 0 ") + kSmall + " --out " + out,
                          dir)
              .status == 0);
  const std::string run_file = out + "/runs/batchnorm-bs16-seed0.json";
  REQUIRE(fs::exists(run_file));
  const Run r = bnlab_no_render("report " + run_file, dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string report = read_text(out + "/runs/batchnorm-bs16-seed0.report/report.md");
  const json run = read_json(run_file);
  CHECK(contains(report, "# bnlab report of run batchnorm-bs16-seed0\n"));
  CHECK(contains(report, "a run file (one run of a sweep's or study's run store)"));
  CHECK(contains(report, md_row({"batch_size", "16"})));
  CHECK(contains(report, fmt::format("- dataset: synthetic ({} train / {} validation / {} test rows)",
                                     run["config"]["train_size"].get<int>(), run["config"]["val_size"].get<int>(),
                                     run["config"]["test_size"].get<int>())));
  CHECK(contains(report, "| batchnorm-bs16-seed0 | 20-128-64-4 |"));
  CHECK(contains(report, f4(run["test"]["acc"])));
  CHECK(fs::exists(out + "/runs/batchnorm-bs16-seed0.report/curves.gp"));
  // The sweep's store still reads its runs (the report's folder is named like no run).
  CHECK(bnlab_no_render(std::string("sweep --variants batchnorm --batch-sizes 16 --epochs 2 --seeds 0 ") + kSmall + " --out " + out, dir)
            .err.find("1 runs (0 trained, 1 reused)") != std::string::npos);

  // A --csv: the curves, the runs' per-epoch numbers, and what the CSV does not hold said plainly.
  const std::string csv = dir / "c.csv", js = dir / "c.json";
  REQUIRE(run_bnlab(std::string("compare --epochs 2 ") + kSmall + " --csv " + csv + " --json " + js, dir).status == 0);
  REQUIRE(bnlab_no_render("report " + csv, dir).status == 0);
  const std::string from_csv = read_text(dir / "c.csv.report/report.md");
  CHECK(contains(from_csv, "# bnlab report of a metrics CSV\n"));
  CHECK(contains(from_csv, "not in a metrics CSV"));
  const json doc = read_json(js);
  for (const json& v : doc["runs"]) {
    // Model, norm, optimizer, lr and batch are not in the CSV, nor the test scores and the status;
    // the epochs, the final accuracies and the seconds are.
    const json& last = v["epochs"].back();
    const double seconds = (v["epochs"][0]["seconds"].get<double>() + v["epochs"][1]["seconds"].get<double>()) / 2;
    const std::string row = md_row({v["name"].get<std::string>(), "?", "?", "?", "?", "?", "2", f4(last["train_acc"]),
                                    f4(last["val_acc"]), "-", "-", fmt::format("{:.2f}", seconds), "-"});
    CHECK_MESSAGE(contains(from_csv, row), row);
  }
  // The same curves as from the metrics document: the CSV's numbers are the document's (both
  // written as the shortest text that reads back the same double).
  REQUIRE(bnlab_no_render("report " + js, dir).status == 0);
  const auto data_lines = [](const std::string& path) {
    std::vector<std::string> out;
    for (const std::string& l : lines_of(read_text(path)))
      if (l.empty() || l[0] != '#') out.push_back(l);
    return out;
  };
  const std::vector<std::string> from_json = data_lines(dir / "c.report/curves.dat");
  CHECK(from_json.size() > 8);
  CHECK(data_lines(dir / "c.csv.report/curves.dat") == from_json);
}

TEST_CASE("report refuses, with one line naming the file, what it cannot report on") {
  TempDir dir;
  const std::string ckpt = dir / "model.safetensors";
  REQUIRE(run_bnlab(std::string("train --model plain --epochs 1 ") + kSmall + " --checkpoint " + ckpt, dir).status == 0);
  check_error(bnlab_no_render("report " + ckpt, dir), 2,
              {ckpt + " is not a file bnlab can report on (it looks like a safetensors checkpoint); give a metrics document (--json of "
                      "train, compare, sweep or study), a run file of a sweep or study (DIR/runs/NAME.json), a --csv file, or a sweep "
                      "or study directory"});
  CHECK(!fs::exists(dir / "model.safetensors.report"));

  const std::string other = dir / "other.json";
  write_bytes(other, Bytes{'{', '"', 'a', '"', ':', '1', '}'});
  check_error(bnlab_no_render("report " + other, dir), 2,
              {other + ": JSON, but not a bnlab metrics document (no \"runs\" list) nor a run file (no \"name\" and \"epochs\")"});

  const std::string csv = dir / "bad.csv";
  const std::string text = "run,epoch,train_loss,train_acc,val_loss,val_acc,seconds,samples_per_second\n"
                           "plain,1,0.5,0.8,0.4,0.85,1.0,100\n"
                           "plain,2,0.4,0.9,abc,0.86,1.0,100\n";
  write_bytes(csv, Bytes(text.begin(), text.end()));
  check_error(bnlab_no_render("report " + csv, dir), 2, {csv + ": line 3: val_loss 'abc' is not a number"});
  const std::string short_row = "run,epoch,train_loss,train_acc,val_loss,val_acc,seconds,samples_per_second\nplain,1,0.5\n";
  write_bytes(csv, Bytes(short_row.begin(), short_row.end()));
  check_error(bnlab_no_render("report " + csv, dir), 2, {csv + ": line 2: 3 fields where the header has 8"});
  CHECK(!fs::exists(dir / "bad.csv.report/report.md"));
}
