/* The runtime-independent part: conversions, checks, messages, buffers. The
 * runtime's part (after this one in the same file) defines rt_open, rt_find,
 * rt_call and rt_close. */
#include <string.h>

#include "qfirm.h"

static qfirm_status rt_open(qfirm_model *m, const uint8_t *wasm, uint32_t wasm_len, uint32_t memory_bytes);
/* *fn is NULL when the module does not export the function; other failures are errors. */
static qfirm_status rt_find(qfirm_model *m, const char *name, void **fn);
/* Calls fn with *arg when arg is not NULL; stores its i32 result in *result when not NULL. */
static qfirm_status rt_call(qfirm_model *m, void *fn, const char *name, const int32_t *arg, int32_t *result);
static void rt_close(qfirm_model *m);

static const char *const EXPORT_NAMES[QFIRM_EXPORT_COUNT] = {
  "input_ptr", "output_ptr", "forward",
  "target_ptr", "params_ptr", "grads_ptr", "loss", "zero_grad",
  "backward", "step", "set_learning_rate", "train_step",
  "batch_ptr", "batch_output_ptr", "batch_capacity",
  "train_samples", "train_batch", "predict_samples"
};
#define QFIRM_REQUIRED_EXPORTS (QFIRM_FORWARD + 1)

/* ---- messages: text and unsigned numbers only, so no printf is linked ---- */

static void message_put(qfirm_model *m, size_t *at, const char *text) {
  while (*text != '\0' && *at + 1 < sizeof m->message) m->message[(*at)++] = *text++;
  m->message[*at] = '\0';
}

static void message_put_u32(qfirm_model *m, size_t *at, uint32_t n) {
  char digits[11];
  int i = 10;
  digits[i] = '\0';
  do {
    digits[--i] = (char)('0' + n % 10u);
    n /= 10u;
  } while (n != 0u);
  message_put(m, at, digits + i);
}

/* "what: detail", or "what[index]: detail" when index is not (uint32_t)-1. */
static qfirm_status fail_at(qfirm_model *m, qfirm_status status, const char *what, uint32_t index, const char *detail) {
  size_t at = 0;
  message_put(m, &at, what);
  if (index != (uint32_t)-1) {
    message_put(m, &at, "[");
    message_put_u32(m, &at, index);
    message_put(m, &at, "]");
  }
  message_put(m, &at, ": ");
  message_put(m, &at, detail);
  return status;
}

static qfirm_status fail(qfirm_model *m, qfirm_status status, const char *what, const char *detail) {
  return fail_at(m, status, what, (uint32_t)-1, detail);
}

static qfirm_status ok(qfirm_model *m) {
  m->message[0] = '\0';
  return QFIRM_OK;
}

const char *qfirm_message(const qfirm_model *m) {
  return m != NULL ? m->message : "no model";
}

const char *qfirm_status_name(qfirm_status status) {
  switch (status) {
    case QFIRM_OK: return "ok";
    case QFIRM_ERR_ARGUMENT: return "bad argument";
    case QFIRM_ERR_RANGE: return "out of range";
    case QFIRM_ERR_MODULE: return "bad module";
    case QFIRM_ERR_RUNTIME: return "runtime error";
    case QFIRM_ERR_MISSING: return "missing export";
  }
  return "unknown status";
}

int qfirm_has(const qfirm_model *m, enum qfirm_export which) {
  return m != NULL && (unsigned)which < (unsigned)QFIRM_EXPORT_COUNT && m->fn[which] != NULL;
}

/* ---- conversions: the driver's rule (src/spec/format.ts toQ) ---- */

qfirm_status qfirm_to_q(double value, int frac_bits, int32_t *q) {
  double scaled, magnitude, fraction;
  int64_t rounded;
  if (q == NULL || frac_bits < 0 || frac_bits > 30) return QFIRM_ERR_ARGUMENT;
  /* Exact: a power of two scales without rounding (or overflows to infinity). */
  scaled = value * (double)((uint32_t)1 << frac_bits);
  magnitude = scaled < 0 ? -scaled : scaled;
  /* Also false for NaN; below 2^32 the conversion to int64 is exact truncation. */
  if (!(magnitude < 4294967296.0)) return QFIRM_ERR_RANGE;
  rounded = (int64_t)magnitude;
  fraction = magnitude - (double)rounded; /* exact: both lie in one binade's grid */
  if (fraction >= 0.5) rounded += 1;
  if (scaled < 0) rounded = -rounded;
  if (rounded > INT32_MAX || rounded < INT32_MIN) return QFIRM_ERR_RANGE;
  *q = (int32_t)rounded;
  return QFIRM_OK;
}

