// L2 loss, L = ½ Σ (y − ŷ)², and its gradient ∂L/∂ŷ = ŷ − y.

import { ld, q_rescale_sat, sat_i32, st } from "./q";

/**
 * L in q.F for ŷ, y in q.F. Each difference saturates to i32, so its square is at
 * most 2^62; squares are pre-shifted by accShift = ceil(log2(n + 1)) so the sum
 * cannot overflow. The ½ is one more fraction bit. Rounded half away from zero, saturated.
 */
export function loss_l2(yHat: usize, y: usize, n: i32, fracBits: i32, accShift: i32): i32 {
  let acc: i64 = 0;
  for (let j = 0; j < n; j++) {
    const d = <i64>sat_i32(<i64>ld(yHat, j) - <i64>ld(y, j));
    acc += (d * d) >> accShift;
  }
  return q_rescale_sat(acc, 2 * fracBits - accShift + 1, fracBits);
}

/** dA[j] = ŷ[j] − y[j], from q.F to q.G; exact where it fits, saturated where it does not. */
export function loss_l2_backward(yHat: usize, y: usize, dA: usize, n: i32, fracBits: i32, gradFracBits: i32): void {
  for (let j = 0; j < n; j++) {
    st(dA, j, q_rescale_sat(<i64>ld(yHat, j) - <i64>ld(y, j), fracBits, gradFracBits));
  }
}
