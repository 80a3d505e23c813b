// Dense layer, forward and backward: the scalar kernels (every target; the web target
// has SIMD twins in dense_simd.ts that give the same results bit for bit).
//
// Weights are row-major, w[i·units + j] from input i to unit j (ABI v1), so every
// loop runs over i outside and j inside: rows of w are read in order. Inputs that
// are exactly 0 skip their row (their products are 0; sparse inputs such as images
// are mostly zeros).
//
// Sums of products: each product of two i32 is at most 2^62 in magnitude; it is
// floored by accShift = ceil(log2(terms + 1)) bits before it is added (an error of at
// most `terms` units of 2^−(fa+fb−accShift), far below one LSB of the result), so
// `terms` of them plus the bias stay below 2^62 + 2^61: the sum cannot overflow,
// whatever the buffers hold. The generator computes accShift. The sums live in
// locals, eight output units per pass over the inputs (then four, then one).
//
// Gradients and updates, per weight (x in q.F, dZ in q.G, lr in q.F):
//   g = sat(round(x·dZ / 2^F))        in q.G
//   u = sat(round(lr·g / 2^G))        in q.F
//   w = sat(w − u)
// rounding half away from zero. The kernels compute exactly that, with the clamps
// moved out of the inner loop:
// - The two saturations on g and u are checked once per row: row_is_fast bounds
//   |x| from max_j |dZ[j]| and lr. Rows past it (rare: |x|·|dZ| near 2^(31+F), or a
//   huge learning rate) take the plain per-weight path.
// - The fused step rounds magnitudes and applies signs after (step_row_fast).
// - w − u and gw + g are computed wrapping in i32; where the overflow flag
//   ((a ^ b) & (a ^ r)) < 0 is set, the wrapped result's sign tells which bound the
//   exact one crossed (wrapped_bound), so the saturated value is selected without i64.

import { ld, q_add_sat, q_mul_round_sat, q_rescale_sat, q_zero, round_shift_i64, st } from "./q";
import { sgd_step } from "./sgd";

/** b[j] (q.F) as a sum of accFrac fraction bits: exact when accFrac ≥ F, else floored. */
// @ts-ignore: decorator
@inline export function bias_in_acc(b: usize, j: i32, fracBits: i32, accFrac: i32): i64 {
  const bias = <i64>ld(b, j);
  return accFrac >= fracBits ? bias << (accFrac - fracBits) : bias >> (fracBits - accFrac);
}

/** z[j] = the sum, from accFrac to F fraction bits, rounded half away from zero and saturated. */
export function store_sum(z: usize, j: i32, sum: i64, fracBits: i32, accFrac: i32): void {
  st(z, j, q_rescale_sat(sum, accFrac, fracBits));
}

/**
 * z[j] = b[j] + Σ_i x[i]·w[i·units + j] for units j in [from, units); x, w, b, z in q.F.
 * The result rounds half away from zero and saturates.
 */
