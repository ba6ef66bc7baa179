// Figures drawn with gnuplot: a figure is described as data (panels of x/y series), written as a
// data file and a gnuplot script, and rendered to SVG and PNG when gnuplot is installed (Debian
// gnuplot-nox). Without gnuplot the data and scripts are still written, and `gnuplot DIR/NAME.gp`
// renders them later, from any working directory.
//
//   Figure f{.name = "curves", .title = "plain vs batchnorm"};
//   f.panels.push_back({.title = "validation accuracy", .xlabel = "epoch", .ylabel = "accuracy",
//                       .series = {{.title = "plain", .x = {1, 2}, .y = {0.84, 0.86}, .color = 0}}});
//   FigureOutput out = write_figures("runs/compare", {f}, /*render=*/gnuplot_available());
//
// Two rules keep a figure from misleading:
//   - panels of one figure that plot the same quantity (the same y label on the same kind of axis)
//     are drawn on one y range, the union of their data: two panels side by side, 0.74–0.79 and
//     0.7655–0.7695 each autoscaled, would make a difference of 0.004 look as large as one of 0.05;
//   - error bars are drawn for a series whose `err` has at least one finite value (a std over two
//     or more seeds) and for no other: a std over one seed is NaN, so one seed draws plain lines.
//     Titles say which with seeds_note().
//
// Files per figure: NAME.dat (one block per series: "x y [err]", blocks separated by two blank
// lines, so gnuplot's `index` picks them), NAME.gp, and after rendering NAME.svg and NAME.png
// (rendered as NAME.svg.tmp / NAME.png.tmp and renamed when gnuplot is done: whole or absent).
#pragma once

#include <optional>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace bnlab::lab {

struct Series {
  std::string title;
  std::vector<double> x, y;
  std::vector<double> err;  // optional: error bars (± err), same length as y
  int color = -1;           // index into the palette; -1 = the series' position
  bool dashed = false;
  bool points = true;       // linespoints (true) or lines
};

// A series as both the report's and the study's figures build it: points on, the look given, and
// `err` empty where there are no error bars.
Series make_series(const std::string& title, std::vector<double> x, std::vector<double> y, std::vector<double> err,
                   int color, bool dashed = false);

struct Panel {
  std::string title, xlabel, ylabel;
  int logx = 0;                      // 0 = linear, else the log base (2, 10)
  bool logy = false;
  std::string key = "below";         // "below" the plot (never hides data), a gnuplot position inside ("top left"), or "off"
  double xstep = 0;                  // > 0: x tics at this step (epochs: 1); 0 = gnuplot's choice
  std::optional<double> hline;       // a dashed horizontal reference line (e.g. the threshold)
  std::string hline_title;
  std::vector<Series> series;
};

struct Figure {
  std::string name;   // file stem: letters, digits, '-', '_'
  std::string title;
  std::vector<Panel> panels;
  int columns = 2;    // panels per row
  std::string caption;  // one line for the report
};

struct FigureOutput {
  std::vector<std::string> names;  // figures written (stems)
  bool rendered = false;           // SVG/PNG produced
  std::string note;                // what happened: rendered, or how to render
};

// What a figure of `seeds` seeds shows: "mean ± std over 3 seeds", or "one seed" (no spread to show).
std::string seeds_note(size_t seeds);

// The y range panel `panel` of `f` is drawn on when it shares it with other panels of `f` (the same
// ylabel and logy; see above): [lo, hi] covering every drawable point, error bar and reference line
// of those panels with 5% of the span as margin on each side (on a log axis: of the log span, then
// out to the decades around it, which are the tics gnuplot labels there).
// nullopt when the panel has no such partner, or no data.
std::optional<std::pair<double, double>> shared_yrange(const Figure& f, size_t panel);

// A figure as JSON and back (the study stores its figures' data in the metrics document, so
// `bnlab report` can redraw them). Non-finite numbers are written as null and read back as NaN.
nlohmann::ordered_json figure_to_json(const Figure& f);
Figure figure_from_json(const nlohmann::ordered_json& j);

// Whether `gnuplot` is on PATH.
bool gnuplot_available();

// The gnuplot script of `f` (reads NAME.dat beside the script, writes NAME.svg and NAME.png).
std::string gnuplot_script(const Figure& f);
// The data file of `f`.
std::string gnuplot_data(const Figure& f);

// Writes every figure's .dat and .gp into `dir` (created if needed) and, with `render`, runs
// gnuplot on each. A figure gnuplot fails on is reported in the note, not thrown: the data stays.
FigureOutput write_figures(const std::string& dir, const std::vector<Figure>& figures, bool render);

}  // namespace bnlab::lab
