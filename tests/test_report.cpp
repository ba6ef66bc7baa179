// The report's building blocks in lab/, without the tool: the y range compared panels share, error
// bars only where there is a spread, compare's difference rows and their text, a --csv read back,
// and the source line that keeps one report from replacing another's (test_cli_report runs them
// end to end).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "data_test_support.hpp"
#include "graph/errors.hpp"
#include "lab/compare_summary.hpp"
#include "lab/metrics_csv.hpp"
#include "lab/metrics_json.hpp"
#include "lab/plots.hpp"
#include "lab/report.hpp"
#include "lab/report_input.hpp"

using namespace bnlab;
using namespace bnlab::lab;
using json = nlohmann::ordered_json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Panel accuracy_panel(const std::string& title, std::vector<double> y) {
  Panel p{.title = title, .xlabel = "batch size", .ylabel = "accuracy", .logx = 2};
  p.series.push_back(make_series("plain", {16, 32, 64}, std::move(y), {}, 0));
  return p;
}

RunRecord run(const std::string& name, std::vector<double> val_acc, std::vector<double> seconds, double test_loss, double test_acc) {
  RunRecord r;
  r.name = name;
  for (size_t i = 0; i < val_acc.size(); ++i)
    r.epochs.push_back({.epoch = static_cast<int>(i + 1), .train_loss = 1.0, .train_acc = 0.5, .val_loss = 1.0 - val_acc[i],
                        .val_acc = val_acc[i], .seconds = seconds[i]});
  r.test = EvalMetrics{.loss = test_loss, .acc = test_acc};
  return r;
}

}  // namespace

TEST_CASE("panels of the same quantity share one y range: 0.74–0.79 beside 0.7655–0.7695 both drawn on [0.7375, 0.7925]") {
  Figure f{.name = "acc", .title = "t"};
  f.panels = {accuracy_panel("validation", {0.74, 0.79, 0.76}), accuracy_panel("test", {0.7655, 0.7695, 0.768})};
  Panel seconds{.title = "time", .xlabel = "batch size", .ylabel = "seconds", .logx = 2};
  seconds.series.push_back(make_series("plain", {16, 32, 64}, {3, 2, 1}, {}, 0));
  f.panels.push_back(seconds);
  // The union 0.74..0.79, with 5% of its span (0.0025) on each side.
  for (size_t p : {0, 1}) {
    const auto r = shared_yrange(f, p);
    REQUIRE(r);
    CHECK(r->first == doctest::Approx(0.7375).epsilon(1e-12));
    CHECK(r->second == doctest::Approx(0.7925).epsilon(1e-12));
  }
  CHECK(!shared_yrange(f, 2));  // seconds: no partner
  const std::string script = gnuplot_script(f);
  size_t shared = 0;
  for (size_t at = script.find("set yrange [0.7375:0.7925]"); at != std::string::npos; at = script.find("set yrange [0.7375:0.7925]", at + 1))
    ++shared;
  CHECK(shared == 2);
  CHECK(script.find("set yrange", script.find("# panel: time")) == std::string::npos);

  // Error bars and the reference line widen the range; a log axis is padded in log10.
  f.panels[1].series[0].err = {0.02, 0.0, 0.0};
  f.panels[0].hline = 0.8;
  auto r = shared_yrange(f, 0);
  REQUIRE(r);
  CHECK(r->first == doctest::Approx(0.74 - 0.05 * (0.8 - 0.74)));
  CHECK(r->second == doctest::Approx(0.8 + 0.05 * (0.8 - 0.74)));
  Figure logs{.name = "g"};
  for (double top : {10.0, 1000.0}) {
    Panel p{.title = "grad", .xlabel = "epoch", .ylabel = "L2 norm", .logy = true};
    p.series.push_back(make_series("fc1", {1, 2}, {1.0, top}, {}, 0));
    logs.panels.push_back(p);
  }
  r = shared_yrange(logs, 0);
  REQUIRE(r);
  // log10 0..3, padded to -0.15..3.15, out to the decades: 0.1..10000.
  CHECK(r->first == doctest::Approx(0.1));
  CHECK(r->second == doctest::Approx(10000));
}

TEST_CASE("error bars only where there is a spread: a std over one seed (NaN) draws a plain line") {
  Figure f{.name = "acc"};
  Panel p{.title = "p", .xlabel = "batch size", .ylabel = "accuracy"};
  p.series.push_back(make_series("one seed", {16, 32}, {0.8, 0.81}, {kNaN, kNaN}, 0));
  p.series.push_back(make_series("two seeds", {16, 32}, {0.8, 0.81}, {0.01, kNaN}, 1));
  f.panels.push_back(p);
  const std::string script = gnuplot_script(f), data = gnuplot_data(f);
  CHECK(script.find("index 0 using 1:2 with linespoints") != std::string::npos);
  CHECK(script.find("index 1 using 1:2:3 with yerrorlines") != std::string::npos);
  CHECK(data.find("16 0.8\n32 0.81\n") != std::string::npos);
  CHECK(data.find("16 0.8 0.01\n32 0.81 0\n") != std::string::npos);
  CHECK(seeds_note(1) == "one seed");
  CHECK(seeds_note(3) == "mean ± std over 3 seeds");
}

