// How a batch of `rows` rows is divided into `parts` contiguous shares that differ by at most one
// row: the first rows mod parts shares get one row more. The data-parallel trainer gives share r of
// every global batch to rank r; ghost batch norm normalizes each share of a batch on its own — the
// same rule, so one process with ghost batches sees exactly the rows each rank would.
//
//   bnlab::share_of(32, 3, 0) == {0, 11}    share_of(32, 3, 1) == {11, 11}    share_of(32, 3, 2) == {22, 10}
#pragma once

#include <cstdint>

namespace bnlab {

struct BatchShare {
  int64_t first = 0;  // the share's first row
  int64_t rows = 0;   // its length
};

// requires: parts >= 1, 0 <= part < parts, rows >= 0.
constexpr BatchShare share_of(int64_t rows, int64_t parts, int64_t part) {
  const int64_t base = rows / parts, extra = rows % parts;
  return {part * base + (part < extra ? part : extra), base + (part < extra ? 1 : 0)};
}

}  // namespace bnlab
