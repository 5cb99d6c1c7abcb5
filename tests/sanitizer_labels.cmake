# Second labels for sanitizer builds, read by ctest after the discovered tests (TEST_INCLUDE_FILES
# in tests/CMakeLists.txt): gtest_discover_tests's PROPERTIES cannot give a test two labels (it
# splits the list into separate arguments), so its lists (TEST_LIST) are labelled here.
# A list is undefined while its executable is not built: sanitizer builds build only what they run.

# memsoak_label_tests(LIST LABEL...): every test of LIST gets exactly these labels.
function(memsoak_label_tests list)
  if(DEFINED ${list} AND NOT "${${list}}" STREQUAL "")
    set_tests_properties(${${list}} PROPERTIES LABELS "${ARGN}")
  endif()
endfunction()

# Code that starts threads: the analysis of strategies in parallel, the sampler's thread count,
# the counting allocator under thread churn and fork, the reranker's thread-churn leak mode.
memsoak_label_tests(memsoak_threaded_unit_tests unit threads)
# The counting allocator's own tests are threaded, but their TSan build crashes before main
# (SIGSEGV while TSan's runtime starts with memsoak's malloc in front of its own; under ASan the
# same problem is solved in harness/CMakeLists.txt, under TSan it is not yet).
memsoak_label_tests(memsoak_counting_malloc_tests unit threads no-tsan)
memsoak_label_tests(memsoak_reranker_workload_test_tests reranker threads)
# LD_PRELOADed malloc hooks (the exec tracker, heaptrack): ASan and TSan must own malloc and be
# first in a process's library list, so these cannot run under either.
memsoak_label_tests(memsoak_exec_tracker_tests unit no-asan no-tsan)
memsoak_label_tests(memsoak_exec_tracker_cli_tests cli no-asan no-tsan)
memsoak_label_tests(memsoak_heaptrack_cli_tests cli no-asan no-tsan)