double qfirm_from_q(int32_t q, int frac_bits) {
  if (frac_bits < 0 || frac_bits > 30) return 0.0;
  return (double)q / (double)((uint32_t)1 << frac_bits);
}

/* "outside q8.24" for the model's format. */
static qfirm_status fail_range(qfirm_model *m, const char *what, uint32_t index) {
  size_t at;
  fail_at(m, QFIRM_ERR_RANGE, what, index, "NaN, infinite or outside q");
  at = strlen(m->message);
  message_put_u32(m, &at, (uint32_t)(32 - m->config.frac_bits));
  message_put(m, &at, ".");
  message_put_u32(m, &at, (uint32_t)m->config.frac_bits);
  return QFIRM_ERR_RANGE;
}

/* ---- the module's bytes: __heap_base, the end of the memory it uses ---- */

static int read_u32_leb(const uint8_t **p, const uint8_t *end, uint32_t *out) {
  uint32_t result = 0;
  int shift;
  for (shift = 0; shift < 35 && *p < end; shift += 7) {
    uint8_t byte = *(*p)++;
    result |= (uint32_t)(byte & 0x7fu) << shift;
    if ((byte & 0x80u) == 0) {
      *out = result;
      return 1;
    }
  }
  return 0;
}

static int read_i32_leb(const uint8_t **p, const uint8_t *end, int32_t *out) {
  uint32_t result = 0;
  int shift = 0;
  uint8_t byte;
  do {
    if (*p >= end || shift >= 35) return 0;
    byte = *(*p)++;
    result |= (uint32_t)(byte & 0x7fu) << shift;
    shift += 7;
  } while ((byte & 0x80u) != 0);
  if (shift < 32 && (byte & 0x40u) != 0) result |= ~(uint32_t)0 << shift;
  *out = (int32_t)result;
  return 1;
}

/* The value of global `index` if it is a constant i32 (the section holds only those in a qfirm module). */
static int global_i32(const uint8_t *p, const uint8_t *end, uint32_t index, int32_t *value) {
  uint32_t count, i;
  if (!read_u32_leb(&p, end, &count) || index >= count) return 0;
  for (i = 0; i <= index; i++) {
    int32_t v;
    if (end - p < 3 || p[0] != 0x7f /* i32 */ || p[2] != 0x41 /* i32.const */) return 0;
    p += 3;
    if (!read_i32_leb(&p, end, &v) || p >= end || *p++ != 0x0b /* end */) return 0;
    if (i == index) *value = v;
  }
  return 1;
}

/* The export's index if it is a global with that name. */
static int export_global(const uint8_t *p, const uint8_t *end, const char *name, uint32_t *index) {
  uint32_t count, i, length, at;
  size_t want = strlen(name);
  if (!read_u32_leb(&p, end, &count)) return 0;
  for (i = 0; i < count; i++) {
    if (!read_u32_leb(&p, end, &length) || (uint32_t)(end - p) < length + 1u) return 0;
    int match = length == want && memcmp(p, name, want) == 0;
    p += length;
    if (*p++ == 0x03 /* global */ && match) return read_u32_leb(&p, end, index);
    if (!read_u32_leb(&p, end, &at)) return 0;
  }
  return 0;
}

static int module_heap_base(const uint8_t *wasm, uint32_t wasm_len, uint32_t *heap_base) {
  const uint8_t *p = wasm + 8, *end = wasm + wasm_len, *globals = NULL, *globals_end = NULL;
  uint32_t index;
  int32_t value = 0;
  if (wasm_len < 8 || memcmp(wasm, "\0asm\1\0\0\0", 8) != 0) return 0;
  while (p < end) {
    uint8_t id = *p++;
    uint32_t size;
    if (!read_u32_leb(&p, end, &size) || (uint32_t)(end - p) < size) return 0;
    if (id == 6) {
      globals = p;
      globals_end = p + size;
    } else if (id == 7) {
      if (globals == NULL || !export_global(p, p + size, "__heap_base", &index)) return 0;
      if (!global_i32(globals, globals_end, index, &value) || value <= 0) return 0;
      *heap_base = (uint32_t)value;
      return 1;
    }
    p += size;
  }
  return 0;
}

