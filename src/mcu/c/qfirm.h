/* qfirm host library: runs a qfirm module (module ABI v1, docs/abi.md) in a
 * WebAssembly runtime on a microcontroller (qfirm_wasm3.c or qfirm_wamr.c).
 *
 * One compiled copy runs any qfirm module: open a model from the module's bytes
 * (model.h's array) and the counts model.h defines. Every function returns a
 * status; on an error the model's message says what and where (qfirm_message).
 * Nothing here allocates: the runtime allocates what it needs (with WAMR, from
 * the allocator it was initialised with), and the caller owns the qfirm_model.
 *
 * Numbers are Q values: int32 holding round(v * 2^F), F = config.frac_bits. The
 * _f64 functions convert doubles by the rule of qfirm's driver: round half away
 * from zero; NaN, infinities and values outside the format are QFIRM_ERR_RANGE,
 * never saturated or wrapped, and a rejected call writes nothing. */
#ifndef QFIRM_H
#define QFIRM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: config.trainable_param_count; batch rows without a target in inference-only modules. */
#define QFIRM_HOST_VERSION 2
/* The runtime's stack for calls into the module, when config.stack_bytes is 0. */
#define QFIRM_DEFAULT_STACK_BYTES 2048
#define QFIRM_MESSAGE_BYTES 96

typedef enum qfirm_status {
  QFIRM_OK = 0,
  QFIRM_ERR_ARGUMENT = 1, /* a null pointer, a count or row the model does not have */
  QFIRM_ERR_RANGE = 2,    /* a double that is NaN, infinite or outside the format */
  QFIRM_ERR_MODULE = 3,   /* not a qfirm module, or not the one config describes */
  QFIRM_ERR_RUNTIME = 4,  /* the runtime failed: out of memory, a trap */
  QFIRM_ERR_MISSING = 5   /* the module lacks this export (e.g. built without "batch") */
} qfirm_status;

/* What model.h defines for the module: <NAME>_INPUTS, _OUTPUTS, _PARAM_COUNT, _FRAC_BITS,
 * and _TRAINABLE_PARAM_COUNT where a layer is frozen. */
typedef struct qfirm_config {
  uint32_t inputs;
  uint32_t outputs;
  uint32_t param_count;
  int frac_bits;        /* of input, output, target, params, loss and learning rate */
  uint32_t stack_bytes; /* 0: QFIRM_DEFAULT_STACK_BYTES */
  /* Elements of the grads buffer, which holds the trainable tensors only: model.h's
   * <NAME>_TRAINABLE_PARAM_COUNT. 0: param_count (every layer trains, or no grads). */
  uint32_t trainable_param_count;
} qfirm_config;

/* The module's exported functions; those after QFIRM_FORWARD are optional. */
enum qfirm_export {
  QFIRM_INPUT_PTR, QFIRM_OUTPUT_PTR, QFIRM_FORWARD,
  QFIRM_TARGET_PTR, QFIRM_PARAMS_PTR, QFIRM_GRADS_PTR, QFIRM_LOSS, QFIRM_ZERO_GRAD,
  QFIRM_BACKWARD, QFIRM_STEP, QFIRM_SET_LEARNING_RATE, QFIRM_TRAIN_STEP,
  QFIRM_BATCH_PTR, QFIRM_BATCH_OUTPUT_PTR, QFIRM_BATCH_CAPACITY,
  QFIRM_TRAIN_SAMPLES, QFIRM_TRAIN_BATCH, QFIRM_PREDICT_SAMPLES,
  QFIRM_EXPORT_COUNT
};

/* Fields are private to the library; the caller only provides the storage. */
typedef struct qfirm_model {
  void *handle[4];                 /* the runtime's objects */
  void *fn[QFIRM_EXPORT_COUNT];    /* NULL where the module lacks the export */
  uint8_t *memory;                 /* linear memory; the module never grows it */
  uint32_t memory_bytes;
  uint32_t offset[QFIRM_EXPORT_COUNT]; /* buffers' byte offsets, by their _PTR export */
  uint32_t batch_capacity;
  qfirm_config config;
  char message[QFIRM_MESSAGE_BYTES];
} qfirm_model;

