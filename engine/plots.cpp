#include "engine/plots.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "kernels/multiple_testing.hpp"

namespace pwas::engine {
namespace {

constexpr double kW = 640, kH = 480, kLeft = 70, kRight = 20, kTop = 40, kBottom = 55;
const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

/// Maps data coordinates into the plot area.
struct Frame {
  double x0, x1, y0, y1;
  double px(double x) const { return kLeft + (x - x0) / (x1 - x0) * (kW - kLeft - kRight); }
  double py(double y) const { return kH - kBottom - (y - y0) / (y1 - y0) * (kH - kTop - kBottom); }
};

double nice_step(double range) {
  const double raw = range / 6.0;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string axes(const Frame& f, const std::string& title, const std::string& xlab, const std::string& ylab) {
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"Helvetica,Arial,sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
      kW, kH, kW, kH, kW / 2, title);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", kLeft, kTop,
                   kW - kLeft - kRight, kH - kTop - kBottom);
  const double xs = nice_step(f.x1 - f.x0), ys = nice_step(f.y1 - f.y0);
  for (double x = std::ceil(f.x0 / xs) * xs; x <= f.x1 + 1e-12; x += xs)
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#333\"/><text x=\"{0:.1f}\" "
                     "y=\"{3}\" text-anchor=\"middle\">{4:.3g}</text>\n",
                     f.px(x), kH - kBottom, kH - kBottom + 5, kH - kBottom + 18, std::abs(x) < 1e-12 ? 0.0 : x);
  for (double y = std::ceil(f.y0 / ys) * ys; y <= f.y1 + 1e-12; y += ys)
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\"/><text x=\"{3}\" "
                     "y=\"{4:.1f}\" text-anchor=\"end\">{5:.3g}</text>\n",
                     kLeft - 5, kLeft, f.py(y), kLeft - 8, f.py(y) + 4, y);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", kLeft + (kW - kLeft - kRight) / 2,
                   kH - 15, xlab);
  s += fmt::format("<text transform=\"translate(18,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                   kTop + (kH - kTop - kBottom) / 2, ylab);
  return s;
}

std::string series_key(const io::ResultRow& r, bool protein_outcome) {
  return protein_outcome ? r.predictor : r.outcome;
}

double neglog10(double p) { return -std::log10(std::max(p, 1e-300)); }

}  // namespace

std::string volcano_svg(const io::ResultTable& t, double p_threshold) {
  const bool logistic = t.model == "logistic";
  const bool protein_outcome = !t.rows.empty() && t.rows.front().outcome == t.rows.front().protein;
  std::map<std::string, std::vector<std::pair<double, double>>> series;
  double xmax = 1e-3, ymax = neglog10(p_threshold) * 1.1;
  for (const auto& r : t.rows) {
    if (std::isnan(r.p) || std::isnan(r.beta)) continue;
    series[series_key(r, protein_outcome)].push_back({r.beta, neglog10(r.p)});
    xmax = std::max(xmax, std::abs(r.beta));
    ymax = std::max(ymax, neglog10(r.p));
  }
  Frame f{-xmax * 1.05, xmax * 1.05, 0.0, ymax * 1.05};
  std::string s = axes(f, fmt::format("{}: volcano", t.analysis), logistic ? "log odds ratio per SD" : "beta",
                       "-log10 P");
  s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#888\" stroke-dasharray=\"4,3\"/>\n",
                   kLeft, kW - kRight, f.py(neglog10(p_threshold)));
  int k = 0;
  for (const auto& [name, pts] : series) {
    const char* colour = kColours[k % 8];
    for (const auto& [x, y] : pts)
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2\" fill=\"{}\" fill-opacity=\"0.6\"/>\n", f.px(x), f.py(y), colour);
    s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{} (n={})</text>\n", kLeft + 10, kTop + 16 + 15 * k, colour, name, pts.size());
    ++k;
  }
  s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" fill=\"#666\" text-anchor=\"end\">Bonferroni P={:.2g}</text>\n",
                   kW - kRight - 5, f.py(neglog10(p_threshold)) - 4, p_threshold);
  return s + "</svg>\n";
}

std::string qq_svg(const io::ResultTable& t) {
  const bool protein_outcome = !t.rows.empty() && t.rows.front().outcome == t.rows.front().protein;
  std::map<std::string, std::vector<double>> series;
  for (const auto& r : t.rows)
    if (!std::isnan(r.p)) series[series_key(r, protein_outcome)].push_back(r.p);
  double max_e = 1.0, max_o = 1.0;
  for (auto& [name, p] : series) {
    std::sort(p.begin(), p.end());
    max_e = std::max(max_e, neglog10(0.5 / static_cast<double>(p.size())));
    if (!p.empty()) max_o = std::max(max_o, neglog10(p.front()));
  }
  Frame f{0.0, max_e * 1.05, 0.0, std::max(max_o, max_e) * 1.05};
  std::string s = axes(f, fmt::format("{}: QQ", t.analysis), "expected -log10 P", "observed -log10 P");
  s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#888\"/>\n", f.px(0), f.py(0),
                   f.px(max_e * 1.05), f.py(max_e * 1.05));
  int k = 0;
  for (const auto& [name, p] : series) {
    const char* colour = kColours[k % 8];
    const double n = static_cast<double>(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double e = neglog10((static_cast<double>(i) + 0.5) / n);
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2\" fill=\"{}\" fill-opacity=\"0.6\"/>\n", f.px(e),
                       f.py(neglog10(p[i])), colour);
    }
    const double lambda = kernels::genomic_inflation(p);
    s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}: lambda = {:.3f} (n={})</text>\n", kLeft + 10,
                     kTop + 16 + 15 * k, colour, name, lambda, p.size());
    ++k;
  }
  return s + "</svg>\n";
}

}  // namespace pwas::engine
