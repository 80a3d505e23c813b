// L2 loss, L = ½ Σ (y − ŷ)², and its gradient ∂L/∂ŷ = ŷ − y.

import { q_rescale_sat, q_rescale_sat_nonneg, sat_i32 } from "./q";

/**
 * L in q.F for ŷ, y in q.F. Each difference saturates to i32, so its square is at
 * most 2^62; squares are pre-shifted by accShift = ceil(log2(n + 1)) so the sum
 * cannot overflow. The ½ is one more fraction bit. Rounded half away from zero, saturated.
 */
export function loss_l2(yHat: usize, y: usize, n: i32, fracBits: i32, accShift: i32): i32 {
  return l2_pass(yHat, y, 0, n, fracBits, 0, accShift, false);
}

/** dA[j] = ŷ[j] − y[j], from q.F to q.G; exact where it fits, saturated where it does not. */
export function loss_l2_backward(yHat: usize, y: usize, dA: usize, n: i32, fracBits: i32, gradFracBits: i32): void {
  const bytes = <usize>n << 2; // n ≥ 1: the loop tests at its end
  let at: usize = 0;
  do {
    store<i32>(dA + at, q_rescale_sat(<i64>load<i32>(yHat + at) - <i64>load<i32>(y + at), fracBits, gradFracBits));
    at += 4;
  } while (at < bytes);
}

/**
 * loss_l2 and loss_l2_backward in one pass, for the fused per-sample steps (one call
 * fewer): returns loss_l2(yHat, y, n, fracBits, accShift), writes loss_l2_backward's dA.
 */
export function loss_l2_with_backward(
  yHat: usize, y: usize, dA: usize, n: i32, fracBits: i32, gradFracBits: i32, accShift: i32,
): i32 {
  return l2_pass(yHat, y, dA, n, fracBits, gradFracBits, accShift, true);
}

/** loss_l2's pass; withBackward: loss_l2_backward's dA too, from the same differences. */
// @ts-ignore: decorator
@inline function l2_pass(
  yHat: usize, y: usize, dA: usize, n: i32, fracBits: i32, gradFracBits: i32, accShift: i32, withBackward: bool,
): i32 {
  let acc: i64 = 0;
  const bytes = <usize>n << 2; // n ≥ 1: the loop tests at its end
  let at: usize = 0;
  do {
    const diff = <i64>load<i32>(yHat + at) - <i64>load<i32>(y + at);
    if (withBackward) store<i32>(dA + at, q_rescale_sat(diff, fracBits, gradFracBits));
    const d = <i64>sat_i32(diff);
    acc += (d * d) >> accShift;
    at += 4;
  } while (at < bytes);
  return q_rescale_sat_nonneg(acc, 2 * fracBits - accShift + 1, fracBits); // a sum of squares: acc ≥ 0
}
