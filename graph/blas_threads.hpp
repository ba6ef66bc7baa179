// With BNLAB_BLAS, Eigen hands matrix products to the system BLAS. bnlab's --threads already
// splits every product over its own pool, so the BLAS library's threads on top of that would
// oversubscribe the cores (OpenBLAS's pthread build starts one per core by default).
#pragma once

namespace bnlab {

// Makes the BLAS library single-threaded, once per process; does nothing in a build without
// BNLAB_BLAS or with a BLAS that has no thread control.
void keep_blas_single_threaded();

}  // namespace bnlab
