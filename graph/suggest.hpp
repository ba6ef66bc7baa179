// "Did you mean …?" for a name the user typed among the names bnlab knows (commands, flags, models,
// datasets, the values of a choice flag). The distance is Damerau–Levenshtein in its optimal-string-
// alignment form: an insertion, a deletion, a substitution or a swap of two neighbouring characters
// costs 1 ("trian" → "train" is 1, "batchnrom" → "batchnorm" is 1), compared case-insensitively
// ("Adam" → "adam" is 0).
//
//   edit_distance("epoch", "epochs");                       // 1
//   near_names("batchnrom", preset_names());                // {"batchnorm"}
//   unknown_name("model", "batchnrom", preset_names());
//     // "unknown model 'batchnrom'; did you mean batchnorm? (known: plain, batchnorm, …)"
//   unknown_name("model", "resnet", preset_names());        // "unknown model 'resnet' (known: plain, …)"
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bnlab {

// The optimal-string-alignment distance between `a` and `b`, byte by byte, ASCII letters compared
// without case.
size_t edit_distance(std::string_view a, std::string_view b);

// How far a typed name may be from a known one and still be taken for a typo of it: 1 for names of
// up to 5 characters, 2 beyond (a third of the length, at most 2), so "sg" suggests "sgd" but "abc"
// suggests nothing from "sgd, adam".
size_t typo_distance(std::string_view typed);

// The known names nearest `typed` if they are within typo_distance(typed), in the order of `known`
// (two when two are equally near), else the one known name that `typed` (3 characters or more) is
// the start of ("batch" → "batch-size"), else none. A name equal to `typed` is not a suggestion.
std::vector<std::string> near_names(std::string_view typed, const std::vector<std::string>& known);

// "did you mean batchnorm?", "did you mean sgd or adam?", or "" when nothing is near.
std::string did_you_mean(std::string_view typed, const std::vector<std::string>& known);

// "a, b, c"
std::string join_names(const std::vector<std::string>& names);

// What follows the refusal of `typed`: "; did you mean X? (known: a, b, c)", or " (known: a, b, c)"
// when nothing is near. `extra` ends the list (", or a model file NAME.json").
std::string known_names_hint(std::string_view typed, const std::vector<std::string>& known, const std::string& extra = "");

// The one-line refusal of a name: "unknown WHAT 'TYPED'; did you mean X? (known: …)", without the
// suggestion when nothing is near. `extra` ends the list (", or a model file NAME.json").
std::string unknown_name(const std::string& what, const std::string& typed, const std::vector<std::string>& known,
                         const std::string& extra = "");

}  // namespace bnlab
