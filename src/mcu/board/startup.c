/* Reset for the emulated Cortex-M boards: vector table, .data copied from flash,
 * .bss zeroed, the stack painted (so its peak can be measured), semihosting set
 * up, then main; its return value leaves QEMU through semihosting's exit. Also a
 * program break (sbrk) that records its peak: malloc's footprint. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "board.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint8_t __heap_start, __heap_limit;
extern uint32_t __stack_limit, __stack_top;

extern int main(void);
extern void initialise_monitor_handles(void);

void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);

static volatile uint32_t systick_wraps;

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
  (void (*)(void))&__stack_top, Reset_Handler, Default_Handler, Default_Handler, Default_Handler,
  Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler,
  SysTick_Handler,
};

void Default_Handler(void) {
  exit(99); /* a fault: reported as a failed run */
}

void SysTick_Handler(void) {
  systick_wraps++;
}

/* Paints from the stack limit up to just below the current frame. */
__attribute__((noinline)) static void paint_stack(void) {
  uint32_t *p = &__stack_limit;
  uint32_t *sp = (uint32_t *)__builtin_frame_address(0) - 16;
  while (p < sp) *p++ = BOARD_STACK_PAINT;
}

void Reset_Handler(void) {
  uint32_t *src = &__data_load, *dst = &__data_start;
  while (dst < &__data_end) *dst++ = *src++;
  for (dst = &__bss_start; dst < &__bss_end; dst++) *dst = 0;
  paint_stack();
  initialise_monitor_handles();
  exit(main());
}

/* ---- SysTick on the processor clock: under QEMU's -icount shift=0 the virtual
 * clock advances 1 ns per instruction, so ticks count instructions at a fixed ratio
 * that board_calibrate measures. ---- */

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_RELOAD 0xFFFFFFu

void board_ticks_start(void) {
  SYST_RVR = SYST_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, interrupt on wrap, processor clock */
  while (SYST_CVR == 0u) {
  } /* until the first reload: a 0 would read as a full period */
}

uint64_t board_ticks(void) {
  uint32_t before, value, after;
  do {
    before = systick_wraps;
    value = SYST_CVR;
    after = systick_wraps;
  } while (before != after);
  return (uint64_t)before * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

/* Exactly 2 * n instructions (subs, bne), plus a few around the loop. */
__attribute__((noinline)) void board_spin(uint32_t n) {
  __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
}

/* ---- memory peaks ---- */

static uint8_t *heap_break = &__heap_start;
static uint8_t *heap_peak = &__heap_start;

/* Linked with -Wl,--wrap=_sbrk: malloc's break, with its peak recorded. */
void *__wrap__sbrk(ptrdiff_t increment) {
  uint8_t *previous = heap_break;
  if (increment > 0 && (size_t)increment > (size_t)(&__heap_limit - heap_break)) {
    errno = ENOMEM;
    return (void *)-1;
  }
  heap_break += increment;
  if (heap_break > heap_peak) heap_peak = heap_break;
  return previous;
}

uint32_t board_heap_break(void) {
  return (uint32_t)(heap_break - &__heap_start);
}

uint32_t board_heap_peak(void) {
  return (uint32_t)(heap_peak - &__heap_start);
}

uint32_t board_stack_peak(void) {
  const uint32_t *p = &__stack_limit;
  while (p < &__stack_top && *p == BOARD_STACK_PAINT) p++;
  return (uint32_t)((const uint8_t *)&__stack_top - (const uint8_t *)p);
}

uint32_t board_stack_size(void) {
  return (uint32_t)((const uint8_t *)&__stack_top - (const uint8_t *)&__stack_limit);
}
