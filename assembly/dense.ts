// Dense layer, forward and backward.
//
// Weights are row-major, w[i·units + j] from input i to unit j (ABI v1).
// Sums of products use an i64 accumulator. Each product of two i32 is at most 2^62
// in magnitude; it is shifted right by accShift = ceil(log2(terms + 1)) before it is
// added (floor, an error of at most `terms` units of 2^−(fa+fb−accShift), far below
// one LSB of the result), so `terms` of them plus the bias stay below 2^62 + 2^61:
// the sum cannot overflow, whatever the buffers hold. The generator computes accShift.

import { ld, q_add_sat, q_mul_round_sat, q_rescale_sat, st } from "./q";

/**
 * z[j] = b[j] + Σ_i x[i]·w[i·units + j]; x, w, b, z in q.F.
 * The result rounds half away from zero and saturates.
 */
export function dense_forward(
  x: usize, w: usize, b: usize, z: usize, fanIn: i32, units: i32, fracBits: i32, accShift: i32,
): void {
  const accFrac = 2 * fracBits - accShift;
  for (let j = 0; j < units; j++) {
    const bias = <i64>ld(b, j);
    let acc: i64 = accFrac >= fracBits ? bias << (accFrac - fracBits) : bias >> (fracBits - accFrac);
    for (let i = 0; i < fanIn; i++) {
      acc += (<i64>ld(x, i) * <i64>ld(w, i * units + j)) >> accShift;
    }
    st(z, j, q_rescale_sat(acc, accFrac, fracBits));
  }
}

/**
 * Adds this sample's gradients and, when dX ≠ 0, propagates dZ to the inputs:
 *   gw[i·units + j] += x[i]·dZ[j]    (x in q.F, dZ and gw in q.G; saturating add)
 *   gb[j]           += dZ[j]
 *   dX[i]            = Σ_j w[i·units + j]·dZ[j]   (w in q.F, dX in q.G)
 * accShift = ceil(log2(units + 1)) for the dX sums.
 */
export function dense_backward(
  x: usize, w: usize, dZ: usize, gw: usize, gb: usize, dX: usize,
  fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, accShift: i32,
): void {
  for (let j = 0; j < units; j++) st(gb, j, q_add_sat(ld(gb, j), ld(dZ, j)));
  for (let i = 0; i < fanIn; i++) {
    const xi = ld(x, i);
    const row = i * units;
    for (let j = 0; j < units; j++) {
      const g = q_mul_round_sat(xi, fracBits, ld(dZ, j), gradFracBits, gradFracBits);
      st(gw, row + j, q_add_sat(ld(gw, row + j), g));
    }
  }
  if (dX == 0) return;
  const accFrac = fracBits + gradFracBits - accShift;
  for (let i = 0; i < fanIn; i++) {
    const row = i * units;
    let acc: i64 = 0;
    for (let j = 0; j < units; j++) acc += (<i64>ld(w, row + j) * <i64>ld(dZ, j)) >> accShift;
    st(dX, i, q_rescale_sat(acc, accFrac, gradFracBits));
  }
}
