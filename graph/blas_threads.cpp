#include "graph/blas_threads.hpp"

#ifdef BNLAB_USE_BLAS
// Weak: present only when the BLAS that the loader picked is OpenBLAS (Debian's alternatives may
// select the reference BLAS, which has no threads).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
#endif

namespace bnlab {

void keep_blas_single_threaded() {
#ifdef BNLAB_USE_BLAS
  static const bool done = [] {
    if (openblas_set_num_threads) openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
#endif
}

}  // namespace bnlab
