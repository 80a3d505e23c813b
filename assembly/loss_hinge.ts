// Hinge (SVM) loss for targets ±1, L = Σ max(0, 1 − y_j ŷ_j); gradient −y_j where
// y_j ŷ_j < 1, else 0 (0 exactly at the margin: the kink convention, a flat side gives 0).

import { ld, q_rescale_sat, q_rescale_sat_nonneg, st } from "./q";

/** L in q.F. y·ŷ ≤ 2^62, so 1 − y·ŷ ≤ 2^62 + 2^2F; pre-shifted by accShift = ceil(log2(n + 1)) + 1. */
export function loss_hinge(yHat: usize, y: usize, n: i32, fracBits: i32, accShift: i32): i32 {
  const one = <i64>1 << (2 * fracBits);
  let acc: i64 = 0;
  for (let j = 0; j < n; j++) {
    const margin = one - <i64>ld(y, j) * <i64>ld(yHat, j);
    if (margin > 0) acc += margin >> accShift;
  }
  return q_rescale_sat_nonneg(acc, 2 * fracBits - accShift, fracBits); // only positive margins are added
}

/** dA[j] = −y[j] where y[j]·ŷ[j] < 1, else 0; y in q.F, dA in q.G. */
export function loss_hinge_backward(yHat: usize, y: usize, dA: usize, n: i32, fracBits: i32, gradFracBits: i32): void {
  const one = <i64>1 << (2 * fracBits);
  for (let j = 0; j < n; j++) {
    const yj = <i64>ld(y, j);
    st(dA, j, yj * <i64>ld(yHat, j) < one ? q_rescale_sat(-yj, fracBits, gradFracBits) : 0);
  }
}
