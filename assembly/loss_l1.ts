// L1 loss, L = Σ |ŷ − y|, and its gradient sign(ŷ − y) (0 at equality: the kink
// convention, a flat side gives 0).

import { ld, q_rescale_sat, q_rescale_sat_nonneg, st } from "./q";

/** L in q.F; each |ŷ − y| < 2^32, so n < 2^31 of them fit an i64; saturated to i32. */
export function loss_l1(yHat: usize, y: usize, n: i32, fracBits: i32): i32 {
  let acc: i64 = 0;
  for (let j = 0; j < n; j++) {
    const d = <i64>ld(yHat, j) - <i64>ld(y, j);
    acc += d < 0 ? -d : d;
  }
  return q_rescale_sat_nonneg(acc, fracBits, fracBits); // a sum of magnitudes: acc ≥ 0
}

/** dA[j] = sign(ŷ[j] − y[j]) in q.G (1.0 = 2^G, G ≤ 30: fits). */
export function loss_l1_backward(yHat: usize, y: usize, dA: usize, n: i32, gradFracBits: i32): void {
  const one = 1 << gradFracBits;
  for (let j = 0; j < n; j++) {
    const yh = ld(yHat, j);
    const yj = ld(y, j);
    st(dA, j, yh > yj ? one : yh < yj ? -one : 0);
  }
}
