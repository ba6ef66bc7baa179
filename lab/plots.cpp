#include "lab/plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "graph/errors.hpp"
#include "train/atomic_file.hpp"

namespace bnlab::lab {

namespace fs = std::filesystem;

namespace {

// A palette that stays distinguishable in print and for the common colour-vision deficiencies.
constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

// A gnuplot single-quoted string: only the quote itself needs escaping (doubled).
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

// A shell single-quoted word.
std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.9g}", v) : std::string("NaN"); }

// A point gnuplot can draw on this panel's axes.
bool drawable(const Panel& p, double x, double y) {
  if (!std::isfinite(x) || !std::isfinite(y)) return false;
  if (p.logx && x <= 0) return false;
  if (p.logy && y <= 0) return false;
  return true;
}

bool has_points(const Panel& p, const Series& s) {
  for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
    if (drawable(p, s.x[i], s.y[i])) return true;
  return false;
}

// Error bars only where there is a spread: a std over one seed is NaN (run_stats.hpp mean_std).
bool has_errors(const Series& s) {
  return std::any_of(s.err.begin(), s.err.end(), [](double e) { return std::isfinite(e); });
}

}  // namespace

namespace {

nlohmann::ordered_json numbers_json(const std::vector<double>& v) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (double x : v) a.push_back(std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr));
  return a;
}

std::vector<double> numbers_from(const nlohmann::ordered_json& j, const char* key) {
  std::vector<double> v;
  if (!j.contains(key) || !j[key].is_array()) return v;
  for (const auto& x : j[key]) v.push_back(x.is_number() ? x.get<double>() : std::nan(""));
  return v;
}

}  // namespace

Series make_series(const std::string& title, std::vector<double> x, std::vector<double> y, std::vector<double> err,
                   int color, bool dashed) {
  Series s;
  s.title = title;
  s.x = std::move(x);
  s.y = std::move(y);
  s.err = std::move(err);
  s.color = color;
  s.dashed = dashed;
  return s;
}

nlohmann::ordered_json figure_to_json(const Figure& f) {
  nlohmann::ordered_json panels = nlohmann::ordered_json::array();
  for (const Panel& p : f.panels) {
    nlohmann::ordered_json series = nlohmann::ordered_json::array();
    for (const Series& s : p.series) {
      nlohmann::ordered_json j = {{"title", s.title}, {"x", numbers_json(s.x)}, {"y", numbers_json(s.y)}};
      if (!s.err.empty()) j["err"] = numbers_json(s.err);
      j["color"] = s.color;
      j["dashed"] = s.dashed;
      j["points"] = s.points;
      series.push_back(std::move(j));
    }
    nlohmann::ordered_json j = {{"title", p.title}, {"xlabel", p.xlabel}, {"ylabel", p.ylabel}, {"logx", p.logx},
                                {"logy", p.logy},   {"key", p.key},       {"xstep", p.xstep}};
    if (p.hline) {
      j["hline"] = *p.hline;
      j["hline_title"] = p.hline_title;
    }
    j["series"] = std::move(series);
    panels.push_back(std::move(j));
  }
  return {{"name", f.name}, {"title", f.title}, {"columns", f.columns}, {"caption", f.caption}, {"panels", std::move(panels)}};
}

Figure figure_from_json(const nlohmann::ordered_json& j) {
  Figure f;
  f.name = j.value("name", std::string("figure"));
  f.title = j.value("title", std::string());
  f.columns = j.value("columns", 2);
  f.caption = j.value("caption", std::string());
  if (!j.contains("panels")) return f;
  for (const auto& pj : j["panels"]) {
    Panel p;
    p.title = pj.value("title", std::string());
    p.xlabel = pj.value("xlabel", std::string());
    p.ylabel = pj.value("ylabel", std::string());
    p.logx = pj.value("logx", 0);
    p.logy = pj.value("logy", false);
    p.key = pj.value("key", std::string("top right"));
    p.xstep = pj.value("xstep", 0.0);
    if (pj.contains("hline") && pj["hline"].is_number()) {
      p.hline = pj["hline"].get<double>();
      p.hline_title = pj.value("hline_title", std::string());
    }
    if (pj.contains("series"))
      for (const auto& sj : pj["series"]) {
        Series s;
        s.title = sj.value("title", std::string());
        s.x = numbers_from(sj, "x");
        s.y = numbers_from(sj, "y");
        s.err = numbers_from(sj, "err");
        s.color = sj.value("color", -1);
        s.dashed = sj.value("dashed", false);
        s.points = sj.value("points", true);
        p.series.push_back(std::move(s));
      }
    f.panels.push_back(std::move(p));
  }
  return f;
}

