// graph/suggest.hpp: the edit distance against distances worked out by hand, the typo threshold,
// and the did-you-mean lines built from them.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "graph/suggest.hpp"

using namespace bnlab;

TEST_CASE("edit distance: insertions, deletions, substitutions and neighbour swaps cost 1, case is ignored") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);           // three deletions
  CHECK(edit_distance("", "abc") == 3);           // three insertions
  CHECK(edit_distance("epoch", "epochs") == 1);   // one insertion
  CHECK(edit_distance("trian", "train") == 1);    // i,a swapped
  CHECK(edit_distance("batchnrom", "batchnorm") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3); // k→s, e→i, insert g
  CHECK(edit_distance("flaw", "lawn") == 2);      // delete f, insert n
  CHECK(edit_distance("Adam", "adam") == 0);
  CHECK(edit_distance("fashion_mnist", "fashion-mnist") == 1);
  // Optimal string alignment, not unrestricted Damerau: "ca" → "abc" cannot swap and then insert
  // between the swapped pair, so it is 3 (Damerau–Levenshtein proper would say 2).
  CHECK(edit_distance("ca", "abc") == 3);
  CHECK(edit_distance("abcdef", "badcfe") == 3);  // three swaps
}

TEST_CASE("a typo is within 1 edit for names up to 5 characters, 2 beyond") {
  CHECK(typo_distance("") == 1);
  CHECK(typo_distance("sg") == 1);
  CHECK(typo_distance("train") == 1);
  CHECK(typo_distance("epochs") == 2);
  CHECK(typo_distance("batchnrom") == 2);
}

TEST_CASE("near names: the nearest within the typo distance, two when tied, none when far or many") {
  const std::vector<std::string> optimizers = {"sgd", "momentum", "adam", "adamw"};
  CHECK(near_names("sg", optimizers) == std::vector<std::string>{"sgd"});
  CHECK(near_names("adma", optimizers) == std::vector<std::string>{"adam"});
  CHECK(near_names("adamx", optimizers) == std::vector<std::string>{"adam", "adamw"});
  CHECK(near_names("abc", optimizers).empty());   // 3 edits from adam
  CHECK(near_names("adam", optimizers) == std::vector<std::string>{"adamw"});  // the name itself is no suggestion
  CHECK(near_names("ADAM", {"adam"}) == std::vector<std::string>{"adam"});
  CHECK(near_names("x", {"a", "b", "c"}).empty());  // three equally near: no hint
  CHECK(near_names("batch", {"batch-size", "seed"}) == std::vector<std::string>{"batch-size"});  // cut short
  CHECK(near_names("bn", {"bn-momentum", "bn-eps"}).empty());         // too short to be a start
  CHECK(near_names("bn-", {"bn-momentum", "bn-eps"}).empty());        // the start of two
  CHECK(did_you_mean("adamx", optimizers) == "did you mean adam or adamw?");
  CHECK(did_you_mean("rmsprop", optimizers).empty());
}

TEST_CASE("the refusal of a name: the suggestion when one is near, always the known names") {
  const std::vector<std::string> models = {"plain", "batchnorm", "layernorm"};
  CHECK(unknown_name("model", "batchnrom", models) == "unknown model 'batchnrom'; did you mean batchnorm? (known: plain, batchnorm, layernorm)");
  CHECK(unknown_name("model", "resnet", models) == "unknown model 'resnet' (known: plain, batchnorm, layernorm)");
  CHECK(known_names_hint("palin", models, ", or a model file NAME.json") ==
        "; did you mean plain? (known: plain, batchnorm, layernorm, or a model file NAME.json)");
  CHECK(join_names({}) == "");
}
