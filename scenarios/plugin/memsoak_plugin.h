/* memsoak_plugin.h: the C ABI through which memsoak soaks a workload loaded from a shared library. */
#ifndef MEMSOAK_PLUGIN_H
#define MEMSOAK_PLUGIN_H

/*
 * A plugin is a shared library (gcc -shared -fPIC) that exports one function,
 *
 *     const memsoak_plugin* memsoak_plugin_entry(uint32_t host_abi_version);
 *
 * returning a table of functions that memsoak calls in this order, in every process that runs the
 * workload:
 *
 *     check_config(config)        optional; once, in memsoak's main process, before anything runs
 *     setup(config, &state)       once per process, before its first run
 *     run(state, i, &digest)      once per run
 *     teardown(state)             at most once, when the process ends in an orderly way
 *
 * Which process runs what depends on the strategy: under `in-process` one process sets up once
 * and does every run; under `fork` each run is a fresh child that sets up, runs once and exits
 * WITHOUT teardown (the operating system reclaims everything, which is the point of that strategy).
 * So teardown must not be needed for correctness, and run must not assume that run i-1 happened in
 * the same process: run indexes arrive in any order, each one possibly in a new process.
 *
 * Rules for every function in the table:
 * - Return 0 on success, nonzero on failure. On failure write a one-line, NUL-terminated message of
 *   at most error_size bytes (including the NUL) into `error`, truncating as needed. `error` is
 *   never NULL, error_size is at least 1, and error[0] is '\0' on entry.
 * - Never let a C++ exception, a longjmp or a signal handler's jump leave the function: catch
 *   everything inside and return nonzero with a message.
 * - Thread-safety: none required. memsoak calls one function at a time, from one thread.
 * - Memory is yours: allocate with malloc/new as usual. memsoak measures the whole process (RSS,
 *   and live heap through its counting malloc, which your library's malloc calls resolve to), so
 *   whatever a run leaves behind is exactly what a soak reports.
 *
 * The library is opened (dlopen RTLD_NOW | RTLD_LOCAL) in memsoak's main process before any
 * strategy forks, and is never closed. Its constructors and static initializers therefore run once,
 * in a process that never runs the workload: do per-process work in setup, not in a constructor.
 * Leave no threads running when setup returns if the workload should work under fork-based
 * strategies that fork after setup (a fork copies only the calling thread).
 *
 * Versioning:
 * - abi_version is the MAJOR version of this ABI. memsoak refuses a plugin whose abi_version differs
 *   from its own MEMSOAK_PLUGIN_ABI_VERSION, naming both. A major version changes only when a field
 *   changes type, meaning or position.
 * - Compatible additions append fields at the end of the table and say, in this header, which
 *   struct_size first covers them. A plugin sets struct_size = sizeof(memsoak_plugin) as its copy of
 *   this header saw it; memsoak reads a field only when struct_size covers it and treats an
 *   uncovered field as absent. So an old plugin works with a newer memsoak and a newer plugin with
 *   an older memsoak of the same major version. memsoak refuses a table smaller than
 *   MEMSOAK_PLUGIN_MIN_SIZE.
 * - abi_version and struct_size are the first two fields in every version, so any memsoak can read
 *   any plugin's version.
 * - memsoak passes its own major version to memsoak_plugin_entry, so a library that supports
 *   several majors can return the matching table; a plugin that supports one may ignore it.
 */

#include <stddef.h>
#include <stdint.h>

/* The major version this header describes. */
#define MEMSOAK_PLUGIN_ABI_VERSION 1u

/* The name of the one symbol a plugin exports, for dlsym. */
#define MEMSOAK_PLUGIN_ENTRY_SYMBOL "memsoak_plugin_entry"

/* Marks the entry point exported even when the library is built with -fvisibility=hidden. */
#if defined(__GNUC__)
#define MEMSOAK_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define MEMSOAK_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct memsoak_plugin {
  /* MEMSOAK_PLUGIN_ABI_VERSION of the header the plugin was built with. */
  uint32_t abi_version;

  /* sizeof(memsoak_plugin) of the header the plugin was built with (see Versioning above). */
  uint32_t struct_size;

  /* A short name for reports, e.g. "string-table": printable, non-empty, static storage. */
  const char* name;

  /*
   * Required. Prepares one process for its runs: parse `config`, load models, open files.
   * `config` is the text the user passed (--plugin-config), "" when none, never NULL; its format is
   * the plugin's own (memsoak's plugins use "key=value;key=value"). It is valid only during the
   * call: copy what you keep. On entry *state is NULL; store in it whatever run and teardown need
   * (or leave it NULL). On failure nothing else is called in this process, not even teardown.
   */
  int (*setup)(const char* config, void** state, char* error, size_t error_size);

  /*
   * Required. Does run number run_index (counting from 0) and stores a digest of its output in
   * *digest. The digest must depend only on the config and run_index, never on what earlier runs in
   * this process left behind: memsoak compares digests across strategies to check that every
   * strategy computed the same thing. A nonzero return fails this run (memsoak records the message
   * and goes on with the next run); *digest is then ignored.
   */
  int (*run)(void* state, uint64_t run_index, uint64_t* digest, char* error, size_t error_size);

  /*
   * Required. Releases what setup acquired. Called at most once, only after a successful setup, and
   * not at all under the fork strategy (see above). Cannot fail.
   */
  void (*teardown)(void* state);

  /*
   * Optional: may be NULL, and memsoak reads it only when struct_size covers it. Checks `config`
   * without acquiring anything, so that a bad config is reported as bad input (memsoak exits 2)
   * before any run directory exists. Called once, in memsoak's main process, before any setup.
   * Must not start threads or leave state behind.
   */
  int (*check_config)(const char* config, char* error, size_t error_size);
} memsoak_plugin;

/* The smallest table memsoak accepts for ABI 1: the fields up to and including teardown. */
#define MEMSOAK_PLUGIN_MIN_SIZE (offsetof(memsoak_plugin, teardown) + sizeof(void (*)(void*)))

/* The entry point's type, for hosts that look it up with dlsym. */
typedef const memsoak_plugin* (*memsoak_plugin_entry_fn)(uint32_t host_abi_version);

/*
 * Implemented by the plugin: returns a table with static storage duration (memsoak keeps the
 * pointer for the life of the process), or NULL when the plugin cannot serve host_abi_version.
 * Must not fail otherwise, must be cheap and must return the same table each time: memsoak calls
 * it when it opens the library, possibly more than once.
 */
MEMSOAK_PLUGIN_EXPORT const memsoak_plugin* memsoak_plugin_entry(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* MEMSOAK_PLUGIN_H */