std::string seeds_note(size_t seeds) { return seeds >= 2 ? fmt::format("mean ± std over {} seeds", seeds) : "one seed"; }

std::optional<std::pair<double, double>> shared_yrange(const Figure& f, size_t panel) {
  const Panel& me = f.panels.at(panel);
  bool shared = false;
  for (size_t i = 0; i < f.panels.size(); ++i)
    if (i != panel && f.panels[i].ylabel == me.ylabel && f.panels[i].logy == me.logy) shared = true;
  if (!shared) return std::nullopt;
  // On a log axis the range is taken, and padded, in log10.
  const auto axis = [&](double y) { return me.logy ? std::log10(y) : y; };
  const auto usable = [&](double y) { return std::isfinite(y) && (!me.logy || y > 0); };
  double lo = INFINITY, hi = -INFINITY;
  const auto add = [&](double y) {
    if (!usable(y)) return;
    lo = std::min(lo, axis(y));
    hi = std::max(hi, axis(y));
  };
  for (const Panel& p : f.panels) {
    if (p.ylabel != me.ylabel || p.logy != me.logy) continue;
    for (const Series& s : p.series)
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!drawable(p, s.x[i], s.y[i])) continue;
        add(s.y[i]);
        if (has_errors(s) && i < s.err.size() && std::isfinite(s.err[i])) {
          add(s.y[i] - s.err[i]);
          add(s.y[i] + s.err[i]);
        }
      }
    if (p.hline) add(*p.hline);
  }
  if (!(lo <= hi)) return std::nullopt;
  // A flat range (one value) gets a margin of its own size, or 0.05 around zero.
  const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(0.05 * std::abs(lo), me.logy ? 0.05 : 1e-3);
  lo -= pad;
  hi += pad;
  // A log axis labels its decades only: a range from decade to decade always shows some.
  if (me.logy) return std::pair{std::pow(10.0, std::floor(lo)), std::pow(10.0, std::ceil(hi))};
  return std::pair{lo, hi};
}

bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

std::string gnuplot_data(const Figure& f) {
  std::string out = fmt::format("# {}: {}\n# one block per series (gnuplot index 0, 1, …): x y [err]\n", f.name, f.title);
  int index = 0;
  for (size_t p = 0; p < f.panels.size(); ++p)
    for (const Series& s : f.panels[p].series) {
      out += fmt::format("# index {}: panel '{}', series '{}'\n", index++, f.panels[p].title, s.title);
      // An empty block would merge with its neighbours' separators and shift every later index.
      if (s.x.empty() || s.y.empty()) out += has_errors(s) ? "NaN NaN 0\n" : "NaN NaN\n";
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        out += number(s.x[i]) + " " + number(s.y[i]);
        // NaN error bars (one seed: no spread) are drawn as none.
        if (has_errors(s)) out += " " + number(i < s.err.size() && std::isfinite(s.err[i]) ? s.err[i] : 0.0);
        out += "\n";
      }
      out += "\n\n";
    }
  return out;
}

// Lines a key "below" the panel takes: two entries per line.
int key_lines(const Panel& p) {
  if (p.key != "below") return 0;
  int entries = p.hline ? 1 : 0;
  for (const Series& s : p.series) entries += has_points(p, s);
  return (entries + 1) / 2;
}

