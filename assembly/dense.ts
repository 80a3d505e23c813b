// Dense layer, forward and backward.
//
// Weights are row-major, w[i·units + j] from input i to unit j (ABI v1), so every
// loop runs over i outside and j inside: rows of w are read in order. Inputs that
// are exactly 0 skip their row (their products are 0; sparse inputs such as images
// are mostly zeros).
// Sums of products use i64 accumulators. Each product of two i32 is at most 2^62
// in magnitude; it is shifted right by accShift = ceil(log2(terms + 1)) before it is
// added (floor, an error of at most `terms` units of 2^−(fa+fb−accShift), far below
// one LSB of the result), so `terms` of them plus the bias stay below 2^62 + 2^61:
// the sum cannot overflow, whatever the buffers hold. The generator computes accShift.

import { ld, q_add_sat, q_mul_round_sat, q_rescale_sat, q_sub_sat, q_zero, st } from "./q";

/**
 * z[j] = b[j] + Σ_i x[i]·w[i·units + j]; x, w, b, z in q.F. acc: `units` i64 of scratch.
 * The result rounds half away from zero and saturates.
 */
export function dense_forward(
  x: usize, w: usize, b: usize, z: usize, acc: usize, fanIn: i32, units: i32, fracBits: i32, accShift: i32,
): void {
  const accFrac = 2 * fracBits - accShift;
  for (let j = 0; j < units; j++) {
    const bias = <i64>ld(b, j);
    store<i64>(acc + (<usize>j << 3), accFrac >= fracBits ? bias << (accFrac - fracBits) : bias >> (fracBits - accFrac));
  }
  for (let i = 0; i < fanIn; i++) {
    const xi = <i64>ld(x, i);
    if (xi == 0) continue;
    const row = w + ((<usize>i * <usize>units) << 2);
    for (let j = 0; j < units; j++) {
      const at = acc + (<usize>j << 3);
      store<i64>(at, load<i64>(at) + ((xi * <i64>ld(row, j)) >> accShift));
    }
  }
  for (let j = 0; j < units; j++) st(z, j, q_rescale_sat(load<i64>(acc + (<usize>j << 3)), accFrac, fracBits));
}

/**
 * dX[i] = Σ_j w[i·units + j]·dZ[j] (w in q.F, dZ and dX in q.G): the gradient the
 * layer below receives. accShift = ceil(log2(units + 1)).
 */
export function dense_backward_input(
  w: usize, dZ: usize, dX: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, accShift: i32,
): void {
  const accFrac = fracBits + gradFracBits - accShift;
  for (let i = 0; i < fanIn; i++) {
    const row = w + ((<usize>i * <usize>units) << 2);
    let sum: i64 = 0;
    for (let j = 0; j < units; j++) sum += (<i64>ld(row, j) * <i64>ld(dZ, j)) >> accShift;
    st(dX, i, q_rescale_sat(sum, accFrac, gradFracBits));
  }
}

/**
 * Adds this sample's gradients (x in q.F, dZ and the grads in q.G; saturating adds):
 *   gw[i·units + j] += x[i]·dZ[j]
 *   gb[j]           += dZ[j]
 */
export function dense_backward(
  x: usize, dZ: usize, gw: usize, gb: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32,
): void {
  for (let j = 0; j < units; j++) st(gb, j, q_add_sat(ld(gb, j), ld(dZ, j)));
  for (let i = 0; i < fanIn; i++) {
    const xi = ld(x, i);
    if (xi == 0) continue;
    const row = gw + ((<usize>i * <usize>units) << 2);
    for (let j = 0; j < units; j++) {
      st(row, j, q_add_sat(ld(row, j), q_mul_round_sat(xi, fracBits, ld(dZ, j), gradFracBits, gradFracBits)));
    }
  }
}

/**
 * dense_backward and then the SGD step on this layer, in one pass, for per-sample
 * training: g = x[i]·dZ[j] and p −= lr·g at once, bit-identical to zero_grad,
 * dense_backward, sgd_step (a fresh g saturates to itself; rows with x[i] = 0 have
 * g = 0 and keep p). With keepGrads the grads end as those would (0 for skipped
 * rows); without, they are left alone: train_samples keeps only its last row's.
 * The layer below must already have its dX. lr in q.F, params in q.F, grads in q.G.
 */
export function dense_backward_step(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize,
  fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  for (let j = 0; j < units; j++) {
    const g = ld(dZ, j);
    if (keepGrads) st(gb, j, g);
    st(b, j, q_sub_sat(ld(b, j), q_mul_round_sat(lr, fracBits, g, gradFracBits, fracBits)));
  }
  for (let i = 0; i < fanIn; i++) {
    const xi = ld(x, i);
    const offset = (<usize>i * <usize>units) << 2;
    const gRow = gw + offset;
    if (xi == 0) {
      if (keepGrads) q_zero(gRow, units);
      continue;
    }
    const wRow = w + offset;
    for (let j = 0; j < units; j++) {
      const g = q_mul_round_sat(xi, fracBits, ld(dZ, j), gradFracBits, gradFracBits);
      if (keepGrads) st(gRow, j, g);
      st(wRow, j, q_sub_sat(ld(wRow, j), q_mul_round_sat(lr, fracBits, g, gradFracBits, fracBits)));
    }
  }
}
