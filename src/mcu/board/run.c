/* The program qfirm emulate runs on a board: opens the module with the host
 * library, calls train_step RUN_STEPS times on the sample the module starts with
 * (forward, in an inference-only module: RUN_FORWARD_ONLY, which also prints the
 * output), and prints one line per fact for qfirm to read. run.h (generated) names the module. */
#include <stdio.h>

#include "board.h"
#include "qfirm.h"
#include "run.h"
#if defined(RUN_WAMR)
#include "wasm_export.h"
#endif

/* 2 instructions per iteration: enough ticks to measure their ratio to 1 part in 10^4. */
#define CALIBRATION_LOOPS 200000u

static qfirm_model model;

static int failed(qfirm_status status) {
  printf("error %d %s\n", (int)status, qfirm_message(&model));
  return 1;
}

int main(void) {
  static const qfirm_config config = { RUN_INPUTS, RUN_OUTPUTS, RUN_PARAM_COUNT, RUN_FRAC_BITS, RUN_STACK_BYTES, RUN_TRAINABLE_PARAM_COUNT };
#if defined(RUN_FORWARD_ONLY)
  static int32_t output[RUN_OUTPUTS];
#endif
  uint64_t start, end;
  uint32_t heap_before;
  int32_t loss = 0;
  unsigned k;
  qfirm_status status;

  board_ticks_start();
  start = board_ticks();
  board_spin(CALIBRATION_LOOPS);
  end = board_ticks();
  printf("calibration %lu %lu\n", (unsigned long)(2u * CALIBRATION_LOOPS), (unsigned long)(end - start));

  heap_before = board_heap_break();
#if defined(RUN_WAMR)
  if (!wasm_runtime_init()) {
    printf("error 4 WAMR: wasm_runtime_init failed\n");
    return 1;
  }
#endif
  status = qfirm_open(&model, RUN_WASM, RUN_WASM_LEN, &config);
  if (status != QFIRM_OK) return failed(status);
  printf("open %lu %lu\n", (unsigned long)model.memory_bytes, (unsigned long)(board_heap_break() - heap_before));

  for (k = 0; k < RUN_STEPS; k++) {
    start = board_ticks();
#if defined(RUN_FORWARD_ONLY)
    status = qfirm_forward(&model);
#else
    status = qfirm_train_step(&model, &loss);
#endif
    end = board_ticks();
    if (status != QFIRM_OK) return failed(status);
    printf("step %u %ld %lu\n", k, (long)loss, (unsigned long)(end - start));
  }
#if defined(RUN_FORWARD_ONLY)
  /* What forward computed: the only result an inference-only module has. */
  status = qfirm_get_output(&model, output, RUN_OUTPUTS);
  if (status != QFIRM_OK) return failed(status);
  printf("output");
  for (k = 0; k < RUN_OUTPUTS; k++) printf(" %ld", (long)output[k]);
  printf("\n");
#endif
  printf("memory %lu %lu %lu\n", (unsigned long)(board_heap_peak() - heap_before), (unsigned long)board_stack_peak(),
         (unsigned long)board_stack_size());
  qfirm_close(&model);
  printf("done\n");
  return 0;
}