/* ---- opening ---- */

static uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* Elements of grads: the trainable params (config.trainable_param_count; 0 means all). */
static uint32_t grad_count(const qfirm_model *m) {
  return m->config.trainable_param_count != 0u ? m->config.trainable_param_count : m->config.param_count;
}

/* Words of one batch row: the input, then the target unless the module has none (inference only). */
static uint32_t row_words(const qfirm_model *m) {
  return m->config.inputs + (m->fn[QFIRM_TARGET_PTR] != NULL ? m->config.outputs : 0u);
}

/* Whether `words` i32 values at the buffer's offset lie inside linear memory. */
static int fits(const qfirm_model *m, enum qfirm_export buffer, uint64_t words) {
  return m->fn[buffer] == NULL || (uint64_t)m->offset[buffer] + 4u * words <= m->memory_bytes;
}

qfirm_status qfirm_open(qfirm_model *m, const uint8_t *wasm, uint32_t wasm_len, const qfirm_config *config) {
  uint32_t heap_base, rows;
  int i;
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  memset(m, 0, sizeof *m);
  if (wasm == NULL || config == NULL) return fail(m, QFIRM_ERR_ARGUMENT, "qfirm_open", "null module or config");
  if (config->frac_bits < 1 || config->frac_bits > 30 || config->inputs == 0 || config->outputs == 0) {
    return fail(m, QFIRM_ERR_ARGUMENT, "config", "frac_bits must be 1 to 30, inputs and outputs at least 1");
  }
  if (config->trainable_param_count > config->param_count) {
    return fail(m, QFIRM_ERR_ARGUMENT, "config", "trainable_param_count exceeds param_count");
  }
  m->config = *config;
  if (m->config.stack_bytes == 0) m->config.stack_bytes = QFIRM_DEFAULT_STACK_BYTES;
  if (!module_heap_base(wasm, wasm_len, &heap_base)) {
    return fail(m, QFIRM_ERR_MODULE, "module", "not a qfirm module (no constant i32 __heap_base export)");
  }
  status = rt_open(m, wasm, wasm_len, heap_base);
  if (status != QFIRM_OK) return status;
  for (i = 0; i < QFIRM_EXPORT_COUNT; i++) {
    status = rt_find(m, EXPORT_NAMES[i], &m->fn[i]);
    if (status != QFIRM_OK) {
      qfirm_close(m);
      return status;
    }
    if (m->fn[i] == NULL && i < QFIRM_REQUIRED_EXPORTS) {
      qfirm_close(m);
      return fail(m, QFIRM_ERR_MODULE, "module", "a required export (input_ptr, output_ptr, forward) is missing");
    }
  }
  for (i = 0; i < QFIRM_EXPORT_COUNT; i++) {
    int32_t value = 0;
    int pointer = i == QFIRM_INPUT_PTR || i == QFIRM_OUTPUT_PTR || i == QFIRM_TARGET_PTR || i == QFIRM_PARAMS_PTR ||
                  i == QFIRM_GRADS_PTR || i == QFIRM_BATCH_PTR || i == QFIRM_BATCH_OUTPUT_PTR || i == QFIRM_BATCH_CAPACITY;
    if (!pointer || m->fn[i] == NULL) continue;
    status = rt_call(m, m->fn[i], EXPORT_NAMES[i], NULL, &value);
    if (status != QFIRM_OK) {
      qfirm_close(m);
      return status;
    }
    if (value < 0) {
      qfirm_close(m);
      return fail(m, QFIRM_ERR_MODULE, EXPORT_NAMES[i], "negative");
    }
    if (i == QFIRM_BATCH_CAPACITY) m->batch_capacity = (uint32_t)value;
    else m->offset[i] = (uint32_t)value;
  }
  rows = m->fn[QFIRM_BATCH_PTR] != NULL ? m->batch_capacity : 0;
  if (!fits(m, QFIRM_INPUT_PTR, config->inputs) || !fits(m, QFIRM_OUTPUT_PTR, config->outputs) ||
      !fits(m, QFIRM_TARGET_PTR, config->outputs) || !fits(m, QFIRM_PARAMS_PTR, config->param_count) ||
      !fits(m, QFIRM_GRADS_PTR, grad_count(m)) ||
      !fits(m, QFIRM_BATCH_PTR, (uint64_t)rows * row_words(m)) ||
      !fits(m, QFIRM_BATCH_OUTPUT_PTR, (uint64_t)rows * config->outputs)) {
    qfirm_close(m);
    return fail(m, QFIRM_ERR_MODULE, "config", "its counts do not fit the module's buffers (another model's model.h?)");
  }
  return ok(m);
}

