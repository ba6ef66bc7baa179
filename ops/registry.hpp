// The one list of bnlab's ops. Adding an op: write ops/<name>.{hpp,cpp} with its OpInfo and add it
// to the list in registry.cpp; the test suite then gradient-checks it through its `example` and
// bench_ops measures it.
//
//   for (const OpInfo* op : bnlab::all_ops()) std::puts(op->name);
#pragma once

#include <span>

#include "graph/op.hpp"

namespace bnlab {

std::span<const OpInfo* const> all_ops();

}  // namespace bnlab