// @ts-ignore: decorator
@inline export function dense_forward_columns(
  x: usize, w: usize, b: usize, z: usize, fanIn: i32, units: i32, from: i32, fracBits: i32, accShift: i32,
): void {
  const accFrac = 2 * fracBits - accShift;
  const stride = <usize>units << 2;
  // Eight units a pass, then four, then one at a time: each pass reads x once.
  const wide8 = from + ((units - from) & ~7);
  const wide4 = from + ((units - from) & ~3);
  let j = from;
  if (j < wide8) for (; j < wide8; j += 8) {
    let s0 = bias_in_acc(b, j + 0, fracBits, accFrac);
    let s1 = bias_in_acc(b, j + 1, fracBits, accFrac);
    let s2 = bias_in_acc(b, j + 2, fracBits, accFrac);
    let s3 = bias_in_acc(b, j + 3, fracBits, accFrac);
    let s4 = bias_in_acc(b, j + 4, fracBits, accFrac);
    let s5 = bias_in_acc(b, j + 5, fracBits, accFrac);
    let s6 = bias_in_acc(b, j + 6, fracBits, accFrac);
    let s7 = bias_in_acc(b, j + 7, fracBits, accFrac);
    let row = w + (<usize>j << 2);
    for (let i = 0; i < fanIn; i++, row += stride) {
      const xi = <i64>ld(x, i);
      if (xi == 0) continue;
      s0 += (xi * <i64>load<i32>(row, 0)) >> accShift;
      s1 += (xi * <i64>load<i32>(row, 4)) >> accShift;
      s2 += (xi * <i64>load<i32>(row, 8)) >> accShift;
      s3 += (xi * <i64>load<i32>(row, 12)) >> accShift;
      s4 += (xi * <i64>load<i32>(row, 16)) >> accShift;
      s5 += (xi * <i64>load<i32>(row, 20)) >> accShift;
      s6 += (xi * <i64>load<i32>(row, 24)) >> accShift;
      s7 += (xi * <i64>load<i32>(row, 28)) >> accShift;
    }
    store_sum(z, j + 0, s0, fracBits, accFrac);
    store_sum(z, j + 1, s1, fracBits, accFrac);
    store_sum(z, j + 2, s2, fracBits, accFrac);
    store_sum(z, j + 3, s3, fracBits, accFrac);
    store_sum(z, j + 4, s4, fracBits, accFrac);
    store_sum(z, j + 5, s5, fracBits, accFrac);
    store_sum(z, j + 6, s6, fracBits, accFrac);
    store_sum(z, j + 7, s7, fracBits, accFrac);
  }
  if (wide8 < wide4) {
    j = wide8;
    let s0 = bias_in_acc(b, j + 0, fracBits, accFrac);
    let s1 = bias_in_acc(b, j + 1, fracBits, accFrac);
    let s2 = bias_in_acc(b, j + 2, fracBits, accFrac);
    let s3 = bias_in_acc(b, j + 3, fracBits, accFrac);
    let row = w + (<usize>j << 2);
    for (let i = 0; i < fanIn; i++, row += stride) {
      const xi = <i64>ld(x, i);
      if (xi == 0) continue;
      s0 += (xi * <i64>load<i32>(row, 0)) >> accShift;
      s1 += (xi * <i64>load<i32>(row, 4)) >> accShift;
      s2 += (xi * <i64>load<i32>(row, 8)) >> accShift;
      s3 += (xi * <i64>load<i32>(row, 12)) >> accShift;
    }
    store_sum(z, j + 0, s0, fracBits, accFrac);
    store_sum(z, j + 1, s1, fracBits, accFrac);
    store_sum(z, j + 2, s2, fracBits, accFrac);
    store_sum(z, j + 3, s3, fracBits, accFrac);
  }
  if (wide4 < units) for (j = wide4; j < units; j++) dense_forward_unit(x, w, b, z, fanIn, units, j, fracBits, accShift);
}

/** z[j] alone: dense_forward_columns for one unit. */
export function dense_forward_unit(
  x: usize, w: usize, b: usize, z: usize, fanIn: i32, units: i32, j: i32, fracBits: i32, accShift: i32,
): void {
  const accFrac = 2 * fracBits - accShift;
  const stride = <usize>units << 2;
  let s = bias_in_acc(b, j, fracBits, accFrac);
  let at = w + (<usize>j << 2);
  for (let i = 0; i < fanIn; i++, at += stride) {
    const xi = <i64>ld(x, i);
    if (xi != 0) s += (xi * <i64>load<i32>(at)) >> accShift;
  }
  store_sum(z, j, s, fracBits, accFrac);
}

/** z = b + x·w for every unit (dense_forward_columns from unit 0); inlined, so constant shapes fold. */
// @ts-ignore: decorator
@inline export function dense_forward(
  x: usize, w: usize, b: usize, z: usize, fanIn: i32, units: i32, fracBits: i32, accShift: i32,
): void {
  dense_forward_columns(x, w, b, z, fanIn, units, 0, fracBits, accShift);
}

/**
 * dX[i] = Σ_j w[i·units + j]·dZ[j] (w in q.F, dZ and dX in q.G): the gradient the
 * layer below receives. accShift = ceil(log2(units + 1)).
 */
export function dense_backward_input(
  w: usize, dZ: usize, dX: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, accShift: i32,
): void {
  const accFrac = fracBits + gradFracBits - accShift;
  let row = w;
  for (let i = 0; i < fanIn; i++) {
    let sum: i64 = 0;
    for (let j = 0; j < units; j++) sum += (<i64>ld(row, j) * <i64>ld(dZ, j)) >> accShift;
    store_sum(dX, i, sum, gradFracBits, accFrac);
    row += <usize>units << 2;
  }
}

// ---- Guards hoisted to rows -------------------------------------------------------

/** max_j |dZ[j]|, as an i64 (|INT32_MIN| = 2^31 included). */
export function max_abs(dZ: usize, units: i32): i64 {
  let max: i64 = 0;
  for (let j = 0; j < units; j++) {
    const v = <i64>ld(dZ, j);
    const magnitude = v < 0 ? -v : v;
    if (magnitude > max) max = magnitude;
  }
  return max;
}

