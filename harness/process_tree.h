// Process trees: a worker and all its descendants, found and sampled through /proc.
#pragma once

#include <sys/types.h>

#include <vector>

#include "harness/sample.h"

namespace memsoak::harness {

// Every live descendant of `root` (children, grandchildren, ...), parents before their children;
// empty when `root` has none, does not exist, or is not positive. From the children files
// (/proc/PID/task/TID/children) where the kernel has them, a few system calls per process and
// thread of the tree; else from one scan of /proc/[0-9]*/stat for parent ids, a few system calls
// per process on the machine (see tests/bench/process_tree_bench.cpp for both). A process that
// starts or ends meanwhile may be missed or listed; a process whose parent died is reparented and
// no longer counts as `root`'s descendant.
std::vector<pid_t> list_descendants(pid_t root);

// The memory and resources of `root` and its live descendants, summed field by field: RSS,
// anonymous RSS, open descriptors (a descriptor shared by two processes counts twice), threads,
// faults and CPU time. Exited descendants count no longer (their CPU time is not carried to the
// parent). Heap counters stay kNotMeasured: they exist only inside memsoak's own process. Every
// field is kNotMeasured when `root` cannot be read (it exited). Does not throw for processes that
// vanish while being sampled; allocates (a pid list), so not for a forked child before exec.
ProcessSample sample_process_tree(pid_t root);

}  // namespace memsoak::harness
