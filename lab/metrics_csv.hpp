// The per-epoch metrics as CSV, one row per (run, epoch), for spreadsheets and quick plots; the
// JSON document stays the complete record.
//
//   run,epoch,train_loss,train_acc,val_loss,val_acc,seconds,samples_per_second,train_loss_std
//   plain,1,0.51,0.82,0.42,0.85,1.9,25263,0.14
#pragma once

#include <string>
#include <vector>

#include "train/trainer.hpp"

namespace bnlab::lab {

// Non-finite values (an empty validation split) are written as empty fields.
std::string metrics_csv(const std::vector<RunRecord>& runs);

}  // namespace bnlab::lab
