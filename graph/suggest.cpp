#include "graph/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace bnlab {

namespace {

char folded(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // d[i][j]: the distance between a's first i and b's first j characters; three rows suffice, the
  // swap looking two rows back.
  const size_t n = b.size();
  std::vector<size_t> before(n + 1), previous(n + 1), current(n + 1);
  for (size_t j = 0; j <= n; ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= n; ++j) {
      const bool same = folded(a[i - 1]) == folded(b[j - 1]);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && folded(a[i - 1]) == folded(b[j - 2]) && folded(a[i - 2]) == folded(b[j - 1]))
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[n];
}

size_t typo_distance(std::string_view typed) { return std::clamp<size_t>(typed.size() / 3, 1, 2); }

std::vector<std::string> near_names(std::string_view typed, const std::vector<std::string>& known) {
  size_t best = typo_distance(typed) + 1;
  std::vector<std::string> nearest;
  for (const std::string& name : known) {
    if (name == typed) continue;
    const size_t d = edit_distance(typed, name);
    if (d < best) {
      best = d;
      nearest.clear();
    }
    if (d == best && std::find(nearest.begin(), nearest.end(), name) == nearest.end()) nearest.push_back(name);
  }
  // Three or more equally near names are no hint at all.
  if (nearest.size() > 2) nearest.clear();
  // A name cut short ("batch" for "batch-size") is far by edits but plain to a reader: the one
  // known name that starts with it.
  if (nearest.empty() && typed.size() >= 3) {
    for (const std::string& name : known)
      if (name.size() > typed.size() && edit_distance(name.substr(0, typed.size()), typed) == 0) nearest.push_back(name);
    if (nearest.size() > 1) nearest.clear();
  }
  return nearest;
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string>& known) {
  const std::vector<std::string> near = near_names(typed, known);
  if (near.empty()) return "";
  return "did you mean " + near[0] + (near.size() == 2 ? " or " + near[1] : "") + "?";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string known_names_hint(std::string_view typed, const std::vector<std::string>& known, const std::string& extra) {
  const std::string hint = did_you_mean(typed, known);
  return (hint.empty() ? "" : "; " + hint) + " (known: " + join_names(known) + extra + ")";
}

std::string unknown_name(const std::string& what, const std::string& typed, const std::vector<std::string>& known,
                         const std::string& extra) {
  return "unknown " + what + " '" + typed + "'" + known_names_hint(typed, known, extra);
}

}  // namespace bnlab