TEST_CASE("compare's difference rows: each variant's numbers, then batchnorm - plain") {
  const std::vector<RunRecord> runs = {run("plain", {0.80, 0.84, 0.86}, {1.0, 1.5, 2.0}, 0.41, 0.855),
                                       run("batchnorm", {0.86, 0.87, 0.88}, {2.0, 2.0, 2.5}, 0.38, 0.87)};
  const json t = compare_summary_table(runs, 0.85);
  CHECK(t["columns"] == json({"", "plain", "batchnorm", "batchnorm - plain"}));
  CHECK(t["rows"][0] == json({"test loss", "0.4100", "0.3800", "-0.0300"}));
  CHECK(t["rows"][1] == json({"test acc", "0.8550", "0.8700", "+0.0150"}));
  CHECK(t["rows"][2] == json({"first epoch val acc >= 0.85", "3", "1"}));
  CHECK(t["rows"][3] == json({"mean s/epoch", "1.50", "2.17", "+0.67"}));
  // As compare prints it: labels padded to the longest (27), cells right-aligned to their header
  // (at least 9).
  CHECK(compare_summary_text(t) ==
        "                                 plain  batchnorm  batchnorm - plain\n"
        "test loss                       0.4100     0.3800            -0.0300\n"
        "test acc                        0.8550     0.8700            +0.0150\n"
        "first epoch val acc >= 0.85          3          1\n"
        "mean s/epoch                      1.50       2.17              +0.67\n");
  const json e = compare_epoch_table(runs);
  CHECK(e["columns"] == json({"epoch", "plain val loss", "plain val acc", "batchnorm val loss", "batchnorm val acc",
                              "batchnorm - plain val loss", "batchnorm - plain val acc"}));
  CHECK(e["rows"][0] == json({"1", "0.2000", "0.8000", "0.1400", "0.8600", "-0.0600", "+0.0600"}));
  CHECK(e["rows"][2] == json({"3", "0.1400", "0.8600", "0.1200", "0.8800", "-0.0200", "+0.0200"}));
}

TEST_CASE("a --csv file read back has the numbers metrics_csv wrote; other text is refused naming the file") {
  std::vector<RunRecord> runs = {run("plain", {0.8, 0.81}, {1.25, 1.5}, 0.4, 0.8), run("a,\"b\"", {0.7, kNaN}, {1, 2}, 0.5, 0.7)};
  const ReportInput in = report_input_from_text("m.csv", metrics_csv(runs));
  CHECK(in.kind == ReportInputKind::csv);
  const std::vector<StoredRun> back = runs_from_json(in.doc["runs"]);
  REQUIRE(back.size() == 2);
  CHECK(back[1].record.name == "a,\"b\"");
  CHECK(back[0].config.empty());
  CHECK(!back[0].record.test);
  REQUIRE(back[0].record.epochs.size() == 2);
  CHECK(back[0].record.epochs[1].val_acc == 0.81);
  CHECK(back[0].record.epochs[1].seconds == 1.5);
  CHECK(std::isnan(back[1].record.epochs[1].val_acc));

  const ReportInput doc = report_input_from_text("d.json", metrics_document("train", runs).dump());
  CHECK(doc.kind == ReportInputKind::document);
  const ReportInput file = report_input_from_text("r.json", run_json(runs[0]).dump());
  CHECK(file.kind == ReportInputKind::run_file);
  CHECK(file.doc["runs"][0]["name"] == "plain");

  const auto message = [](const std::string& text) {
    try {
      (void)report_input_from_text("x", text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(std::string("\x10\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\"", 24)).rfind("x: not a file bnlab can report on; ", 0) == 0);
  CHECK(message("[1, 2]").rfind("x: not a file bnlab can report on; ", 0) == 0);
  CHECK(message("{\"runs\": 3}") == "x: not a bnlab metrics document (\"runs\" is not a list)");
  CHECK(message("{\"runs\": [").rfind("x: not a JSON document: ", 0) == 0);
  CHECK(message("run,epoch\nplain,0\n") == "x: line 2: epoch '0' is not an epoch number");
}

TEST_CASE("report.md names its source; a report of another source is refused, of the same one replaces it") {
  bnlab::test::TempDir dir;
  const std::string out = dir / "out";
  const json doc = metrics_document("train", {run("plain", {0.8}, {1}, 0.4, 0.8)});
  write_report(doc, out, "../a.json", false);
  CHECK(report_source(out) == std::optional<std::string>("../a.json"));
  CHECK_NOTHROW(write_report(doc, out, dir / "a.json", false));  // the same file, spelled absolutely
  CHECK(report_source(out) == std::optional<std::string>(dir / "a.json"));
  CHECK_THROWS_WITH_AS(check_report_destination(out, "../b.json"),
                       ("report of " + (dir / "b.json") + ": " + out + "/report.md is the report of " + (dir / "a.json") +
                        "; give another --out, or remove " + out + "/report.md to replace it")
                           .c_str(),
                       UsageError);
  CHECK(!report_source(dir / "none"));
}
