#ifndef STRATA_HEAP_H
#define STRATA_HEAP_H

#include <stddef.h>

/// Serves every allocation of at least `threshold` bytes from its own mapping, returned to the system when freed,
/// unless MALLOC_MMAP_THRESHOLD_ is set in the environment (the user's setting wins). glibc otherwise raises its mmap
/// threshold after the first large free, and each thread's heap (arena) then keeps its largest buffers' pages.
/// Returns 1 when the setting was applied. No effect (returns 0) where the C library is not glibc.
int strata_heap_map_large(size_t threshold);

#endif
