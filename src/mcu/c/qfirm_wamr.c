/* The WAMR part (WebAssembly Micro Runtime, github.com/bytecodealliance/wasm-micro-runtime):
 * compile with core/iwasm/include on the include path and link libiwasm. Call
 * wasm_runtime_init (or wasm_runtime_full_init with a pool) before qfirm_open.
 * WAMR trims linear memory to the module's __heap_base by itself. */
#include "wasm_export.h"

#define QFIRM_WAMR_BYTES 0
#define QFIRM_WAMR_MODULE 1
#define QFIRM_WAMR_INSTANCE 2
#define QFIRM_WAMR_EXEC_ENV 3

static qfirm_status rt_open(qfirm_model *m, const uint8_t *wasm, uint32_t wasm_len, uint32_t memory_bytes) {
  char error[QFIRM_MESSAGE_BYTES - 8];
  uint8_t *bytes;
  wasm_module_t module;
  wasm_module_inst_t instance;
  wasm_exec_env_t exec_env;
  wasm_memory_inst_t memory;
  uint64_t size;
  /* WAMR keeps, and patches, the bytes it loads: a copy, from WAMR's own allocator. */
  bytes = (uint8_t *)wasm_runtime_malloc(wasm_len);
  if (bytes == NULL) return fail(m, QFIRM_ERR_RUNTIME, "WAMR", "out of memory for the module's bytes");
  memcpy(bytes, wasm, wasm_len);
  m->handle[QFIRM_WAMR_BYTES] = bytes;
  module = wasm_runtime_load(bytes, wasm_len, error, sizeof error);
  if (module == NULL) {
    rt_close(m);
    return fail(m, QFIRM_ERR_RUNTIME, "WAMR", error);
  }
  m->handle[QFIRM_WAMR_MODULE] = module;
  /* No app heap: a qfirm module allocates nothing. */
  instance = wasm_runtime_instantiate(module, m->config.stack_bytes, 0, error, sizeof error);
  if (instance == NULL) {
    rt_close(m);
    return fail(m, QFIRM_ERR_RUNTIME, "WAMR", error);
  }
  m->handle[QFIRM_WAMR_INSTANCE] = instance;
  exec_env = wasm_runtime_create_exec_env(instance, m->config.stack_bytes);
  if (exec_env == NULL) {
    rt_close(m);
    return fail(m, QFIRM_ERR_RUNTIME, "WAMR", "out of memory for the execution environment");
  }
  m->handle[QFIRM_WAMR_EXEC_ENV] = exec_env;
  memory = wasm_runtime_get_default_memory(instance);
  if (memory == NULL) {
    rt_close(m);
    return fail(m, QFIRM_ERR_MODULE, "module", "no linear memory");
  }
  size = wasm_memory_get_bytes_per_page(memory) * wasm_memory_get_cur_page_count(memory);
  m->memory = (uint8_t *)wasm_memory_get_base_address(memory);
  m->memory_bytes = size > 0xffffffffu ? 0xffffffffu : (uint32_t)size;
  (void)memory_bytes;
  return QFIRM_OK;
}

static qfirm_status rt_find(qfirm_model *m, const char *name, void **fn) {
  *fn = (void *)wasm_runtime_lookup_function((wasm_module_inst_t)m->handle[QFIRM_WAMR_INSTANCE], name);
  return QFIRM_OK;
}

static qfirm_status rt_call(qfirm_model *m, void *fn, const char *name, const int32_t *arg, int32_t *result) {
  wasm_module_inst_t instance = (wasm_module_inst_t)m->handle[QFIRM_WAMR_INSTANCE];
  wasm_function_inst_t function = (wasm_function_inst_t)fn;
  uint32_t argv[1] = { 0 };
  if (arg != NULL) argv[0] = (uint32_t)*arg;
  if (!wasm_runtime_call_wasm((wasm_exec_env_t)m->handle[QFIRM_WAMR_EXEC_ENV], function, arg != NULL ? 1u : 0u, argv)) {
    const char *exception = wasm_runtime_get_exception(instance);
    fail(m, QFIRM_ERR_RUNTIME, name, exception != NULL ? exception : "the call failed");
    wasm_runtime_clear_exception(instance);
    return QFIRM_ERR_RUNTIME;
  }
  if (result != NULL && wasm_func_get_result_count(function, instance) > 0) *result = (int32_t)argv[0];
  return QFIRM_OK;
}

static void rt_close(qfirm_model *m) {
  if (m->handle[QFIRM_WAMR_EXEC_ENV] != NULL) wasm_runtime_destroy_exec_env((wasm_exec_env_t)m->handle[QFIRM_WAMR_EXEC_ENV]);
  if (m->handle[QFIRM_WAMR_INSTANCE] != NULL) wasm_runtime_deinstantiate((wasm_module_inst_t)m->handle[QFIRM_WAMR_INSTANCE]);
  if (m->handle[QFIRM_WAMR_MODULE] != NULL) wasm_runtime_unload((wasm_module_t)m->handle[QFIRM_WAMR_MODULE]);
  if (m->handle[QFIRM_WAMR_BYTES] != NULL) wasm_runtime_free(m->handle[QFIRM_WAMR_BYTES]);
  m->handle[QFIRM_WAMR_EXEC_ENV] = NULL;
  m->handle[QFIRM_WAMR_INSTANCE] = NULL;
  m->handle[QFIRM_WAMR_MODULE] = NULL;
  m->handle[QFIRM_WAMR_BYTES] = NULL;
}