std::string gnuplot_script(const Figure& f) {
  const int n = static_cast<int>(f.panels.size());
  const int cols = std::max(1, std::min(f.columns, n));
  const int rows = std::max(1, (n + cols - 1) / cols);
  int max_key_lines = 0;
  for (const Panel& p : f.panels) max_key_lines = std::max(max_key_lines, key_lines(p));
  std::ostringstream s;
  s << "# " << f.name << ": " << f.title << "\n"
    << "# Data: " << f.name << ".dat beside this script. Render (from any directory): gnuplot path/to/" << f.name << ".gp\n"
    << "# Writes " << f.name << ".svg and " << f.name << ".png beside this script.\n"
    << "if (strstrt(ARG0, '/') > 0) { cd system(\"dirname '\" . ARG0 . \"'\") }\n"
    << "set datafile missing 'NaN'\n"
    << "if (!exists('output_suffix')) { output_suffix = '' }  # bnlab renders to NAME.png.tmp, then renames\n"
    << "W = " << 520 * cols << "; H = " << (380 + 20 * max_key_lines) * rows + (f.title.empty() ? 0 : 30) << "\n"
    << "do for [fmt in 'svg png'] {\n"
    << "  if (fmt eq 'svg') {\n"
    << "    set terminal svg size W,H dynamic font 'Sans,11' background '#ffffff'\n"
    << "    set output " << quoted(f.name + ".svg") << " . output_suffix\n"
    << "  } else {\n"
    << "    if (strstrt(GPVAL_TERMINALS, ' pngcairo ') > 0) { set terminal pngcairo size W,H font 'Sans,10' background '#ffffff' } "
       "else { set terminal png size W,H background '#ffffff' }\n"
    << "    set output " << quoted(f.name + ".png") << " . output_suffix\n"
    << "  }\n"
    << "  set termoption noenhanced\n"
    << "  set multiplot layout " << rows << "," << cols << (f.title.empty() ? "" : " title " + quoted(f.title)) << "\n";
  int index = 0;
  for (size_t panel = 0; panel < f.panels.size(); ++panel) {
    const Panel& p = f.panels[panel];
    const std::optional<std::pair<double, double>> yrange = shared_yrange(f, panel);
    s << "  # panel: " << p.title << "\n"
      << "  set title " << quoted(p.title) << "\n"
      << "  set xlabel " << quoted(p.xlabel) << "\n"
      << "  set ylabel " << quoted(p.ylabel) << "\n"
      << "  unset logscale\n"
      << "  unset label\n"
      << "  set autoscale\n"
      << "  set grid lc rgb '#dddddd'\n"
      // A shared y range has its margin already (shared_yrange); the others get gnuplot's.
      << "  set offsets graph 0.03, graph 0.03, " << (yrange ? "0, 0" : "graph 0.05, graph 0.05") << "\n";
    if (yrange)
      s << "  set yrange [" << number(yrange->first) << ":" << number(yrange->second) << "]  # shared by the panels of '"
        << p.ylabel << "'\n";
    s << "  set xtics autofreq\n";
    double xstep = p.xstep;
    if (p.xlabel == "epoch" && !p.logx) {
      // Epochs are whole numbers: tics at 1, 2, 3 … rather than 1.2, 1.4, … while they fit, and the
      // range just around them (autoscale would extend 1..5 to 0..6).
      double min_x = 1e300, max_x = -1e300;
      for (const Series& ser : p.series)
        for (double x : ser.x)
          if (std::isfinite(x)) min_x = std::min(min_x, x), max_x = std::max(max_x, x);
      if (min_x <= max_x) {
        if (xstep <= 0 && max_x <= 20) xstep = 1;
        const double pad = std::max(0.25, 0.03 * (max_x - min_x));
        s << "  set xrange [" << number(min_x - pad) << ":" << number(max_x + pad) << "]\n";
      }
    }
    if (xstep > 0) s << "  set xtics " << number(xstep) << "\n";
    // Log axes label their tics 0.001, 0.01 … rather than 0.00100.
    s << "  set format x " << (p.logx ? "'%g'" : "'% h'") << "\n";
    s << "  set format y " << (p.logy ? "'%g'" : "'% h'") << "\n";
    if (p.logx) s << "  set logscale x " << p.logx << "\n";
    if (p.logy) s << "  set logscale y\n";
    if (p.key == "off") {
      s << "  unset key\n  set bmargin -1\n";
    } else if (p.key == "below") {
      // Room for the key under the x label (all panels of the figure alike, so their frames line up).
      s << "  set key below horizontal maxcols 2 box lc rgb '#cccccc'\n  set bmargin " << 4 + max_key_lines << "\n";
    } else {
      s << "  set key " << p.key << " opaque box lc rgb '#cccccc'\n  set bmargin -1\n";
    }
    std::vector<std::string> plots;
    for (size_t i = 0; i < p.series.size(); ++i) {
      const Series& ser = p.series[i];
      const int this_index = index++;
      if (!has_points(p, ser)) continue;
      const int color = (ser.color >= 0 ? ser.color : static_cast<int>(i)) % kPaletteSize;
      const bool err = has_errors(ser);
      const std::string style = err ? (ser.points ? "yerrorlines" : "yerrorlines pt -1") : (ser.points ? "linespoints" : "lines");
      plots.push_back(fmt::format("{} index {} using 1:2{} with {} lc rgb '{}' lw 1.5 dt {}{} title {}", quoted(f.name + ".dat"),
                                  this_index, err ? ":3" : "", style, kPalette[color], ser.dashed ? 2 : 1,
                                  ser.points ? " pt 7 ps 0.5" : "", quoted(ser.title)));
    }
    if (plots.empty()) {
      // gnuplot refuses to plot nothing: an empty frame that says so.
      s << "  unset logscale\n  set xrange [0:1]\n  set yrange [0:1]\n"
        << "  set label 1 'no data' at graph 0.5, graph 0.5 center\n"
        << "  plot 2 notitle\n"
        << "  unset label 1\n";
      continue;
    }
    if (p.hline)
      plots.push_back(fmt::format("{} with lines dt 3 lw 1.2 lc rgb '#555555' title {}", number(*p.hline),
                                  quoted(p.hline_title.empty() ? fmt::format("{}", *p.hline) : p.hline_title)));
    s << "  plot ";
    for (size_t i = 0; i < plots.size(); ++i) s << (i ? ", \\\n       " : "") << plots[i];
    s << "\n";
  }
  s << "  unset multiplot\n"
    << "  set output\n"
    << "}\n";
  return s.str();
}