void qfirm_close(qfirm_model *m) {
  if (m == NULL) return;
  rt_close(m);
  memset(m->handle, 0, sizeof m->handle);
  memset(m->fn, 0, sizeof m->fn);
  m->memory = NULL;
  m->memory_bytes = 0;
}

/* ---- calls and buffers ---- */

static qfirm_status need(qfirm_model *m, enum qfirm_export which) {
  if (m->memory == NULL) return fail(m, QFIRM_ERR_ARGUMENT, EXPORT_NAMES[which], "the model is not open");
  if (m->fn[which] == NULL) return fail(m, QFIRM_ERR_MISSING, EXPORT_NAMES[which], "the module does not export it");
  return QFIRM_OK;
}

static qfirm_status call(qfirm_model *m, enum qfirm_export which, const int32_t *arg, int32_t *result) {
  int32_t ignored;
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = need(m, which);
  if (status != QFIRM_OK) return status;
  status = rt_call(m, m->fn[which], EXPORT_NAMES[which], arg, result != NULL ? result : &ignored);
  return status != QFIRM_OK ? status : ok(m);
}

/* The buffer a _ptr export gives: "input" for input_ptr. */
static const char *buffer_name(enum qfirm_export buffer) {
  switch (buffer) {
    case QFIRM_INPUT_PTR: return "input";
    case QFIRM_OUTPUT_PTR: return "output";
    case QFIRM_TARGET_PTR: return "target";
    case QFIRM_PARAMS_PTR: return "params";
    case QFIRM_GRADS_PTR: return "grads";
    case QFIRM_BATCH_PTR: return "batch";
    case QFIRM_BATCH_OUTPUT_PTR: return "batch outputs";
    default: return EXPORT_NAMES[buffer];
  }
}

static qfirm_status check_count(qfirm_model *m, enum qfirm_export buffer, const void *data, uint32_t count, uint32_t expected) {
  size_t at;
  qfirm_status status = need(m, buffer);
  if (status != QFIRM_OK) return status;
  if (data == NULL) return fail(m, QFIRM_ERR_ARGUMENT, buffer_name(buffer), "null pointer");
  if (count != expected) {
    fail(m, QFIRM_ERR_ARGUMENT, buffer_name(buffer), "");
    at = strlen(m->message);
    message_put_u32(m, &at, count);
    message_put(m, &at, " values; the model has ");
    message_put_u32(m, &at, expected);
    return QFIRM_ERR_ARGUMENT;
  }
  return QFIRM_OK;
}

static qfirm_status write_words(qfirm_model *m, enum qfirm_export buffer, const int32_t *q, uint32_t count, uint32_t expected) {
  uint32_t i;
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = check_count(m, buffer, q, count, expected);
  if (status != QFIRM_OK) return status;
  for (i = 0; i < count; i++) store_le32(m->memory + m->offset[buffer] + 4u * i, (uint32_t)q[i]);
  return ok(m);
}

static qfirm_status read_words(qfirm_model *m, enum qfirm_export buffer, int32_t *q, uint32_t count, uint32_t expected) {
  uint32_t i;
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = check_count(m, buffer, q, count, expected);
  if (status != QFIRM_OK) return status;
  for (i = 0; i < count; i++) q[i] = (int32_t)load_le32(m->memory + m->offset[buffer] + 4u * i);
  return ok(m);
}

