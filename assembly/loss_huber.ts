// Huber loss with threshold δ: ½d² where |d| ≤ δ, else δ(|d| − ½δ), d = ŷ − y; its
// gradient d where |d| ≤ δ, else δ·sign(d). Differentiable at |d| = δ (both branches
// give ±δ there).

import { ld, q_rescale_sat, q_rescale_sat_nonneg, sat_i32, st } from "./q";

/**
 * L in q.F; δ in q.F (δ > 0). d saturates to i32, so d² and δ·|d| are at most 2^62,
 * and the 2·terms are pre-shifted by accShift = ceil(log2(n + 1)) + 1: no overflow.
 */
export function loss_huber(yHat: usize, y: usize, n: i32, fracBits: i32, delta: i32, accShift: i32): i32 {
  const deltaQ = <i64>delta;
  let acc: i64 = 0; // twice the loss, q.2F
  for (let j = 0; j < n; j++) {
    const d = <i64>sat_i32(<i64>ld(yHat, j) - <i64>ld(y, j));
    const ad = d < 0 ? -d : d;
    const twice = ad <= deltaQ ? ad * ad : deltaQ * (2 * ad - deltaQ);
    acc += twice >> accShift;
  }
  return q_rescale_sat_nonneg(acc, 2 * fracBits - accShift + 1, fracBits); // each term ≥ 0 (|d| > δ > 0 in the linear part)
}

/** dA[j] = clamp(ŷ[j] − y[j], −δ, δ), from q.F to q.G. */
export function loss_huber_backward(yHat: usize, y: usize, dA: usize, n: i32, fracBits: i32, gradFracBits: i32, delta: i32): void {
  const deltaQ = <i64>delta;
  for (let j = 0; j < n; j++) {
    let d = <i64>ld(yHat, j) - <i64>ld(y, j);
    if (d > deltaQ) d = deltaQ;
    else if (d < -deltaQ) d = -deltaQ;
    st(dA, j, q_rescale_sat(d, fracBits, gradFracBits));
  }
}
