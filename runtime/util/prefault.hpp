#pragma once
// Mapping in one call the heap a process is about to write, where taking it
// a page fault at a time costs most: a fault traps to some hypervisors (10
// to 30 us each), a page of madvise(MADV_POPULATE_WRITE) about one. Kernels
// before 5.14 refuse the advice, and the pages fault in as before.
// early_reexec does the same for the binary's writable segment and the
// stack, before the C library starts.

#include <cstddef>

namespace agentrun {

// The next `bytes` (at most 128 KiB, malloc's mmap threshold) of the heap
// that malloc hands out. The block goes back to malloc's top, and a trim
// keeps 128 KiB of it (M_TOP_PAD).
void populate_heap(std::size_t bytes);

}  // namespace agentrun
