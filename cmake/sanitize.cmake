# MEMSOAK_SANITIZE: build memsoak's own targets under sanitizers (tools/sanitize.sh runs the tests).
#
# Accepted values: "" (none, the default), "address", "undefined", "address,undefined" (in either
# order) and "thread". ThreadSanitizer cannot be combined with AddressSanitizer, so "thread" stands
# alone. The flags are added to every target of this directory tree, which holds only memsoak's
# targets (dependencies are imported from the system and are not rebuilt). UBSan findings abort
# (-fno-sanitize-recover), so that a test that trips one fails instead of printing and passing.
#
# What cannot work under a sanitizer is left to the tests' labels (tests/CMakeLists.txt): the
# exec tracker, libmemsoak_tracker.so, is an LD_PRELOAD malloc interposer and ASan and TSan must
# own malloc and come first in the library list, so its tests are labelled no-asan / no-tsan.
set(MEMSOAK_SANITIZE "" CACHE STRING
    "Sanitizers for memsoak's targets: empty, address, undefined, address,undefined or thread")
set_property(CACHE MEMSOAK_SANITIZE PROPERTY STRINGS "" "address,undefined" "address" "undefined" "thread")

if(MEMSOAK_SANITIZE STREQUAL "")
  return()
endif()
string(REPLACE "," ";" memsoak_sanitizers "${MEMSOAK_SANITIZE}")
list(SORT memsoak_sanitizers)
list(REMOVE_DUPLICATES memsoak_sanitizers)
if(NOT memsoak_sanitizers STREQUAL "address;undefined" AND NOT memsoak_sanitizers STREQUAL "address"
   AND NOT memsoak_sanitizers STREQUAL "undefined" AND NOT memsoak_sanitizers STREQUAL "thread")
  message(FATAL_ERROR "MEMSOAK_SANITIZE=\"${MEMSOAK_SANITIZE}\" is not one of: address,undefined, "
                      "address, undefined, thread (or empty for none)")
endif()

set(memsoak_sanitize_flags -fsanitize=${MEMSOAK_SANITIZE} -fno-omit-frame-pointer)
if("undefined" IN_LIST memsoak_sanitizers)
  list(APPEND memsoak_sanitize_flags -fno-sanitize-recover=undefined)
endif()
add_compile_options(${memsoak_sanitize_flags})
add_link_options(${memsoak_sanitize_flags})
message(STATUS "memsoak: building with ${memsoak_sanitize_flags}")
