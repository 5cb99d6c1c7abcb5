/* plugin_fixtures.c: broken and failing plugins for plugin_workload_test.cpp, one per FIXTURE_* define. */

/*
 * Built as C90 with -pedantic-errors, which also checks that memsoak_plugin.h is plain C89.
 *   FIXTURE_NO_ENTRY      a shared library without memsoak_plugin_entry
 *   FIXTURE_NULL_TABLE    the entry point returns NULL
 *   FIXTURE_ABI2          a table reporting ABI version 2
 *   FIXTURE_SMALL_STRUCT  a table whose struct_size is smaller than ABI 1's
 *   FIXTURE_NULL_RUN      a table without a run function
 *   FIXTURE_FAULTY        a valid plugin whose setup fails on config "fail-setup", whose run fails
 *                         on odd runs with a message and on run 4 without one, and whose
 *                         check_config refuses "refuse-me"
 */
#include <string.h>

#include "memsoak_plugin.h"

#if defined(FIXTURE_NO_ENTRY)

/* Exported, so the library has a dynamic symbol table; just not the one memsoak looks for. */
MEMSOAK_PLUGIN_EXPORT int not_a_memsoak_plugin(void) { return 42; }

#else

static int report(char* error, size_t error_size, const char* message, int code) {
  strncpy(error, message, error_size - 1);
  error[error_size - 1] = '\0';
  return code;
}

static int fixture_check_config(const char* config, char* error, size_t error_size) {
  if (strcmp(config, "refuse-me") == 0) return report(error, error_size, "refuse-me is not a setting", 1);
  return 0;
}

static int fixture_setup(const char* config, void** state, char* error, size_t error_size) {
  (void)state;
  if (strcmp(config, "fail-setup") == 0) return report(error, error_size, "cannot open model.bin: gone", 7);
  return 0;
}

static int fixture_run(void* state, uint64_t run_index, uint64_t* digest, char* error, size_t error_size) {
  (void)state;
  if (run_index % 2 == 1) return report(error, error_size, "odd runs fail\nwith a second line", 1);
  if (run_index == 4) return 3;
  *digest = run_index * 31 + 7;
  return 0;
}

static void fixture_teardown(void* state) { (void)state; }

#if defined(FIXTURE_ABI2)
#define FIXTURE_ABI_VERSION 2u
#else
#define FIXTURE_ABI_VERSION MEMSOAK_PLUGIN_ABI_VERSION
#endif

#if defined(FIXTURE_SMALL_STRUCT)
#define FIXTURE_STRUCT_SIZE 16u
#else
#define FIXTURE_STRUCT_SIZE sizeof(memsoak_plugin)
#endif

#if defined(FIXTURE_NULL_RUN)
#define FIXTURE_RUN NULL
#else
#define FIXTURE_RUN fixture_run
#endif

static const memsoak_plugin fixture = {FIXTURE_ABI_VERSION, FIXTURE_STRUCT_SIZE, "fixture",
                                       fixture_setup,       FIXTURE_RUN,         fixture_teardown,
                                       fixture_check_config};

const memsoak_plugin* memsoak_plugin_entry(uint32_t host_abi_version) {
  (void)host_abi_version;
#if defined(FIXTURE_NULL_RUN)
  (void)fixture_run;
#endif
#if defined(FIXTURE_NULL_TABLE)
  (void)fixture;
  return NULL;
#else
  return &fixture;
#endif
}

#endif
