/* example_plugin.c: a memsoak plugin in C to copy: builds, sorts and hashes a string table per run. */

/*
 * Copy this file to start a plugin of your own: keep the four functions and the table at the end,
 * replace what run does with a call into your component.
 *
 * Build (C99 or later; the header is plain C and also compiles as C89 and C++):
 *     gcc -std=c99 -Wall -Wextra -O2 -shared -fPIC -I DIR_OF_memsoak_plugin.h \
 *         example_plugin.c -o example_plugin.so
 * Soak:
 *     memsoak run --plugin ./example_plugin.so --plugin-config 'strings=512;leak=4096'
 *
 * Config: "key=value;key=value", every key optional.
 *     strings=N   strings built per run, 1 to 1000000 (default 256)
 *     leak=N      bytes allocated, written and lost per run, 0 to 1073741824 (default 0): a
 *                 deliberate leak, to see what memsoak reports for one (in-process: a leak of about
 *                 N bytes per run; fork: stable, since each run's process exits)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memsoak_plugin.h"

/* What setup parsed from the config. One per process; run only reads it. */
typedef struct example_state {
  uint64_t strings;
  uint64_t leak_bytes;
} example_state;

/* Keeps the last leaked block's address where the optimizer cannot prove it unused, so the
 * malloc is not removed; the block becomes unreachable when the next run overwrites it. */
static void* volatile g_last_leaked;

/* ---- error reporting --------------------------------------------------------------------- */

/* snprintf both truncates and terminates: exactly the error-buffer contract of the header. */
static int fail(char* error, size_t error_size, const char* message) {
  snprintf(error, error_size, "%s", message);
  return 1;
}

/* A config failure naming the item (the `length` bytes at `item`, not NUL-terminated). */
static int fail_item(char* error, size_t error_size, const char* why, const char* item, size_t length) {
  snprintf(error, error_size, "config item '%.*s': %s", (int)length, item, why);
  return 1;
}

/* ---- config ------------------------------------------------------------------------------ */

/* Parses the decimal text[0, length) into *value; 0 when it is a number in [0, max]. */
static int parse_number(const char* text, size_t length, uint64_t max, uint64_t* value) {
  size_t i;
  uint64_t result = 0;
  if (length == 0) return 1;
  for (i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return 1;
    result = result * 10 + (uint64_t)(text[i] - '0');
    if (result > max) return 1;
  }
  *value = result;
  return 0;
}

/* Applies one "key=value" item of `length` bytes to *state. */
static int parse_item(const char* item, size_t length, example_state* state, char* error, size_t error_size) {
  const char* equals = memchr(item, '=', length);
  const char* value;
  size_t key_length, value_length;
  if (equals == NULL) return fail_item(error, error_size, "expected key=value", item, length);
  value = equals + 1;
  key_length = (size_t)(equals - item);
  value_length = length - key_length - 1;
  if (key_length == 7 && memcmp(item, "strings", 7) == 0) {
    if (parse_number(value, value_length, 1000000, &state->strings) == 0 && state->strings > 0) return 0;
    return fail_item(error, error_size, "strings must be 1 to 1000000", item, length);
  }
  if (key_length == 4 && memcmp(item, "leak", 4) == 0) {
    if (parse_number(value, value_length, 1073741824, &state->leak_bytes) == 0) return 0;
    return fail_item(error, error_size, "leak must be 0 to 1073741824 bytes", item, length);
  }
  return fail_item(error, error_size, "unknown key (known: strings, leak)", item, length);
}

/* Parses the whole config into *state, defaults first. */
static int parse_config(const char* config, example_state* state, char* error, size_t error_size) {
  state->strings = 256;
  state->leak_bytes = 0;
  while (*config != '\0') {
    const char* semicolon = strchr(config, ';');
    size_t length = semicolon == NULL ? strlen(config) : (size_t)(semicolon - config);
    if (length > 0 && parse_item(config, length, state, error, error_size) != 0) return 1;
    config += length;
    if (*config == ';') ++config;
  }
  return 0;
}