FigureOutput write_figures(const std::string& dir, const std::vector<Figure>& figures, bool render) {
  FigureOutput out;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) throw RuntimeError("cannot create the figure directory " + dir);
  std::vector<std::string> failed;
  for (const Figure& f : figures) {
    const std::string base = (fs::path(dir) / f.name).string();
    write_file_atomically(base + ".dat", gnuplot_data(f));
    write_file_atomically(base + ".gp", gnuplot_script(f));
    out.names.push_back(f.name);
    if (!render) continue;
    // gnuplot writes the images itself, so they are rendered to NAME.svg.tmp and NAME.png.tmp and
    // renamed into place once gnuplot has finished: a render that fails, or a kill of bnlab and
    // gnuplot half-way, leaves the previous images (or none), never partial ones.
    // NOTE: the shell writes the .log directly; it is kept only when the render failed.
    const std::string log = base + ".log";
    const int status = std::system(
        fmt::format("gnuplot -e \"output_suffix='.tmp'\" {} >/dev/null 2>{}", shell_quoted(base + ".gp"), shell_quoted(log)).c_str());
    bool rendered = status == 0 && fs::exists(base + ".png.tmp") && fs::exists(base + ".svg.tmp");
    for (const char* ext : {".svg", ".png"}) {
      const std::string image = base + ext;
      if (rendered) {
        try {
          publish_file(image + ".tmp", image);  // the atomic writer's fsync, rename, fsync of the folder
          continue;
        } catch (const RuntimeError&) {
          rendered = false;
        }
      }
      fs::remove(image + ".tmp", ec);
    }
    if (rendered) {
      fs::remove(log, ec);
    } else {
      failed.push_back(f.name);
    }
  }
  if (figures.empty()) return out;
  const std::string first = (fs::path(dir) / figures.front().name).string() + ".gp";
  if (!render) {
    out.note = fmt::format("gnuplot not found: wrote {} figure scripts and data to {}; render them with: gnuplot {} "
                           "(and likewise for each .gp file), after installing gnuplot (Debian: apt-get install gnuplot-nox)",
                           figures.size(), dir, first);
  } else if (!failed.empty()) {
    out.note = fmt::format("gnuplot failed on {} of {} figures ({}); see the .log files in {}", failed.size(), figures.size(),
                           fmt::join(failed, ", "), dir);
    out.rendered = failed.size() < figures.size();
  } else {
    out.rendered = true;
    out.note = fmt::format("rendered {} figures (SVG and PNG) in {}", figures.size(), dir);
  }
  return out;
}

}  // namespace bnlab::lab
