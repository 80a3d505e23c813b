/* What the emulated boards' startup code offers the program it runs. */
#ifndef QFIRM_BOARD_H
#define QFIRM_BOARD_H

#include <stdint.h>

#define BOARD_STACK_PAINT 0xC5AC5AC5u

void board_ticks_start(void);
/* SysTick ticks since board_ticks_start, wraps included. */
uint64_t board_ticks(void);
/* Spins 2 * n instructions: a known count to convert ticks to instructions. */
void board_spin(uint32_t n);
/* Bytes malloc holds now and at most so far (from the program break). */
uint32_t board_heap_break(void);
uint32_t board_heap_peak(void);
/* Bytes of the stack ever used (the painted words overwritten), and its size. */
uint32_t board_stack_peak(void);
uint32_t board_stack_size(void);

#endif
