/* A plugin that misbehaves with the process it runs in (memsoak's, under in-process), for
 * tests/tools/hardening_cli_test.cpp. Its configuration is a list of words:
 *   chdir:DIR     every run changes the working directory to DIR
 *   signals       every run sets SIGINT, SIGTERM, SIGHUP and SIGPIPE to be ignored
 *   dup-data      every run puts /dev/null (dup2) on each descriptor open on a file named
 *                 samples.bin or run.log
 *   close-all:K   run K closes every descriptor from 3 up (memsoak's pipes included)
 *   linger:K:PATH run K forks a child that never executes anything: it writes its pid to PATH,
 *                 ignores SIGTERM, SIGINT and SIGHUP, and sleeps for ever, holding a copy of
 *                 every descriptor of the process it was forked from (memsoak's pipes included)
 * Runs succeed otherwise, with the run index as digest. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memsoak_plugin.h"

static char g_config[512];

static int ends_with(const char* text, const char* suffix) {
  size_t n = strlen(text), m = strlen(suffix);
  return n >= m && strcmp(text + n - m, suffix) == 0;
}

static void put_null_on_data_files(void) {
  int fd;
  for (fd = 3; fd < 1024; ++fd) {
    char link[64], target[4096];
    ssize_t n;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (ends_with(target, "/samples.bin") || ends_with(target, "/run.log")) {
      int null = open("/dev/null", O_WRONLY);
      if (null >= 0) {
        dup2(null, fd);
        close(null);
      }
    }
  }
}

/* `word` is "linger:K:PATH...": forks the lingering child (see the top of this file). */
static void start_lingering_child(const char* word) {
  const char* path_start = strchr(word + 7, ':');
  char path[512];
  if (path_start == NULL) return;
  snprintf(path, sizeof path, "%.*s", (int)strcspn(path_start + 1, " "), path_start + 1);
  if (fork() == 0) {
    char text[32];
    char temporary[520];
    int fd;
    int n = snprintf(text, sizeof text, "%d\n", (int)getpid());
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      if (write(fd, text, (size_t)n) != n) _exit(1);
      close(fd);
      rename(temporary, path); /* whole, for whoever reads it */
    }
    for (;;) pause();
  }
}

static int hostile_setup(const char* config, void** state, char* error, size_t error_size) {
  (void)state;
  (void)error;
  (void)error_size;
  snprintf(g_config, sizeof g_config, "%s", config);
  return 0;
}

static int hostile_run(void* state, uint64_t run_index, uint64_t* digest, char* error, size_t error_size) {
  const char* dir = strstr(g_config, "chdir:");
  const char* close_all = strstr(g_config, "close-all:");
  const char* linger = strstr(g_config, "linger:");
  (void)state;
  (void)error;
  (void)error_size;
  if (dir != NULL) {
    char path[256];
    size_t n = strcspn(dir + 6, " ");
    snprintf(path, sizeof path, "%.*s", (int)n, dir + 6);
    if (chdir(path) != 0) return 1;
  }
  if (strstr(g_config, "signals") != NULL) {
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
  }
  if (strstr(g_config, "dup-data") != NULL) put_null_on_data_files();
  if (linger != NULL && strtoull(linger + 7, NULL, 10) == run_index) start_lingering_child(linger);
  if (close_all != NULL && strtoull(close_all + 10, NULL, 10) == run_index) {
    int fd;
    for (fd = 3; fd < 1024; ++fd) close(fd);
  }
  *digest = run_index;
  return 0;
}

static void hostile_teardown(void* state) { (void)state; }

static int hostile_check_config(const char* config, char* error, size_t error_size) {
  (void)config;
  (void)error;
  (void)error_size;
  return 0;
}

static const memsoak_plugin hostile = {
    MEMSOAK_PLUGIN_ABI_VERSION, sizeof(memsoak_plugin), "hostile", hostile_setup, hostile_run,
    hostile_teardown,           hostile_check_config};

const memsoak_plugin* memsoak_plugin_entry(uint32_t host_abi_version) {
  (void)host_abi_version;
  return &hostile;
}
