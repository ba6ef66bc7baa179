// sweep --epochs extended: a sweep keeps each run's checkpoint beside its file in --out, and a later
// sweep asking for more epochs continues every stored run from it — the same runs, bit for bit, as
// a sweep of that many epochs from the start. A run that cannot be continued (a cosine schedule, no
// checkpoint) is retrained, and the sweep says why.
#include <doctest/doctest.h>

#include <string>

#include "cli_test_support.hpp"

using namespace bnlab::test;

namespace {

const std::string kSweep = "sweep --dataset synthetic --variants plain,batchnorm --batch-sizes 64 --seeds 0 --hidden 16";
const char* kRuns[] = {"plain-bs64-seed0", "batchnorm-bs64-seed0"};

// Every run file and checkpoint of two sweep folders agree (but for times), and the documents too.
void check_same_sweeps(const std::string& a, const std::string& b) {
  for (const char* name : kRuns) {
    CAPTURE(name);
    const std::string run = std::string("/runs/") + name;
    json x = read_json(a + run + ".json"), y = read_json(b + run + ".json");
    CHECK(without_times(json{{"runs", {x}}}) == without_times(json{{"runs", {y}}}));
    const CheckpointParts p = checkpoint_parts(a + run + ".safetensors"), q = checkpoint_parts(b + run + ".safetensors");
    CHECK(p.data == q.data);
    CHECK(p.header.at("__metadata__").at("progress") == q.header.at("__metadata__").at("progress"));
  }
  CHECK(without_sweep_times(read_json(a + "/metrics.json")) == without_sweep_times(read_json(b + "/metrics.json")));
}

}  // namespace

TEST_CASE("sweep --epochs 3 on a folder of 2-epoch runs continues each from its checkpoint = a 3-epoch sweep from the start") {
  TempDir dir;
  const std::string out = dir / "out", fresh = dir / "fresh";
  REQUIRE(run_bnlab(kSweep + " --epochs 2 --quiet --out " + out, dir).status == 0);
  for (const char* name : kRuns) CHECK(fs::is_regular_file(out + "/runs/" + name + ".safetensors"));
  const json stored = read_json(out + "/runs/plain-bs64-seed0.json");
  const double stored_seconds = stored["total_seconds"];

  const Run more = run_bnlab(kSweep + " --epochs 3 --out " + out, dir);
  REQUIRE_MESSAGE(more.status == 0, more.err);
  CHECK(contains(more.err, "[1/2] plain-bs64-seed0: continuing from epoch 2 (" + out + "/runs/plain-bs64-seed0.safetensors) to epoch 3"));
  CHECK(contains(more.err, "[2/2] batchnorm-bs64-seed0: continuing from epoch 2"));
  CHECK(contains(more.err, "sweep: 2 runs (2 trained, 0 reused; 2 of the trained continued from their checkpoints)"));
  const json extended = read_json(out + "/runs/plain-bs64-seed0.json");
  CHECK(extended["epochs"].size() == 3);
  // Epochs 1 and 2 were not trained again: they are the stored ones, their times included.
  for (int e = 0; e < 2; ++e) CHECK(extended["epochs"][e] == stored["epochs"][e]);
  CHECK(extended["total_seconds"].get<double>() > stored_seconds);  // the stored part's time and the new epoch's

  REQUIRE(run_bnlab(kSweep + " --epochs 3 --quiet --out " + fresh, dir).status == 0);
  check_same_sweeps(out, fresh);

  // Once more with the same epochs: every run reused.
  const Run again = run_bnlab(kSweep + " --epochs 3 --quiet --out " + out, dir);
  CHECK(contains(again.err, "sweep: 2 runs (0 trained, 2 reused)"));
}

TEST_CASE("sweep --epochs more: a run without its checkpoint, or on a cosine schedule, is retrained, and the sweep says why") {
  TempDir dir;
  const std::string out = dir / "out", fresh = dir / "fresh";
  REQUIRE(run_bnlab(kSweep + " --epochs 1 --quiet --out " + out, dir).status == 0);
  fs::remove(out + "/runs/plain-bs64-seed0.safetensors");
  const Run more = run_bnlab(kSweep + " --epochs 2 --out " + out, dir);
  REQUIRE_MESSAGE(more.status == 0, more.err);
  CHECK(contains(more.err, "[1/2] plain-bs64-seed0: the stored run has 1 epoch but no checkpoint (" + out +
                               "/runs/plain-bs64-seed0.safetensors): retraining it from the start"));
  CHECK(contains(more.err, "[2/2] batchnorm-bs64-seed0: continuing from epoch 1"));
  REQUIRE(run_bnlab(kSweep + " --epochs 2 --quiet --out " + fresh, dir).status == 0);
  check_same_sweeps(out, fresh);

  const std::string cos = dir / "cos", cos_fresh = dir / "cos-fresh";
  const std::string cosine = kSweep + " --lr-schedule cosine";
  REQUIRE(run_bnlab(cosine + " --epochs 1 --quiet --out " + cos, dir).status == 0);
  const Run c = run_bnlab(cosine + " --epochs 2 --out " + cos, dir);
  REQUIRE_MESSAGE(c.status == 0, c.err);
  CHECK(contains(c.err, "plain-bs64-seed0: the stored run has 1 epoch on a cosine schedule, whose rates depend on the epoch count: "
                        "retraining it from the start"));
  REQUIRE(run_bnlab(cosine + " --epochs 2 --quiet --out " + cos_fresh, dir).status == 0);
  check_same_sweeps(cos, cos_fresh);

  // Fewer epochs than stored is another configuration: refused, as before.
  check_error(run_bnlab(kSweep + " --epochs 1 --quiet --out " + fresh, dir), 2, {"different configuration", "epochs: 2 there, 1 now"});
}
