/* Test driver for the host library: one process runs many modules. Reads commands
 * from stdin, one a line, and answers each with one line starting with its name,
 * then "ok ..." or "error <status> <message>". Numbers are decimal int32; doubles
 * are their IEEE-754 bits in hex, so nothing is lost on the way. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qfirm.h"
#if defined(QFIRM_TEST_WAMR)
#include "wasm_export.h"
#endif

#define MAX_WORDS 65536

static qfirm_model model;
static uint8_t *wasm;
static int32_t words[MAX_WORDS];
static double doubles[MAX_WORDS];

static int ints(char **rest, int32_t *out, int max) {
  int n = 0;
  char *token;
  while (n < max && (token = strtok_r(NULL, " \n", rest)) != NULL) out[n++] = (int32_t)strtol(token, NULL, 10);
  return n;
}

static double from_bits(const char *hex) {
  unsigned long long bits = strtoull(hex, NULL, 16);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

static int floats(char **rest, double *out, int max) {
  int n = 0;
  char *token;
  while (n < max && (token = strtok_r(NULL, " \n", rest)) != NULL) out[n++] = from_bits(token);
  return n;
}

static void answer(const char *name, qfirm_status status) {
  if (status == QFIRM_OK) printf("%s ok\n", name);
  else printf("%s error %d %s\n", name, (int)status, qfirm_message(&model));
}

static void answer_words(const char *name, qfirm_status status, const int32_t *q, uint32_t n) {
  uint32_t i;
  if (status != QFIRM_OK) {
    answer(name, status);
    return;
  }
  printf("%s ok", name);
  for (i = 0; i < n; i++) printf(" %ld", (long)q[i]);
  printf("\n");
}

static qfirm_status open_file(char **rest) {
  const char *path = strtok_r(NULL, " \n", rest);
  int32_t counts[5] = { 0, 0, 0, 0, 0 };
  qfirm_config config;
  FILE *file;
  long size;
  if (path == NULL || ints(rest, counts, 5) < 4) return QFIRM_ERR_ARGUMENT;
  file = fopen(path, "rb");
  if (file == NULL) return QFIRM_ERR_ARGUMENT;
  fseek(file, 0, SEEK_END);
  size = ftell(file);
  fseek(file, 0, SEEK_SET);
  free(wasm);
  wasm = malloc((size_t)size);
  if (fread(wasm, 1, (size_t)size, file) != (size_t)size) size = 0;
  fclose(file);
  config.inputs = (uint32_t)counts[0];
  config.outputs = (uint32_t)counts[1];
  config.param_count = (uint32_t)counts[2];
  config.frac_bits = counts[3];
  config.stack_bytes = 0;
  config.trainable_param_count = (uint32_t)counts[4];
  return qfirm_open(&model, wasm, (uint32_t)size, &config);
}

int main(void) {
  char line[1 << 20];
#if defined(QFIRM_TEST_WAMR)
  if (!wasm_runtime_init()) return 1;
#endif
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  while (fgets(line, sizeof line, stdin) != NULL) {
    char *rest;
    char *command = strtok_r(line, " \n", &rest);
    int32_t value = 0;
    qfirm_status status;
    int n;
    if (command == NULL) continue;
    if (strcmp(command, "open") == 0) {
      status = open_file(&rest);
      if (status == QFIRM_OK) printf("open ok %lu\n", (unsigned long)model.memory_bytes);
      else answer(command, status);
    } else if (strcmp(command, "close") == 0) {
      qfirm_close(&model);
      answer(command, QFIRM_OK);
    } else if (strcmp(command, "input") == 0) {
      n = ints(&rest, words, MAX_WORDS);
      answer(command, qfirm_set_input(&model, words, (uint32_t)n));
    } else if (strcmp(command, "target") == 0) {
      n = ints(&rest, words, MAX_WORDS);
      answer(command, qfirm_set_target(&model, words, (uint32_t)n));
    } else if (strcmp(command, "input_f64") == 0) {
      n = floats(&rest, doubles, MAX_WORDS);
      answer(command, qfirm_set_input_f64(&model, doubles, (uint32_t)n));
    } else if (strcmp(command, "target_f64") == 0) {
      n = floats(&rest, doubles, MAX_WORDS);
      answer(command, qfirm_set_target_f64(&model, doubles, (uint32_t)n));
    } else if (strcmp(command, "lr_f64") == 0) {
      n = floats(&rest, doubles, 1);
      answer(command, qfirm_set_learning_rate_f64(&model, doubles[0]));
    } else if (strcmp(command, "lr") == 0) {
      ints(&rest, &value, 1);
      answer(command, qfirm_set_learning_rate(&model, value));
    } else if (strcmp(command, "train") == 0) {
      int32_t steps = 0, k;
      ints(&rest, &steps, 1);
      for (k = 0, status = QFIRM_OK; k < steps && status == QFIRM_OK; k++) status = qfirm_train_step(&model, &words[k]);
      answer_words(command, status, words, (uint32_t)steps);
    } else if (strcmp(command, "forward") == 0) {
      answer(command, qfirm_forward(&model));
    } else if (strcmp(command, "loss") == 0) {
      status = qfirm_loss(&model, &value);
      answer_words(command, status, &value, 1);
    } else if (strcmp(command, "output") == 0) {
      status = qfirm_get_output(&model, words, model.config.outputs);
      answer_words(command, status, words, model.config.outputs);
    } else if (strcmp(command, "output_f64") == 0) {
      uint32_t i;
      status = qfirm_get_output_f64(&model, doubles, model.config.outputs);
      if (status != QFIRM_OK) answer(command, status);
      else {
        printf("%s ok", command);
        for (i = 0; i < model.config.outputs; i++) printf(" %.17g", doubles[i]);
        printf("\n");
      }
    } else if (strcmp(command, "params") == 0) {
      status = qfirm_get_params(&model, words, model.config.param_count);
      answer_words(command, status, words, model.config.param_count);
    } else if (strcmp(command, "set_params") == 0) {
      n = ints(&rest, words, MAX_WORDS);
      answer(command, qfirm_set_params(&model, words, (uint32_t)n));
    } else if (strcmp(command, "grads") == 0) {
      uint32_t count = model.config.trainable_param_count != 0u ? model.config.trainable_param_count : model.config.param_count;
      status = qfirm_get_grads(&model, words, count);
      answer_words(command, status, words, count);
    } else if (strcmp(command, "zero_grad") == 0) {
      answer(command, qfirm_zero_grad(&model));
    } else if (strcmp(command, "backward") == 0) {
      answer(command, qfirm_backward(&model));
    } else if (strcmp(command, "step") == 0) {
      answer(command, qfirm_step(&model));
    } else if (strcmp(command, "capacity") == 0) {
      value = (int32_t)qfirm_batch_capacity(&model);
      answer_words(command, QFIRM_OK, &value, 1);
    } else if (strcmp(command, "batch") == 0) {
      int32_t rows = 0;
      ints(&rest, &rows, 1);
      ints(&rest, words, MAX_WORDS);
      answer(command, qfirm_set_batch(&model, words, (uint32_t)rows));
    } else if (strcmp(command, "batch_row_f64") == 0) {
      int32_t row = 0;
      ints(&rest, &row, 1);
      floats(&rest, doubles, MAX_WORDS);
      answer(command, qfirm_set_batch_row_f64(&model, (uint32_t)row, doubles, doubles + model.config.inputs));
    } else if (strcmp(command, "train_samples") == 0 || strcmp(command, "train_batch") == 0) {
      int32_t rows = 0;
      ints(&rest, &rows, 1);
      status = command[6] == 's' ? qfirm_train_samples(&model, (uint32_t)rows, &value)
                                 : qfirm_train_batch(&model, (uint32_t)rows, &value);
      answer_words(command, status, &value, 1);
    } else if (strcmp(command, "predict") == 0) {
      int32_t rows = 0;
      ints(&rest, &rows, 1);
      status = qfirm_predict_samples(&model, (uint32_t)rows);
      if (status == QFIRM_OK) status = qfirm_get_batch_outputs(&model, words, (uint32_t)rows);
      answer_words(command, status, words, (uint32_t)rows * model.config.outputs);
    } else if (strcmp(command, "toq") == 0) {
      int32_t frac_bits = 0;
      ints(&rest, &frac_bits, 1);
      n = floats(&rest, doubles, MAX_WORDS);
      printf("toq");
      for (value = 0; value < n; value++) {
        int32_t q = 0;
        status = qfirm_to_q(doubles[value], frac_bits, &q);
        if (status == QFIRM_OK) printf(" %ld", (long)q);
        else printf(" e%d", (int)status);
      }
      printf("\n");
    } else {
      printf("%s error unknown command\n", command);
    }
  }
  qfirm_close(&model);
  free(wasm);
  return 0;
}