/* Loads the module (the bytes must outlive the model: model.h's array does) with
 * linear memory capped to what the module uses (its __heap_base export). The model
 * must not be open already (qfirm_close it first). With WAMR, call
 * wasm_runtime_init (or wasm_runtime_full_init) first. */
qfirm_status qfirm_open(qfirm_model *m, const uint8_t *wasm, uint32_t wasm_len, const qfirm_config *config);
/* Frees what the runtime allocated; the model can be opened again. */
void qfirm_close(qfirm_model *m);

/* The last error, one line: "input[2]: NaN, infinite or outside q8.24". */
const char *qfirm_message(const qfirm_model *m);
const char *qfirm_status_name(qfirm_status status);
/* Whether the module exports this function (optional exports vary by build). */
int qfirm_has(const qfirm_model *m, enum qfirm_export which);

/* round(value * 2^frac_bits), half away from zero; QFIRM_ERR_RANGE (and *q
 * untouched) for NaN, infinities and results outside int32. */
qfirm_status qfirm_to_q(double value, int frac_bits, int32_t *q);
double qfirm_from_q(int32_t q, int frac_bits);

qfirm_status qfirm_set_input(qfirm_model *m, const int32_t *q, uint32_t count);
qfirm_status qfirm_set_input_f64(qfirm_model *m, const double *values, uint32_t count);
qfirm_status qfirm_set_target(qfirm_model *m, const int32_t *q, uint32_t count);
qfirm_status qfirm_set_target_f64(qfirm_model *m, const double *values, uint32_t count);
qfirm_status qfirm_get_output(qfirm_model *m, int32_t *q, uint32_t count);
qfirm_status qfirm_get_output_f64(qfirm_model *m, double *values, uint32_t count);

qfirm_status qfirm_forward(qfirm_model *m);
/* The loss of the last forward against target, in the model's format. */
qfirm_status qfirm_loss(qfirm_model *m, int32_t *loss);
qfirm_status qfirm_zero_grad(qfirm_model *m);
/* Adds this sample's gradients into grads (uses the last forward). */
qfirm_status qfirm_backward(qfirm_model *m);
qfirm_status qfirm_step(qfirm_model *m);
/* zero_grad, forward, backward, step; *loss (may be NULL) is the loss before the update. */
qfirm_status qfirm_train_step(qfirm_model *m, int32_t *loss);
qfirm_status qfirm_set_learning_rate(qfirm_model *m, int32_t q);
qfirm_status qfirm_set_learning_rate_f64(qfirm_model *m, double value);

/* The params buffer, raw (each tensor's fraction bits are in model.h), to save and
 * restore what the device learned; and the gradients of the last backward (count:
 * config.trainable_param_count, or param_count when that is 0). */
qfirm_status qfirm_get_params(qfirm_model *m, int32_t *q, uint32_t count);
qfirm_status qfirm_set_params(qfirm_model *m, const int32_t *q, uint32_t count);
qfirm_status qfirm_get_grads(qfirm_model *m, int32_t *q, uint32_t count);

/* Rows the batch buffer holds; 0 when the module was built without "batch". */
uint32_t qfirm_batch_capacity(const qfirm_model *m);
/* Row k: inputs values then outputs target values; rows up to the capacity. A module
 * without a target (inference only) has rows of inputs alone, and target may be NULL. */
qfirm_status qfirm_set_batch(qfirm_model *m, const int32_t *rows, uint32_t row_count);
qfirm_status qfirm_set_batch_row_f64(qfirm_model *m, uint32_t row, const double *input, const double *target);
/* Per-sample training over rows 0 .. n-1; *mean_loss (may be NULL) before each update. */
qfirm_status qfirm_train_samples(qfirm_model *m, uint32_t n, int32_t *mean_loss);
/* One step on the mean gradient of rows 0 .. n-1; *mean_loss (may be NULL). */
qfirm_status qfirm_train_batch(qfirm_model *m, uint32_t n, int32_t *mean_loss);
/* Forward for rows 0 .. n-1; their outputs, row after row, with qfirm_get_batch_outputs. */
qfirm_status qfirm_predict_samples(qfirm_model *m, uint32_t n);
qfirm_status qfirm_get_batch_outputs(qfirm_model *m, int32_t *q, uint32_t row_count);

#ifdef __cplusplus
}
#endif

#endif /* QFIRM_H */