/**
 * Whether the row of input x needs no clamp: for every unit, g = round(x·dZ[j] / 2^F)
 * and u = round(lr·g / 2^G) are then exact i32, so sat() cannot act. With
 * P = |x|·maxDZ (≤ 2^62: no overflow), hF = 2^(F−1), hG = 2^(G−1):
 *   |g| ≤ gMax = (P + hF) >> F, which is ≤ 2^31 − 1 when P + hF < 2^(31+F);
 *   |u| ≤ (|lr|·gMax + hG) >> G, which is ≤ 2^31 − 1 when |lr|·gMax + hG < 2^(31+G)
 *   (|lr| ≤ 2^31 and gMax < 2^31 there: the product stays below 2^62).
 * Checked on both sides of both bounds by test/property.test.ts. Per row, not per call:
 * a division per call costs a small core more than a multiply per row.
 */
// @ts-ignore: decorator
@inline export function row_is_fast(x: i32, maxDZ: i64, absLr: i64, fracBits: i32, gradFracBits: i32): bool {
  const p = <i64>abs_u32(x) * maxDZ + (<i64>1 << (fracBits - 1));
  if (p >= <i64>1 << (31 + fracBits)) return false;
  return absLr * (p >> fracBits) + (<i64>1 << (gradFracBits - 1)) < <i64>1 << (31 + gradFracBits);
}

/** |x| as a u32 (2^31 for INT32_MIN). */
// @ts-ignore: decorator
@inline export function abs_u32(x: i32): u32 {
  return <u32>(x < 0 ? -x : x);
}


// ---- Backward into the grads (batched training) -----------------------------------

/** The i32 bound a wrapped result crossed: INT32_MAX if it wrapped to negative, else INT32_MIN. */
// @ts-ignore: decorator
@inline export function wrapped_bound(wrapped: i32): i32 {
  return (wrapped >> 31) ^ i32.MIN_VALUE;
}

/**
 * One row of dense_backward within row_is_fast (lr = 0), units [from, units):
 * gw[j] += round(x·dZ[j] / 2^F), g exact, the add saturated from its overflow flag.
 */
// @ts-ignore: decorator
@inline export function grad_row_fast(x: i32, dZ: usize, gRow: usize, from: i32, units: i32, fracBits: i32): void {
  const xi = <i64>x;
  for (let j = from; j < units; j++) {
    const g = <i32>round_shift_i64(xi * <i64>ld(dZ, j), fracBits);
    const old = ld(gRow, j);
    const sum = old + g;
    st(gRow, j, ((old ^ sum) & (g ^ sum)) < 0 ? wrapped_bound(sum) : sum);
  }
}

/** The plain per-weight row: gw[j] = sat(gw[j] + sat(round(x·dZ[j] / 2^F))). */
export function grad_row_exact(x: i32, dZ: usize, gRow: usize, units: i32, fracBits: i32, gradFracBits: i32): void {
  for (let j = 0; j < units; j++) {
    st(gRow, j, q_add_sat(ld(gRow, j), q_mul_round_sat(x, fracBits, ld(dZ, j), gradFracBits, gradFracBits)));
  }
}

/**
 * The bias gradients: gb[j] += dZ[j], saturating. That is grad_row_exact for an input
 * of exactly 1 (2^F in q.F, F ≤ 30): 2^F·dZ[j] / 2^F is dZ[j] with nothing to round.
 */
// @ts-ignore: decorator
@inline export function grad_bias(dZ: usize, gb: usize, units: i32, fracBits: i32, gradFracBits: i32): void {
  grad_row_exact(1 << fracBits, dZ, gb, units, fracBits, gradFracBits);
}

/**
 * Adds this sample's gradients (x in q.F, dZ and the grads in q.G; saturating adds):
 *   gw[i·units + j] += x[i]·dZ[j]
 *   gb[j]           += dZ[j]
 */
export function dense_backward(
  x: usize, dZ: usize, gw: usize, gb: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32,
): void {
  grad_bias(dZ, gb, units, fracBits, gradFracBits);
  for (let i = 0; i < fanIn; i++) {
    const xi = ld(x, i);
    if (xi != 0) grad_row_exact(xi, dZ, gw + ((<usize>i * <usize>units) << 2), units, fracBits, gradFracBits);
  }
}

// ---- Backward fused with the SGD step (per-sample training) -----------------------

/**
 * The bias part of dense_backward_step: b[j] −= round(lr·dZ[j] / 2^G) saturating
 * (sgd_step), and with keepGrads gb[j] = dZ[j]. Writes step_row_fast's table, per unit
 * j at tables + 8j: |dZ[j]| (a u32: 2^31 for INT32_MIN) and (dZ[j] ^ lr) >> 31, the
 * sign of lr·dZ[j] as a mask (−1 negative, 0 not). Returns max_j |dZ[j]|.
 */
export function step_bias(
  dZ: usize, b: usize, gb: usize, tables: usize, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): i64 {
  sgd_step(b, dZ, units, lr, fracBits, gradFracBits, fracBits);
  let max: i64 = 0;
  for (let j = 0; j < units; j++) {
    const d = ld(dZ, j);
    if (keepGrads) st(gb, j, d);
    const magnitude = abs_u32(d);
    store<u32>(tables + (<usize>j << 3), magnitude);
    store<i32>(tables + (<usize>j << 3), (d ^ lr) >> 31, 4);
    if (<i64>magnitude > max) max = <i64>magnitude;
  }
  return max;
}