/* Converts every value first: a rejected call writes nothing. */
static qfirm_status write_f64(qfirm_model *m, const char *what, uint32_t at, const double *values, uint32_t count) {
  uint32_t i;
  int32_t q;
  for (i = 0; i < count; i++) {
    if (qfirm_to_q(values[i], m->config.frac_bits, &q) != QFIRM_OK) return fail_range(m, what, i);
  }
  for (i = 0; i < count; i++) {
    qfirm_to_q(values[i], m->config.frac_bits, &q);
    store_le32(m->memory + at + 4u * i, (uint32_t)q);
  }
  return ok(m);
}

static qfirm_status set_f64(qfirm_model *m, enum qfirm_export buffer, const char *what, const double *values, uint32_t count, uint32_t expected) {
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = check_count(m, buffer, values, count, expected);
  if (status != QFIRM_OK) return status;
  return write_f64(m, what, m->offset[buffer], values, count);
}

qfirm_status qfirm_set_input(qfirm_model *m, const int32_t *q, uint32_t count) {
  return write_words(m, QFIRM_INPUT_PTR, q, count, m != NULL ? m->config.inputs : 0);
}

qfirm_status qfirm_set_input_f64(qfirm_model *m, const double *values, uint32_t count) {
  return set_f64(m, QFIRM_INPUT_PTR, "input", values, count, m != NULL ? m->config.inputs : 0);
}

qfirm_status qfirm_set_target(qfirm_model *m, const int32_t *q, uint32_t count) {
  return write_words(m, QFIRM_TARGET_PTR, q, count, m != NULL ? m->config.outputs : 0);
}

qfirm_status qfirm_set_target_f64(qfirm_model *m, const double *values, uint32_t count) {
  return set_f64(m, QFIRM_TARGET_PTR, "target", values, count, m != NULL ? m->config.outputs : 0);
}

qfirm_status qfirm_get_output(qfirm_model *m, int32_t *q, uint32_t count) {
  return read_words(m, QFIRM_OUTPUT_PTR, q, count, m != NULL ? m->config.outputs : 0);
}

qfirm_status qfirm_get_output_f64(qfirm_model *m, double *values, uint32_t count) {
  uint32_t i;
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = check_count(m, QFIRM_OUTPUT_PTR, values, count, m->config.outputs);
  if (status != QFIRM_OK) return status;
  for (i = 0; i < count; i++) {
    values[i] = qfirm_from_q((int32_t)load_le32(m->memory + m->offset[QFIRM_OUTPUT_PTR] + 4u * i), m->config.frac_bits);
  }
  return ok(m);
}

qfirm_status qfirm_forward(qfirm_model *m) { return call(m, QFIRM_FORWARD, NULL, NULL); }
qfirm_status qfirm_loss(qfirm_model *m, int32_t *loss) { return call(m, QFIRM_LOSS, NULL, loss); }
qfirm_status qfirm_zero_grad(qfirm_model *m) { return call(m, QFIRM_ZERO_GRAD, NULL, NULL); }
qfirm_status qfirm_backward(qfirm_model *m) { return call(m, QFIRM_BACKWARD, NULL, NULL); }
qfirm_status qfirm_step(qfirm_model *m) { return call(m, QFIRM_STEP, NULL, NULL); }
qfirm_status qfirm_train_step(qfirm_model *m, int32_t *loss) { return call(m, QFIRM_TRAIN_STEP, NULL, loss); }
qfirm_status qfirm_set_learning_rate(qfirm_model *m, int32_t q) { return call(m, QFIRM_SET_LEARNING_RATE, &q, NULL); }

qfirm_status qfirm_set_learning_rate_f64(qfirm_model *m, double value) {
  int32_t q;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  if (qfirm_to_q(value, m->config.frac_bits, &q) != QFIRM_OK) return fail_range(m, "learning rate", (uint32_t)-1);
  return qfirm_set_learning_rate(m, q);
}

qfirm_status qfirm_get_params(qfirm_model *m, int32_t *q, uint32_t count) {
  return read_words(m, QFIRM_PARAMS_PTR, q, count, m != NULL ? m->config.param_count : 0);
}

qfirm_status qfirm_set_params(qfirm_model *m, const int32_t *q, uint32_t count) {
  return write_words(m, QFIRM_PARAMS_PTR, q, count, m != NULL ? m->config.param_count : 0);
}

