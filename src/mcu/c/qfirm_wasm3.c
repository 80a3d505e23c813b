/* The wasm3 part (github.com/wasm3/wasm3): compile with wasm3's source folder on
 * the include path, with the same d_m3 settings as the wasm3 library it links. */
#include "wasm3.h"
/* M3Runtime.memoryLimit: wasm3 has no public call to cap linear memory. Its internal
 * header is not ISO C99 (anonymous unions, function pointer casts); that is its own. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include "m3_env.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#define QFIRM_WASM3_ENV 0
#define QFIRM_WASM3_RUNTIME 1

static qfirm_status rt_open(qfirm_model *m, const uint8_t *wasm, uint32_t wasm_len, uint32_t memory_bytes) {
  IM3Environment env;
  IM3Runtime runtime;
  IM3Module module = NULL;
  M3Result result;
  uint32_t size = 0;
  env = m3_NewEnvironment();
  if (env == NULL) return fail(m, QFIRM_ERR_RUNTIME, "wasm3", "out of memory for the environment");
  m->handle[QFIRM_WASM3_ENV] = env;
  runtime = m3_NewRuntime(env, m->config.stack_bytes, NULL);
  if (runtime == NULL) {
    rt_close(m);
    return fail(m, QFIRM_ERR_RUNTIME, "wasm3", "out of memory for the runtime and its stack");
  }
  m->handle[QFIRM_WASM3_RUNTIME] = runtime;
  /* wasm3 would allocate the declared 64 KiB page; the module uses memory_bytes. */
  runtime->memoryLimit = memory_bytes;
  result = m3_ParseModule(env, &module, wasm, wasm_len);
  if (result == m3Err_none) {
    result = m3_LoadModule(runtime, module); /* the runtime owns the module once loaded */
    if (result != m3Err_none) m3_FreeModule(module);
  }
  if (result != m3Err_none) {
    rt_close(m);
    return fail(m, QFIRM_ERR_RUNTIME, "wasm3", result);
  }
  m->memory = m3_GetMemory(runtime, &size, 0);
  m->memory_bytes = size;
  if (m->memory == NULL) {
    rt_close(m);
    return fail(m, QFIRM_ERR_MODULE, "module", "no linear memory");
  }
  return QFIRM_OK;
}

static qfirm_status rt_find(qfirm_model *m, const char *name, void **fn) {
  IM3Function function = NULL;
  M3Result result = m3_FindFunction(&function, (IM3Runtime)m->handle[QFIRM_WASM3_RUNTIME], name);
  *fn = NULL;
  if (result == m3Err_functionLookupFailed) return QFIRM_OK;
  if (result != m3Err_none) return fail(m, QFIRM_ERR_RUNTIME, name, result); /* e.g. out of memory compiling it */
  *fn = function;
  return QFIRM_OK;
}

static qfirm_status rt_call(qfirm_model *m, void *fn, const char *name, const int32_t *arg, int32_t *result) {
  IM3Function function = (IM3Function)fn;
  M3Result error = arg != NULL ? m3_CallV(function, *arg) : m3_CallV(function);
  if (error == m3Err_none && result != NULL && m3_GetRetCount(function) > 0) error = m3_GetResultsV(function, result);
  if (error != m3Err_none) return fail(m, QFIRM_ERR_RUNTIME, name, error);
  return QFIRM_OK;
}

static void rt_close(qfirm_model *m) {
  if (m->handle[QFIRM_WASM3_RUNTIME] != NULL) m3_FreeRuntime((IM3Runtime)m->handle[QFIRM_WASM3_RUNTIME]);
  if (m->handle[QFIRM_WASM3_ENV] != NULL) m3_FreeEnvironment((IM3Environment)m->handle[QFIRM_WASM3_ENV]);
  m->handle[QFIRM_WASM3_RUNTIME] = NULL;
  m->handle[QFIRM_WASM3_ENV] = NULL;
}