/**
 * One row of dense_backward_step within row_is_fast, units [from, units), from
 * magnitudes: rounding half away from zero is odd, so round(v / 2^s) is
 * sign(v)·((|v| + 2^(s−1)) >> s) and no sign fix-up is needed per rounding:
 *   |g| = (|x|·|dZ[j]| + 2^(F−1)) >> F,  |u| = (|lr|·|g| + 2^(G−1)) >> G
 * (|x|, |dZ[j]|, |lr| ≤ 2^31 and |g| < 2^31 within the limit: the products stay below
 * 2^62), then the signs from the table's mask and the row's: g and u are exactly
 * q_mul_round_sat's, whose clamps cannot act here. w[j] −= u saturated from the
 * subtraction's overflow flag; with keepGrads gw[j] = g.
 */
// @ts-ignore: decorator
@inline export function step_row_fast(
  x: i32, tables: usize, wRow: usize, gRow: usize, units: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  const ax = <i64>abs_u32(x);
  const alr = <i64>abs_u32(lr);
  const halfF = <i64>1 << (fracBits - 1);
  const halfG = <i64>1 << (gradFracBits - 1);
  const rowSign = x >> 31;
  const rateSign = lr >> 31;
  let t = tables;
  for (let j = 0; j < units; j++, t += 8) {
    const ag = (ax * <i64>load<u32>(t) + halfF) >> fracBits;
    const uSign = load<i32>(t, 4) ^ rowSign;
    if (keepGrads) {
      const gSign = uSign ^ rateSign;
      st(gRow, j, (<i32>ag ^ gSign) - gSign);
    }
    const u = (<i32>((alr * ag + halfG) >> gradFracBits) ^ uSign) - uSign;
    const old = ld(wRow, j);
    const next = old - u;
    st(wRow, j, ((old ^ u) & (old ^ next)) < 0 ? wrapped_bound(next) : next);
  }
}

/**
 * The plain per-weight row, for rows past row_is_fast: gRow[j] = sat(round(x·dZ[j]))
 * (grad_row_exact from zero), then sgd_step's w[j] = sat(w[j] − sat(round(lr·gRow[j]))).
 * gRow is the grads row with keepGrads, else scratch (a lean module has no grads).
 */
export function step_row_exact(
  x: i32, dZ: usize, wRow: usize, gRow: usize, units: i32, fracBits: i32, gradFracBits: i32, lr: i32,
): void {
  q_zero(gRow, units);
  grad_row_exact(x, dZ, gRow, units, fracBits, gradFracBits);
  sgd_step(wRow, gRow, units, lr, fracBits, gradFracBits, fracBits);
}

/** Where step_row_exact keeps a row of gradients when no grads may be written: past the tables. */
// @ts-ignore: decorator
@inline export function exact_row_scratch(tables: usize, units: i32): usize {
  return tables + (<usize>units << 4);
}

/**
 * dense_backward and then the SGD step on this layer, in one pass, for per-sample
 * training: g = x[i]·dZ[j] and p −= lr·g at once, bit-identical to zero_grad,
 * dense_backward, sgd_step (a fresh g saturates to itself; rows with x[i] = 0 have
 * g = 0 and keep p). With keepGrads the grads end as those would (0 for skipped
 * rows); without, they are left alone (a lean module passes none): train_samples keeps only its last row's.
 * The layer below must already have its dX. lr in q.F, params in q.F, grads in q.G.
 * tables: 20 bytes per unit of scratch (step_bias's table here, the SIMD twin's rounding
 * biases; then exact_row_scratch).
 */
export function dense_backward_step(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, tables: usize,
  fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  const maxDZ = step_bias(dZ, b, gb, tables, units, fracBits, gradFracBits, lr, keepGrads);
  const absLr = <i64>abs_u32(lr);
  for (let i = 0; i < fanIn; i++) {
    const xi = ld(x, i);
    const offset = (<usize>i * <usize>units) << 2;
    const gRow = gw + offset;
    if (xi == 0) {
      if (keepGrads) q_zero(gRow, units);
      continue;
    }
    const wRow = w + offset;
    if (!row_is_fast(xi, maxDZ, absLr, fracBits, gradFracBits)) {
      step_row_exact(xi, dZ, wRow, keepGrads ? gRow : exact_row_scratch(tables, units), units, fracBits, gradFracBits, lr);
      continue;
    }
    step_row_fast(xi, tables, wRow, gRow, units, fracBits, gradFracBits, lr, keepGrads);
  }
}