qfirm_status qfirm_get_grads(qfirm_model *m, int32_t *q, uint32_t count) {
  return read_words(m, QFIRM_GRADS_PTR, q, count, m != NULL ? grad_count(m) : 0);
}

uint32_t qfirm_batch_capacity(const qfirm_model *m) {
  return m != NULL && m->fn[QFIRM_BATCH_PTR] != NULL ? m->batch_capacity : 0;
}

/* Rows 0 .. n-1 must exist: n at most the capacity. */
static qfirm_status check_rows(qfirm_model *m, enum qfirm_export which, uint32_t n) {
  size_t at;
  qfirm_status status = need(m, which);
  if (status != QFIRM_OK) return status;
  status = need(m, QFIRM_BATCH_PTR);
  if (status != QFIRM_OK) return status;
  if (n > m->batch_capacity) {
    fail(m, QFIRM_ERR_ARGUMENT, "batch", "");
    at = strlen(m->message);
    message_put_u32(m, &at, n);
    message_put(m, &at, " rows; the module holds 0 to ");
    message_put_u32(m, &at, m->batch_capacity);
    return QFIRM_ERR_ARGUMENT;
  }
  return QFIRM_OK;
}

qfirm_status qfirm_set_batch(qfirm_model *m, const int32_t *rows, uint32_t row_count) {
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = check_rows(m, QFIRM_BATCH_PTR, row_count);
  if (status != QFIRM_OK) return status;
  if (rows == NULL) return fail(m, QFIRM_ERR_ARGUMENT, "batch", "null pointer");
  return write_words(m, QFIRM_BATCH_PTR, rows, row_count * row_words(m), row_count * row_words(m));
}

qfirm_status qfirm_set_batch_row_f64(qfirm_model *m, uint32_t row, const double *input, const double *target) {
  uint32_t i, at;
  int32_t q;
  int has_target;
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = check_rows(m, QFIRM_BATCH_PTR, row + 1u);
  if (status != QFIRM_OK) return status;
  has_target = m->fn[QFIRM_TARGET_PTR] != NULL;
  if (input == NULL || (has_target && target == NULL)) return fail(m, QFIRM_ERR_ARGUMENT, "batch", "null pointer");
  for (i = 0; has_target && i < m->config.outputs; i++) {
    if (qfirm_to_q(target[i], m->config.frac_bits, &q) != QFIRM_OK) return fail_range(m, "batch target", i);
  }
  at = m->offset[QFIRM_BATCH_PTR] + 4u * row * row_words(m);
  status = write_f64(m, "batch input", at, input, m->config.inputs);
  if (status != QFIRM_OK || !has_target) return status;
  return write_f64(m, "batch target", at + 4u * m->config.inputs, target, m->config.outputs);
}

static qfirm_status call_rows(qfirm_model *m, enum qfirm_export which, uint32_t n, int32_t *result) {
  int32_t rows = (int32_t)n;
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = check_rows(m, which, n);
  if (status != QFIRM_OK) return status;
  return call(m, which, &rows, result);
}

qfirm_status qfirm_train_samples(qfirm_model *m, uint32_t n, int32_t *mean_loss) {
  return call_rows(m, QFIRM_TRAIN_SAMPLES, n, mean_loss);
}

qfirm_status qfirm_train_batch(qfirm_model *m, uint32_t n, int32_t *mean_loss) {
  return call_rows(m, QFIRM_TRAIN_BATCH, n, mean_loss);
}

qfirm_status qfirm_predict_samples(qfirm_model *m, uint32_t n) {
  return call_rows(m, QFIRM_PREDICT_SAMPLES, n, NULL);
}

qfirm_status qfirm_get_batch_outputs(qfirm_model *m, int32_t *q, uint32_t row_count) {
  qfirm_status status;
  if (m == NULL) return QFIRM_ERR_ARGUMENT;
  status = check_rows(m, QFIRM_BATCH_OUTPUT_PTR, row_count);
  if (status != QFIRM_OK) return status;
  return read_words(m, QFIRM_BATCH_OUTPUT_PTR, q, row_count * m->config.outputs, row_count * m->config.outputs);
}
