/* WAMR's platform layer for a bare-metal Cortex-M (see platform_internal.h). */
#include "platform_api_extension.h"
#include "platform_api_vmcore.h"

int bh_platform_init(void) {
  return 0;
}

void bh_platform_destroy(void) {
}

void *os_malloc(unsigned size) {
  return malloc(size);
}

void *os_realloc(void *ptr, unsigned size) {
  return realloc(ptr, size);
}

void os_free(void *ptr) {
  free(ptr);
}

int os_dumps_proc_mem_info(char *out, unsigned int size) {
  (void)out;
  (void)size;
  return -1;
}

/* No clock is needed to run a module; WAMR only reads it for profiling and logs. */
uint64 os_time_get_boot_us(void) {
  return 0;
}

uint64 os_time_thread_cputime_us(void) {
  return 0;
}

korp_tid os_self_thread(void) {
  return 1;
}

/* NULL: WAMR then does not check the native stack against a boundary. */
uint8 *os_thread_get_stack_boundary(void) {
  return NULL;
}

void os_thread_jit_write_protect_np(bool enabled) {
  (void)enabled;
}

int os_mutex_init(korp_mutex *mutex) {
  *mutex = 0;
  return BHT_OK;
}

int os_recursive_mutex_init(korp_mutex *mutex) {
  *mutex = 0;
  return BHT_OK;
}

int os_mutex_destroy(korp_mutex *mutex) {
  (void)mutex;
  return BHT_OK;
}

int os_mutex_lock(korp_mutex *mutex) {
  (void)mutex;
  return BHT_OK;
}

int os_mutex_unlock(korp_mutex *mutex) {
  (void)mutex;
  return BHT_OK;
}

/* No MMU: "mapping" is zeroed heap memory. */
void *os_mmap(void *hint, size_t size, int prot, int flags, os_file_handle file) {
  void *addr;
  (void)hint;
  (void)prot;
  (void)flags;
  (void)file;
  if (size >= UINT32_MAX) return NULL;
  addr = BH_MALLOC((uint32)size);
  if (addr != NULL) memset(addr, 0, size);
  return addr;
}

void *os_mremap(void *old_addr, size_t old_size, size_t new_size) {
  return os_mremap_slow(old_addr, old_size, new_size);
}

void os_munmap(void *addr, size_t size) {
  (void)size;
  BH_FREE(addr);
}

int os_mprotect(void *addr, size_t size, int prot) {
  (void)addr;
  (void)size;
  (void)prot;
  return 0;
}

void os_dcache_flush(void) {
}

void os_icache_flush(void *start, size_t len) {
  (void)start;
  (void)len;
}

os_raw_file_handle os_invalid_raw_handle(void) {
  return -1;
}
