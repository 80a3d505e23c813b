// Cosine loss, L = 1 − cos θ with cos θ = y·ŷ / (‖y‖‖ŷ‖), and its gradient
// ∂L/∂ŷ_j = −(u_j − cos θ·v_j) / ‖ŷ‖ with u = y/‖y‖, v = ŷ/‖ŷ‖.
// A zero vector (‖y‖ = 0 or ‖ŷ‖ = 0) has no direction: cos θ is taken as 0, so L = 1
// and the gradient is 0.
//
// Norms come from an integer square root of the sums of squares; the unit vectors
// are q.30, so cos θ never leaves [−1, 1] by more than rounding, whatever the scale.

import { div_round_i64, ld, q_rescale_sat, shift_round_i64, st } from "./q";
import { isqrt_u64 } from "./sqrt";

const ONE_Q30: i64 = 1 << 30;

/**
 * ‖x‖ in q.F as an i64 (up to 2^31·√n). Squares (≤ 2^62) are pre-shifted by an even
 * accShift2 ≥ ceil(log2(n + 1)), so the sum fits and its root shifts back exactly.
 */
function norm_q(x: usize, n: i32, accShift2: i32): i64 {
  let sum: u64 = 0;
  for (let j = 0; j < n; j++) {
    const v = <i64>ld(x, j);
    sum += <u64>(v * v) >> accShift2;
  }
  return <i64>isqrt_u64(sum) << (accShift2 >> 1);
}

/** cos θ in q.30, or 0 for a zero vector; stores ‖y‖ and ‖ŷ‖ (q.F, i64) at scratch and scratch + 8. */
function cosine_q30(yHat: usize, y: usize, n: i32, accShift2: i32, scratch: usize): i64 {
  const normY = norm_q(y, n, accShift2);
  const normYHat = norm_q(yHat, n, accShift2);
  store<i64>(scratch, normY);
  store<i64>(scratch, normYHat, 8);
  if (normY == 0 || normYHat == 0) return 0;
  let acc: i64 = 0;
  for (let j = 0; j < n; j++) {
    // u_j, v_j ∈ [−1, 1] in q.30; u·v ≤ 2^60, pre-shifted: the sum fits.
    const u = div_round_i64(<i64>ld(y, j) << 30, normY);
    const v = div_round_i64(<i64>ld(yHat, j) << 30, normYHat);
    acc += (u * v) >> accShift2;
  }
  return shift_round_i64(acc, accShift2 - 30);
}

/** L = 1 − cos θ in q.F. scratch: 16 bytes. */
export function loss_cosine(yHat: usize, y: usize, n: i32, fracBits: i32, accShift2: i32, scratch: usize): i32 {
  return q_rescale_sat(ONE_Q30 - cosine_q30(yHat, y, n, accShift2, scratch), 30, fracBits);
}

/** dA[j] = −(u_j − cos θ·v_j) / ‖ŷ‖ in q.G; 0 for a zero vector. scratch: 16 bytes. */
export function loss_cosine_backward(
  yHat: usize, y: usize, dA: usize, n: i32, fracBits: i32, gradFracBits: i32, accShift2: i32, scratch: usize,
): void {
  const cos = cosine_q30(yHat, y, n, accShift2, scratch);
  const normY = load<i64>(scratch);
  const normYHat = load<i64>(scratch, 8);
  for (let j = 0; j < n; j++) {
    if (normY == 0 || normYHat == 0) {
      st(dA, j, 0);
      continue;
    }
    const u = div_round_i64(<i64>ld(y, j) << 30, normY);
    const v = div_round_i64(<i64>ld(yHat, j) << 30, normYHat);
    const num = u - ((cos * v) >> 30); // q.30, |num| ≤ 2^31
    // num / ‖ŷ‖: q.30 / q.F → q.(30 − F); shift to q.G before dividing.
    const g = div_round_i64(-shift_round_i64(num, gradFracBits + fracBits - 30), normYHat);
    st(dA, j, q_rescale_sat(g, gradFracBits, gradFracBits));
  }
}
