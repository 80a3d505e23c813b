// Cross-entropy loss on softmax outputs, L = −Σ y_j log ŷ_j, and its gradient with
// respect to the logits, fused through softmax: ∂L/∂z_j = ŷ_j·Σy − y_j (ŷ − y for
// targets that sum to 1).

import { exp_neg_q30, ln_q30 } from "./exp";
import { ld, q_rescale_sat, sat_i32, st } from "./q";
import { max_q } from "./softmax";

/**
 * L in q.F from the logits z (q.F), by log-sum-exp so it stays finite when ŷ_j
 * underflows: log ŷ_j = (z_j − max) − ln Σ_k e^(z_k − max).
 * Each y_j·(ln Σ − (z_j − max)) is at most 2^62 (the second factor saturates to i32)
 * and the sum is pre-shifted by accShift = ceil(log2(n + 1)): no overflow.
 */
export function loss_cross_entropy(z: usize, y: usize, n: i32, fracBits: i32, accShift: i32, expTable: usize): i32 {
  const max = <i64>max_q(z, n);
  let sum: i64 = 0;
  for (let j = 0; j < n; j++) sum += exp_neg_q30(<i64>ld(z, j) - max, fracBits, expTable);
  // One copy of the rest (ln_q30 and the sum over the targets) serves both entries.
  return loss_cross_entropy_of_sum(z, y, n, fracBits, accShift, sum);
}

/**
 * loss_cross_entropy given sum = Σ_k e^(z[k] − max) as softmax_forward returned it for
 * these logits: the same value, without computing the exponentials again.
 */
export function loss_cross_entropy_of_sum(z: usize, y: usize, n: i32, fracBits: i32, accShift: i32, sum: i64): i32 {
  const max = <i64>max_q(z, n);
  // sum ≥ 1 (the max's term is e^0) unless the exp table was overwritten; ln needs ≥ 1.
  if (sum < (<i64>1 << 30)) sum = <i64>1 << 30;
  const lnSum = q_rescale_sat(ln_q30(sum), 30, fracBits);
  let acc: i64 = 0;
  const bytes = <usize>n << 2; // n ≥ 1: the loop tests at its end
  let at: usize = 0;
  do {
    const minusLogP = <i64>sat_i32(<i64>lnSum - (<i64>load<i32>(z + at) - max));
    acc += (<i64>load<i32>(y + at) * minusLogP) >> accShift;
    at += 4;
  } while (at < bytes);
  return q_rescale_sat(acc, 2 * fracBits - accShift, fracBits);
}

/** dZ[j] = ŷ[j]·Σy − y[j] in q.G, from ŷ, y in q.F. */
export function loss_cross_entropy_backward(yHat: usize, y: usize, dZ: usize, n: i32, fracBits: i32, gradFracBits: i32): void {
  let sumY: i64 = 0;
  const bytes = <usize>n << 2; // n ≥ 1: the loops test at their end
  let at: usize = 0;
  do {
    sumY += <i64>load<i32>(y + at);
    at += 4;
  } while (at < bytes);
  const sumYq = <i64>sat_i32(sumY);
  at = 0;
  do {
    // q.2F: ŷ·Σy − y·2^F, each term ≤ 2^62.
    const g = <i64>load<i32>(yHat + at) * sumYq - (<i64>load<i32>(y + at) << fracBits);
    store<i32>(dZ + at, q_rescale_sat(g, 2 * fracBits, gradFracBits));
    at += 4;
  } while (at < bytes);
}
