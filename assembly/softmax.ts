// Softmax activation (last layer only, with the cross-entropy loss, whose fused
// gradient ∂L/∂z = ŷ − y is in loss_cross_entropy.ts: softmax has no backward of its own).

import { exp_neg_q30 } from "./exp";
import { ld, st } from "./q";

/** The largest z[j]. */
// @ts-ignore: decorator
@inline export function max_q(z: usize, n: i32): i32 {
  let largest = ld(z, 0);
  for (let j = 1; j < n; j++) largest = max(largest, ld(z, j));
  return largest;
}

/**
 * a[j] = e^(z[j] − max) / Σ_k e^(z[k] − max), in q.F (rounded half away from zero).
 * Subtracting the max keeps every exponent ≤ 0, so e^… ∈ (0, 1] and the sum is in
 * [1, n]: nothing overflows and the division never sees 0. The outputs sum to 1
 * within n/2 LSBs (each is rounded once).
 * Returns the sum Σ_k e^(z[k] − max) (q.30), which the cross-entropy loss reuses
 * (loss_cross_entropy_of_sum).
 */
export function softmax_forward(z: usize, a: usize, n: i32, fracBits: i32, expTable: usize): i64 {
  const max = <i64>max_q(z, n);
  let sum: i64 = 0;
  const bytes = <usize>n << 2; // n ≥ 1: the loops test at their end
  let at: usize = 0;
  do {
    const e = exp_neg_q30(<i64>load<i32>(z + at) - max, fracBits, expTable);
    store<i32>(a + at, <i32>e); // e ≤ 2^30: fits
    sum += e;
    at += 4;
  } while (at < bytes);
  // sum ≥ 1 (the max's term is e^0) unless the exp table was overwritten; never divide by 0.
  const divisor = sum == 0 ? 1 : sum;
  // e ≥ 0 and the sum > 0 (the generator's table), so rounding half away from zero is
  // (e·2^F + sum/2) / sum; |e·2^F| ≤ 2^61 whatever the table: the division never traps.
  const half = divisor >> 1;
  at = 0;
  do {
    store<i32>(a + at, <i32>(((<i64>load<i32>(a + at) << fracBits) + half) / divisor));
    at += 4;
  } while (at < bytes);
  return sum;
}
