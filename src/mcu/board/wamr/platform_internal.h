/* WAMR's platform layer for a bare-metal Cortex-M with newlib: one thread, no
 * MMU, memory from malloc, output through printf (semihosting on the emulated
 * boards). Only what WAMR's interpreter needs for a module without imports. */
#ifndef _PLATFORM_INTERNAL_H
#define _PLATFORM_INTERNAL_H

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BH_PLATFORM_QFIRM_BARE
#define BH_PLATFORM_QFIRM_BARE
#endif

#define BH_APPLET_PRESERVED_STACK_SIZE (2 * 1024)
#define BH_THREAD_DEFAULT_PRIORITY 0
#define BH_HAS_DLFCN 0

/* One thread: no locking is ever contended. */
typedef int korp_tid;
typedef int korp_mutex;
typedef int korp_sem;
typedef int korp_cond;
typedef int korp_thread;
typedef struct {
  int unused;
} korp_rwlock;

#define os_printf printf
#define os_vprintf vprintf

/* Types of the file and socket APIs, which a bare board does not offer. */
typedef int os_file_handle;
typedef void *os_dir_stream;
typedef int os_raw_file_handle;
typedef int os_poll_file_handle;
typedef unsigned int os_nfds_t;
typedef int os_timespec;

static inline os_file_handle os_get_invalid_handle(void) {
  return -1;
}

static inline int os_getpagesize(void) {
  return 1024;
}

#endif
