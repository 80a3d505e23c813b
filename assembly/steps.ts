// The optimizer step counter: one i32 in memory, the number of optimizer steps taken.

import { ld, st } from "./q";

/**
 * Counts one more optimizer step at `counter` and returns it: t ≥ 1 is the step about
 * to run. A negative count (a host's write) counts as 0; the count saturates at
 * 2^31 − 1, where t stays.
 */
export function advance_step(counter: usize): i32 {
  const taken = ld(counter, 0);
  const t = taken < 0 ? 1 : taken == i32.MAX_VALUE ? taken : taken + 1;
  st(counter, 0, t);
  return t;
}
