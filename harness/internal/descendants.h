// The two ways list_descendants() finds a process's descendants; private, exposed for tests.
#pragma once

#include <sys/types.h>

#include <vector>

namespace memsoak::harness::internal {

// Whether this kernel has /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN, which kernels built
// with CHECKPOINT_RESTORE have; the sandbox's does). Checked once.
bool children_files_available();

// Breadth first through the children files of every thread: costs a few system calls per
// process and thread of the tree, nothing for the rest of the machine.
std::vector<pid_t> descendants_from_children_files(pid_t root);

// One pass over /proc/[0-9]*/stat for parent ids: a few system calls per process on the machine.
std::vector<pid_t> descendants_from_proc_scan(pid_t root);

}  // namespace memsoak::harness::internal