/* ---- the work of one run ----------------------------------------------------------------- */

/* splitmix64: inputs derived from the run index alone, so the digest depends only on config and
 * run index, as the contract requires. */
static uint64_t next_random(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* 64-bit FNV-1a, continuing from `hash`. */
static uint64_t fnv1a(const char* data, size_t size, uint64_t hash) {
  size_t i;
  for (i = 0; i < size; ++i) {
    hash ^= (unsigned char)data[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

/* A new lowercase word of 8 to 64 letters, or NULL when memory runs out. */
static char* random_word(uint64_t* random) {
  size_t length = 8 + (size_t)(next_random(random) % 57);
  char* word = malloc(length + 1);
  size_t i;
  if (word == NULL) return NULL;
  for (i = 0; i < length; ++i) word[i] = (char)('a' + next_random(random) % 26);
  word[length] = '\0';
  return word;
}

static int compare_words(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

static void free_words(char** words, uint64_t count) {
  uint64_t i;
  for (i = 0; i < count; ++i) free(words[i]);
  free(words);
}

/* The digest of a sorted table of `count` random words. Returns 0 on success. */
static int hash_string_table(uint64_t count, uint64_t run_index, uint64_t* digest) {
  char** words = malloc(count * sizeof *words);
  uint64_t random = run_index * 0xd1b54a32d192ed03ull;
  uint64_t i, hash = 0xcbf29ce484222325ull;
  if (words == NULL) return 1;
  for (i = 0; i < count; ++i) {
    words[i] = random_word(&random);
    if (words[i] == NULL) {
      free_words(words, i);
      return 1;
    }
  }
  qsort(words, count, sizeof *words, compare_words);
  for (i = 0; i < count; ++i) hash = fnv1a(words[i], strlen(words[i]) + 1, hash);
  free_words(words, count);
  *digest = hash;
  return 0;
}

/* ---- the four functions memsoak calls ---------------------------------------------------- */

/* Optional: lets memsoak refuse a bad config (exit 2) before anything runs. Acquires nothing. */
static int example_check_config(const char* config, char* error, size_t error_size) {
  example_state parsed;
  return parse_config(config, &parsed, error, error_size);
}

/* Once per process. A real plugin loads its model here. */
static int example_setup(const char* config, void** state, char* error, size_t error_size) {
  example_state* parsed = malloc(sizeof *parsed);
  if (parsed == NULL) return fail(error, error_size, "out of memory");
  if (parse_config(config, parsed, error, error_size) != 0) {
    free(parsed);
    return 1;
  }
  *state = parsed;
  return 0;
}

/* Once per run: the unit of work memsoak repeats, plus the deliberate leak when configured. */
static int example_run(void* state, uint64_t run_index, uint64_t* digest, char* error, size_t error_size) {
  const example_state* config = state;
  if (hash_string_table(config->strings, run_index, digest) != 0) {
    return fail(error, error_size, "out of memory building the string table");
  }
  if (config->leak_bytes > 0) {
    char* lost = malloc((size_t)config->leak_bytes);
    if (lost == NULL) return fail(error, error_size, "out of memory for the deliberate leak");
    memset(lost, (int)(run_index & 0xff), (size_t)config->leak_bytes); /* touched: resident */
    g_last_leaked = lost;
  }
  return 0;
}

/* At most once, after a successful setup; not called under the fork strategy. */
static void example_teardown(void* state) { free(state); }

static const memsoak_plugin example_plugin = {
    .abi_version = MEMSOAK_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(memsoak_plugin),
    .name = "string-table",
    .setup = example_setup,
    .run = example_run,
    .teardown = example_teardown,
    .check_config = example_check_config,
};

/* The one exported symbol. This plugin speaks one ABI version, so it returns its table whatever
 * the host speaks; memsoak refuses a mismatch with a message naming both versions. */
const memsoak_plugin* memsoak_plugin_entry(uint32_t host_abi_version) {
  (void)host_abi_version;
  return &example_plugin;
}
