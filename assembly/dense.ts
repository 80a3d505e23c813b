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
// locals, eight output units per pass over the inputs (then four, then three or one).
//
// Gradients and updates, per weight (x in q.F, dZ in q.G, lr in q.F):
//   g = sat(round(x·dZ / 2^F))        in q.G
//   u = sat(round(lr·g / 2^G))        in q.F
//   w = sat(w − u)
// rounding half away from zero. The kernels compute exactly that, with the clamps
// moved out of the inner loop:
// - The two saturations on g and u are checked once per row (dense_backward):
//   row_is_fast bounds |x| from max_j |dZ[j]| and lr; rows past it (rare: |x|·|dZ|
//   near 2^(31+F), or a huge learning rate) take the plain per-weight path. The fused
//   step (dense_backward_step) checks the same bound once per call, on a bound of
//   max_i |x[i]| (step_is_fast); a call past it takes the plain path for every row.
// - gw + g is computed wrapping in i32; where the overflow flag ((a ^ b) & (a ^ r))
//   < 0 is set, the wrapped result's sign tells which bound the exact one crossed
//   (wrapped_bound), so the saturated value is selected without i64.
// - The fused step goes by column blocks (step_columns): each unit's dZ and rounding
//   biases in locals, |x| and its sign per row; w − u in i64, stored wrapped, with the
//   block's out-of-range flag OR-ed: a block that overflowed is redone exactly
//   (step_columns_saturate), which the stored wrapped values allow.
// - Over a tanh layer, a layer of at most eight units also computes the backward into
//   that layer in its one step pass (dense_backward_step_tanh_below): each row's old
//   weights give dA[i] before they are updated.

import { ld, q_add_sat, q_mul_round_sat, q_rescale_sat, q_sub_sat, q_zero, round_shift_i64, st } from "./q";
import { sgd_step } from "./sgd";
import { tanh_backward, tanh_grad_to } from "./tanh";

/** b[j] (q.F) as a sum of accFrac fraction bits: exact when accFrac ≥ F, else floored. */
// @ts-ignore: decorator
@inline export function bias_in_acc(b: usize, j: i32, fracBits: i32, accFrac: i32): i64 {
  const bias = <i64>ld(b, j);
  return accFrac >= fracBits ? bias << (accFrac - fracBits) : bias >> (fracBits - accFrac);
}

/** z[j] = the sum, from accFrac to F fraction bits, rounded half away from zero and saturated. */
export function store_sum(z: usize, j: i32, sum: i64, fracBits: i32, accFrac: i32): void {
  // q_rescale_sat(sum, accFrac, fracBits) in two cases, not three (equal formats shift up by 0).
  const shift = accFrac - fracBits;
  let v: i32;
  if (shift > 0) v = clamp_i32(round_shift_i64(sum, shift));
  else {
    const up = -shift;
    v = sum > (<i64>i32.MAX_VALUE >> up) ? i32.MAX_VALUE : sum < (<i64>i32.MIN_VALUE >> up) ? i32.MIN_VALUE : <i32>(sum << up);
  }
  st(z, j, v);
}

/** store_sum inlined: where the shapes are constants its shifts and its case fold. */
// @ts-ignore: decorator
@inline function store_sum_folded(z: usize, j: i32, sum: i64, fracBits: i32, accFrac: i32): void {
  st(z, j, q_rescale_sat(sum, accFrac, fracBits));
}

/**
 * Units [j, j + width) (width 1 to 8) in one pass over x: their sums in locals, each
 * row of x read once. skipZero: rows where x is 0 are skipped (their products are 0),
 * a branch per row that pays on wide passes and sparse inputs.
 */
// @ts-ignore: decorator
@inline function forward_pass(
  x: usize, w: usize, b: usize, z: usize, fanIn: i32, units: i32, j: i32, width: i32, fracBits: i32, accShift: i32,
  skipZero: bool,
): void {
  const accFrac = 2 * fracBits - accShift;
  const stride = <usize>units << 2;
  const xEnd = x + (<usize>fanIn << 2);
  let s0 = bias_in_acc(b, j, fracBits, accFrac);
  let s1: i64 = width > 1 ? bias_in_acc(b, j + 1, fracBits, accFrac) : 0;
  let s2: i64 = width > 2 ? bias_in_acc(b, j + 2, fracBits, accFrac) : 0;
  let s3: i64 = width > 3 ? bias_in_acc(b, j + 3, fracBits, accFrac) : 0;
  let s4: i64 = width > 4 ? bias_in_acc(b, j + 4, fracBits, accFrac) : 0;
  let s5: i64 = width > 5 ? bias_in_acc(b, j + 5, fracBits, accFrac) : 0;
  let s6: i64 = width > 6 ? bias_in_acc(b, j + 6, fracBits, accFrac) : 0;
  let s7: i64 = width > 7 ? bias_in_acc(b, j + 7, fracBits, accFrac) : 0;
  let row = w + (<usize>j << 2);
  let xp = x;
  do { // fanIn ≥ 1 (a spec's shapes): the loop tests at its end
    const xi = <i64>load<i32>(xp);
    if (!skipZero || xi != 0) {
      s0 += (xi * <i64>load<i32>(row)) >> accShift;
      if (width > 1) s1 += (xi * <i64>load<i32>(row, 4)) >> accShift;
      if (width > 2) s2 += (xi * <i64>load<i32>(row, 8)) >> accShift;
      if (width > 3) s3 += (xi * <i64>load<i32>(row, 12)) >> accShift;
      if (width > 4) s4 += (xi * <i64>load<i32>(row, 16)) >> accShift;
      if (width > 5) s5 += (xi * <i64>load<i32>(row, 20)) >> accShift;
      if (width > 6) s6 += (xi * <i64>load<i32>(row, 24)) >> accShift;
      if (width > 7) s7 += (xi * <i64>load<i32>(row, 28)) >> accShift;
    }
    row += stride;
    xp += 4;
  } while (xp < xEnd);
  store_sum_folded(z, j, s0, fracBits, accFrac);
  if (width > 1) store_sum_folded(z, j + 1, s1, fracBits, accFrac);
  if (width > 2) store_sum_folded(z, j + 2, s2, fracBits, accFrac);
  if (width > 3) store_sum_folded(z, j + 3, s3, fracBits, accFrac);
  if (width > 4) store_sum_folded(z, j + 4, s4, fracBits, accFrac);
  if (width > 5) store_sum_folded(z, j + 5, s5, fracBits, accFrac);
  if (width > 6) store_sum_folded(z, j + 6, s6, fracBits, accFrac);
  if (width > 7) store_sum_folded(z, j + 7, s7, fracBits, accFrac);
}

/**
 * z[j] = b[j] + Σ_i x[i]·w[i·units + j] for units j in [from, units); x, w, b, z in q.F.
 * The result rounds half away from zero and saturates.
 */
// @ts-ignore: decorator
@inline export function dense_forward_columns(
  x: usize, w: usize, b: usize, z: usize, fanIn: i32, units: i32, from: i32, fracBits: i32, accShift: i32,
): void {
  // Eight units a pass, then four, then the last three in one pass (a three-class
  // output layer) or one at a time: each pass reads x once.
  const wide8 = from + ((units - from) & ~7);
  const wide4 = from + ((units - from) & ~3);
  let j = from;
  if (j < wide8) for (; j < wide8; j += 8) forward_pass(x, w, b, z, fanIn, units, j, 8, fracBits, accShift, true);
  if (wide8 < wide4) forward_pass(x, w, b, z, fanIn, units, wide8, 4, fracBits, accShift, true);
  if (units - wide4 == 3) forward_pass(x, w, b, z, fanIn, units, wide4, 3, fracBits, accShift, false);
  else if (wide4 < units) dense_forward_units(x, w, b, z, fanIn, units, wide4, fracBits, accShift);
}

/** z[j] for units j in [from, units), one at a time: one call for a layer's last units. */
export function dense_forward_units(
  x: usize, w: usize, b: usize, z: usize, fanIn: i32, units: i32, from: i32, fracBits: i32, accShift: i32,
): void {
  const accFrac = 2 * fracBits - accShift;
  const stride = <usize>units << 2;
  const end = x + (<usize>fanIn << 2);
  // from < units and fanIn ≥ 1 (the caller; a spec has inputs ≥ 1): both loops test at their end.
  let j = from;
  do {
    let s = bias_in_acc(b, j, fracBits, accFrac);
    let at = w + (<usize>j << 2);
    // No skip of zero inputs here (their terms are 0): a branch per term costs the small layers more.
    let xp = x;
    do {
      s += (<i64>load<i32>(xp) * <i64>load<i32>(at)) >> accShift;
      xp += 4;
      at += stride;
    } while (xp < end);
    store_sum(z, j, s, fracBits, accFrac);
  } while (++j < units);
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
  const rowBytes = <usize>units << 2;
  const blockBytes = rowBytes & ~15; // units in fours, then the last one to three
  const rest = units & 3;
  const end = dX + (<usize>fanIn << 2);
  // The last units' dZ are the same for every row: in locals.
  const tail = dZ + blockBytes;
  const r0 = rest > 0 ? <i64>load<i32>(tail) : 0;
  const r1 = rest > 1 ? <i64>load<i32>(tail, 4) : 0;
  const r2 = rest > 2 ? <i64>load<i32>(tail, 8) : 0;
  let row = w;
  let out = dX;
  // fanIn ≥ 1 (a spec's shapes): the row loop tests at its end. Addition is exact
  // (the bound above), so summing four terms a pass changes no result.
  do {
    let sum: i64 = 0;
    let j: usize = 0;
    if (blockBytes != 0) do {
      sum += (<i64>load<i32>(row + j) * <i64>load<i32>(dZ + j)) >> accShift;
      sum += (<i64>load<i32>(row + j, 4) * <i64>load<i32>(dZ + j, 4)) >> accShift;
      sum += (<i64>load<i32>(row + j, 8) * <i64>load<i32>(dZ + j, 8)) >> accShift;
      sum += (<i64>load<i32>(row + j, 12) * <i64>load<i32>(dZ + j, 12)) >> accShift;
      j += 16;
    } while (j < blockBytes);
    if (rest > 0) sum += (<i64>load<i32>(row + j) * r0) >> accShift;
    if (rest > 1) sum += (<i64>load<i32>(row + j, 4) * r1) >> accShift;
    if (rest > 2) sum += (<i64>load<i32>(row + j, 8) * r2) >> accShift;
    store_sum_folded(out, 0, sum, gradFracBits, accFrac);
    row += rowBytes;
    out += 4;
  } while (out < end);
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
  return magnitude_is_fast(<i64>abs_u32(x), maxDZ, absLr, fracBits, gradFracBits);
}

/** row_is_fast for an input of magnitude ax ≤ 2^31 (the bound grows with ax). */
// @ts-ignore: decorator
@inline export function magnitude_is_fast(ax: i64, maxDZ: i64, absLr: i64, fracBits: i32, gradFracBits: i32): bool {
  const p = ax * maxDZ + (<i64>1 << (fracBits - 1));
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
 * Whether every row of a dense_backward_step call is within row_is_fast, the bias's
 * included (a row of input exactly 1, 2^F): the bound grows with |x|, so a bound on
 * max_i |x[i]| (or 2^F if larger) decides for all. Once per call, not per row.
 * unrolled: magnitude_bound four elements a pass (faster, more bytes).
 */
// @ts-ignore: decorator
@inline function fast_bound(
  x: usize, dZ: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, xBounded: bool, unrolled: bool,
): bool {
  // xBounded: the caller knows |x[i]| ≤ 2^F (x is a sigmoid or tanh layer's output,
  // written by forward in the same export call), so 2^F bounds max_i |x[i]| already.
  const one = <i64>1 << fracBits;
  let maxX = one;
  if (!xBounded) {
    maxX = magnitude_bound(x, fanIn, unrolled);
    if (maxX < one) maxX = one;
  }
  return magnitude_is_fast(maxX, magnitude_bound(dZ, units, unrolled), <i64>abs_u32(lr), fracBits, gradFracBits);
}

/**
 * fast_bound unrolled, as a call: the wide layers' step. Inlined into its caller it
 * saved Iris 1,000 Cortex-M instructions a step but made WAMR classic train MNIST 35%
 * slower (npm run bench:revisions) with the hot kernels unchanged: only the caller's
 * frame grew (WAMR classic packs frames in 4-byte cells, so i64 slots lose alignment).
 */
export function step_is_fast_wide(
  x: usize, dZ: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, xBounded: bool,
): bool {
  return fast_bound(x, dZ, fanIn, units, fracBits, gradFracBits, lr, xBounded, true);
}

/** fast_bound as a call: the narrow layers' step, where code size counts more than a call. */
export function step_is_fast(
  x: usize, dZ: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, xBounded: bool,
): bool {
  return fast_bound(x, dZ, fanIn, units, fracBits, gradFracBits, lr, xBounded, false);
}

/**
 * A bound on max_k |v[k]|, at most twice it plus one and at most 2^31: 1 + the OR of
 * v ^ (v >> 31), which is v for v ≥ 0 and |v| − 1 for v < 0. Cheaper than the max
 * (no compare per element); step_is_fast only needs a bound. Inlined: two calls
 * per step cost more than its loop's bytes.
 */
// @ts-ignore: decorator
@inline function magnitude_bound(v: usize, n: i32, unrolled: bool): i64 {
  let bits = 0;
  let at = v;
  const end = v + (<usize>n << 2);
  if (unrolled) {
    // Four a pass: the loop's own instructions are most of the work.
    const blockEnd = v + (<usize>(n & ~3) << 2);
    const rest = n & 3;
    if (at < blockEnd) do {
      const e0 = load<i32>(at), e1 = load<i32>(at, 4), e2 = load<i32>(at, 8), e3 = load<i32>(at, 12);
      bits |= (e0 ^ (e0 >> 31)) | (e1 ^ (e1 >> 31)) | (e2 ^ (e2 >> 31)) | (e3 ^ (e3 >> 31));
      at += 16;
    } while (at < blockEnd);
    if (rest > 0) { const e = load<i32>(at); bits |= e ^ (e >> 31); }
    if (rest > 1) { const e = load<i32>(at, 4); bits |= e ^ (e >> 31); }
    if (rest > 2) { const e = load<i32>(at, 8); bits |= e ^ (e >> 31); }
  } else {
    do { // n ≥ 1 (fanIn or units): the loop tests at its end
      const e = load<i32>(at);
      bits |= e ^ (e >> 31);
      at += 4;
    } while (at < end);
  }
  return <i64>bits + 1;
}

/**
 * A call past step_is_fast: every row by step_row_exact, the bias as the row of input
 * 1 (2^F), whose g = round(2^F·dZ[j] / 2^F) is dZ[j] exactly (sgd_step on gb = dZ).
 */
export function step_exact(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, tables: usize,
  fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  const bytes = <usize>units << 2;
  let wRow = w;
  let gRow = gw;
  for (let i = 0; i <= fanIn; i++) {
    let xi = 1 << fracBits;
    if (i < fanIn) xi = ld(x, i);
    else {
      wRow = b;
      gRow = gb;
    }
    // x = 0 needs no case: g = 0, and w − 0 is w.
    step_row_exact(xi, dZ, wRow, keepGrads ? gRow : exact_row_scratch(tables, units), units, fracBits, gradFracBits, lr);
    wRow += bytes;
    gRow += bytes;
  }
}

/**
 * Units [0, width) of one row within step_is_fast, at wp (weights) and gp (grads), for
 * an input of magnitude ax, negate when it is negative. Rounding half away from zero
 * is odd, so g and u of x are minus those of |x|: with d = dZ[j],
 *   g' = (|x|·d + 2^(F−1) − [d < 0]) >> F,  u' = (lr·g' + 2^(G−1) − [lr·d < 0]) >> G
 * (g' has d's sign or is 0, where either bias gives 0), and w −= u' (w += u' for
 * negate); g = ±g'. f_k and h_k hold the two biases. Within the bound |x|·|d|, |lr|·|g'|
 * < 2^62 and |g'|, |u'| < 2^31: no clamp acts. w ± u' is computed in i64 and stored
 * wrapped; the returned OR of (w ± u') + 2^31 has a bit above 31 set iff some new
 * weight left the i32 range (step_columns_saturate then redoes them). one: the bias
 * row (ax = 2^F), whose g' is d itself, no multiply. pre: the caller has read the old
 * weights into o0..o7 (step_columns over a tanh layer).
 */
// @ts-ignore: decorator
@inline function step_cells(
  wp: usize, gp: usize, ax: i64, negate: bool, one: bool, width: i32, rate: i64,
  d0: i64, d1: i64, d2: i64, d3: i64, d4: i64, d5: i64, d6: i64, d7: i64, f0: i64, f1: i64, f2: i64, f3: i64, f4: i64, f5: i64, f6: i64, f7: i64, h0: i64, h1: i64, h2: i64, h3: i64, h4: i64, h5: i64, h6: i64, h7: i64,
  fracBits: i32, gradFracBits: i32, keepGrads: bool,
  pre: bool, o0: i64, o1: i64, o2: i64, o3: i64, o4: i64, o5: i64, o6: i64, o7: i64,
): i64 {
  let flag: i64 = 0;
  {
    const g = one ? d0 : (ax * d0 + f0) >> fracBits;
    if (keepGrads) store<i32>(gp, <i32>(negate ? -g : g), 0);
    const u = (rate * g + h0) >> gradFracBits;
    const next = negate ? (pre ? o0 : <i64>load<i32>(wp, 0)) + u : (pre ? o0 : <i64>load<i32>(wp, 0)) - u;
    store<i32>(wp, <i32>next, 0);
    flag |= next + 0x80000000;
  }
  if (width > 1) {
    const g = one ? d1 : (ax * d1 + f1) >> fracBits;
    if (keepGrads) store<i32>(gp, <i32>(negate ? -g : g), 4);
    const u = (rate * g + h1) >> gradFracBits;
    const next = negate ? (pre ? o1 : <i64>load<i32>(wp, 4)) + u : (pre ? o1 : <i64>load<i32>(wp, 4)) - u;
    store<i32>(wp, <i32>next, 4);
    flag |= next + 0x80000000;
  }
  if (width > 2) {
    const g = one ? d2 : (ax * d2 + f2) >> fracBits;
    if (keepGrads) store<i32>(gp, <i32>(negate ? -g : g), 8);
    const u = (rate * g + h2) >> gradFracBits;
    const next = negate ? (pre ? o2 : <i64>load<i32>(wp, 8)) + u : (pre ? o2 : <i64>load<i32>(wp, 8)) - u;
    store<i32>(wp, <i32>next, 8);
    flag |= next + 0x80000000;
  }
  if (width > 3) {
    const g = one ? d3 : (ax * d3 + f3) >> fracBits;
    if (keepGrads) store<i32>(gp, <i32>(negate ? -g : g), 12);
    const u = (rate * g + h3) >> gradFracBits;
    const next = negate ? (pre ? o3 : <i64>load<i32>(wp, 12)) + u : (pre ? o3 : <i64>load<i32>(wp, 12)) - u;
    store<i32>(wp, <i32>next, 12);
    flag |= next + 0x80000000;
  }
  if (width > 4) {
    const g = one ? d4 : (ax * d4 + f4) >> fracBits;
    if (keepGrads) store<i32>(gp, <i32>(negate ? -g : g), 16);
    const u = (rate * g + h4) >> gradFracBits;
    const next = negate ? (pre ? o4 : <i64>load<i32>(wp, 16)) + u : (pre ? o4 : <i64>load<i32>(wp, 16)) - u;
    store<i32>(wp, <i32>next, 16);
    flag |= next + 0x80000000;
  }
  if (width > 5) {
    const g = one ? d5 : (ax * d5 + f5) >> fracBits;
    if (keepGrads) store<i32>(gp, <i32>(negate ? -g : g), 20);
    const u = (rate * g + h5) >> gradFracBits;
    const next = negate ? (pre ? o5 : <i64>load<i32>(wp, 20)) + u : (pre ? o5 : <i64>load<i32>(wp, 20)) - u;
    store<i32>(wp, <i32>next, 20);
    flag |= next + 0x80000000;
  }
  if (width > 6) {
    const g = one ? d6 : (ax * d6 + f6) >> fracBits;
    if (keepGrads) store<i32>(gp, <i32>(negate ? -g : g), 24);
    const u = (rate * g + h6) >> gradFracBits;
    const next = negate ? (pre ? o6 : <i64>load<i32>(wp, 24)) + u : (pre ? o6 : <i64>load<i32>(wp, 24)) - u;
    store<i32>(wp, <i32>next, 24);
    flag |= next + 0x80000000;
  }
  if (width > 7) {
    const g = one ? d7 : (ax * d7 + f7) >> fracBits;
    if (keepGrads) store<i32>(gp, <i32>(negate ? -g : g), 28);
    const u = (rate * g + h7) >> gradFracBits;
    const next = negate ? (pre ? o7 : <i64>load<i32>(wp, 28)) + u : (pre ? o7 : <i64>load<i32>(wp, 28)) - u;
    store<i32>(wp, <i32>next, 28);
    flag |= next + 0x80000000;
  }
  return flag;
}

/** An i64 clamped to [INT32_MIN, INT32_MAX]. */
// @ts-ignore: decorator
@inline function clamp_i32(v: i64): i32 {
  return <i32>(v < <i64>i32.MIN_VALUE ? <i64>i32.MIN_VALUE : v > <i64>i32.MAX_VALUE ? <i64>i32.MAX_VALUE : v);
}

/** Zeroes units [0, width) of a grads row (an input of 0 has g = 0 and leaves w). */
// @ts-ignore: decorator
@inline function zero_cells(gp: usize, width: i32): void {
  store<i32>(gp, 0, 0);
  if (width > 1) store<i32>(gp, 0, 4);
  if (width > 2) store<i32>(gp, 0, 8);
  if (width > 3) store<i32>(gp, 0, 12);
  if (width > 4) store<i32>(gp, 0, 16);
  if (width > 5) store<i32>(gp, 0, 20);
  if (width > 6) store<i32>(gp, 0, 24);
  if (width > 7) store<i32>(gp, 0, 28);
}

/**
 * Units [j, j + width) of every row within step_is_fast (the weights' rows, then the
 * bias as the row of input 2^F): each unit's dZ and rounding biases in locals, the
 * weights of a row contiguous. Returns step_cells's flags, OR-ed. tanhBelow (one pass,
 * j = 0, width = units): also dA = w·dZ into dA and tanh's backward into dZBelow.
 */
// @ts-ignore: decorator
@inline function step_columns(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, fanIn: i32, units: i32, j: i32, width: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
  tanhBelow: bool = false, dA: usize = 0, dZBelow: usize = 0, accShift: i32 = 0,
): i64 {
  const at = dZ + (<usize>j << 2);
  const halfF = 1 << (fracBits - 1);
  const halfG = 1 << (gradFracBits - 1);
  const z0 = width > 0 ? load<i32>(at, 0) : 0;
  const d0 = <i64>z0, f0 = <i64>(halfF - (z0 >>> 31)), h0 = <i64>(halfG - ((z0 ^ lr) >>> 31));
  const z1 = width > 1 ? load<i32>(at, 4) : 0;
  const d1 = <i64>z1, f1 = <i64>(halfF - (z1 >>> 31)), h1 = <i64>(halfG - ((z1 ^ lr) >>> 31));
  const z2 = width > 2 ? load<i32>(at, 8) : 0;
  const d2 = <i64>z2, f2 = <i64>(halfF - (z2 >>> 31)), h2 = <i64>(halfG - ((z2 ^ lr) >>> 31));
  const z3 = width > 3 ? load<i32>(at, 12) : 0;
  const d3 = <i64>z3, f3 = <i64>(halfF - (z3 >>> 31)), h3 = <i64>(halfG - ((z3 ^ lr) >>> 31));
  const z4 = width > 4 ? load<i32>(at, 16) : 0;
  const d4 = <i64>z4, f4 = <i64>(halfF - (z4 >>> 31)), h4 = <i64>(halfG - ((z4 ^ lr) >>> 31));
  const z5 = width > 5 ? load<i32>(at, 20) : 0;
  const d5 = <i64>z5, f5 = <i64>(halfF - (z5 >>> 31)), h5 = <i64>(halfG - ((z5 ^ lr) >>> 31));
  const z6 = width > 6 ? load<i32>(at, 24) : 0;
  const d6 = <i64>z6, f6 = <i64>(halfF - (z6 >>> 31)), h6 = <i64>(halfG - ((z6 ^ lr) >>> 31));
  const z7 = width > 7 ? load<i32>(at, 28) : 0;
  const d7 = <i64>z7, f7 = <i64>(halfF - (z7 >>> 31)), h7 = <i64>(halfG - ((z7 ^ lr) >>> 31));
  const rate = <i64>lr;
  const stride = <usize>units << 2;
  const column = <usize>j << 2;
  const end = x + (<usize>fanIn << 2);
  let wp = w + column;
  let gp = gw + column;
  let xp = x;
  let flag: i64 = 0;
  const accFrac = fracBits + gradFracBits - accShift;
  const one = <i64>1 << fracBits;
  do { // fanIn ≥ 1 (a spec's shapes): the loop tests at its end
    const xi = load<i32>(xp);
    // tanhBelow: the row's old weights, read once, also give dA[i] (dense_backward_input's
    // sum) and so the tanh layer's dZ[i] at its output y = x[i] (tanh_backward).
    let o0: i64 = 0, o1: i64 = 0, o2: i64 = 0, o3: i64 = 0, o4: i64 = 0, o5: i64 = 0, o6: i64 = 0, o7: i64 = 0;
    if (tanhBelow) {
      o0 = <i64>load<i32>(wp);
      let sum = (o0 * d0) >> accShift;
      if (width > 1) { o1 = <i64>load<i32>(wp, 4); sum += (o1 * d1) >> accShift; }
      if (width > 2) { o2 = <i64>load<i32>(wp, 8); sum += (o2 * d2) >> accShift; }
      if (width > 3) { o3 = <i64>load<i32>(wp, 12); sum += (o3 * d3) >> accShift; }
      if (width > 4) { o4 = <i64>load<i32>(wp, 16); sum += (o4 * d4) >> accShift; }
      if (width > 5) { o5 = <i64>load<i32>(wp, 20); sum += (o5 * d5) >> accShift; }
      if (width > 6) { o6 = <i64>load<i32>(wp, 24); sum += (o6 * d6) >> accShift; }
      if (width > 7) { o7 = <i64>load<i32>(wp, 28); sum += (o7 * d7) >> accShift; }
      const at = xp - x;
      store_sum_folded(dA + at, 0, sum, gradFracBits, accFrac);
      // Read back from dA: tanh_grad_to takes addresses so tanh_backward's loop keeps its code.
      tanh_grad_to(dZBelow, dA, at, xi, one, fracBits, gradFracBits);
    }
    if (xi > 0) {
      flag |= step_cells(wp, gp, <i64>xi, false, false, width, rate, d0, d1, d2, d3, d4, d5, d6, d7, f0, f1, f2, f3, f4, f5, f6, f7, h0, h1, h2, h3, h4, h5, h6, h7, fracBits, gradFracBits, keepGrads, tanhBelow, o0, o1, o2, o3, o4, o5, o6, o7);
    } else if (xi < 0) {
      flag |= step_cells(wp, gp, -<i64>xi, true, false, width, rate, d0, d1, d2, d3, d4, d5, d6, d7, f0, f1, f2, f3, f4, f5, f6, f7, h0, h1, h2, h3, h4, h5, h6, h7, fracBits, gradFracBits, keepGrads, tanhBelow, o0, o1, o2, o3, o4, o5, o6, o7);
    } else if (keepGrads) {
      zero_cells(gp, width);
    }
    wp += stride;
    gp += stride;
    xp += 4;
  } while (xp < end);
  // The bias: the row of input 2^F, whose g = (2^F·d + f) >> F is d exactly (0 ≤ f < 2^F).
  return flag | step_cells(b + column, gb + column, <i64>1 << fracBits, false, true, width, rate, d0, d1, d2, d3, d4, d5, d6, d7, f0, f1, f2, f3, f4, f5, f6, f7, h0, h1, h2, h3, h4, h5, h6, h7, fracBits, gradFracBits, keepGrads, false, 0, 0, 0, 0, 0, 0, 0, 0);
}

/**
 * Redoes units [j, j + width) of every row after step_columns left some weight out of
 * range: the old w is the stored (w − u) + u modulo 2^32, then w − u saturating, u
 * recomputed as round_shift_i64 gives it (the same value: exact i32 within the bound).
 */
function step_columns_saturate(
  x: usize, dZ: usize, w: usize, b: usize, fanIn: i32, units: i32, j: i32, width: i32,
  fracBits: i32, gradFracBits: i32, lr: i32,
): void {
  const stride = <usize>units << 2;
  for (let i = 0; i <= fanIn; i++) {
    const bias = i == fanIn;
    const xi = <i64>(bias ? 1 << fracBits : ld(x, i));
    const row = (bias ? b : w + <usize>i * stride) + (<usize>j << 2);
    for (let k = 0; k < width; k++) {
      const u = <i32>round_shift_i64(<i64>lr * round_shift_i64(xi * <i64>ld(dZ, j + k), fracBits), gradFracBits);
      st(row, k, q_sub_sat(ld(row, k) + u, u));
    }
  }
}

/** step_columns over `width` units from j, with keepGrads folded, then the rare saturation. */
// @ts-ignore: decorator
@inline function step_pass(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, fanIn: i32, units: i32, j: i32, width: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
  tanhBelow: bool = false, dA: usize = 0, dZBelow: usize = 0, accShift: i32 = 0,
): void {
  const flag = keepGrads
    ? step_columns(x, dZ, w, b, gw, gb, fanIn, units, j, width, fracBits, gradFracBits, lr, true, tanhBelow, dA, dZBelow, accShift)
    : step_columns(x, dZ, w, b, gw, gb, fanIn, units, j, width, fracBits, gradFracBits, lr, false, tanhBelow, dA, dZBelow, accShift);
  if ((flag >>> 32) != 0) step_columns_saturate(x, dZ, w, b, fanIn, units, j, width, fracBits, gradFracBits, lr);
}

/** Eight units from j (step_pass). */
export function step_pass8(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, fanIn: i32, units: i32, j: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  step_pass(x, dZ, w, b, gw, gb, fanIn, units, j, 8, fracBits, gradFracBits, lr, keepGrads);
}

/** Three units from j (step_pass): a layer's last three. */
export function step_pass3(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, fanIn: i32, units: i32, j: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  step_pass(x, dZ, w, b, gw, gb, fanIn, units, j, 3, fracBits, gradFracBits, lr, keepGrads);
}

/** Two units from j (step_pass): a layer's last two. */
export function step_pass2(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, fanIn: i32, units: i32, j: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  step_pass(x, dZ, w, b, gw, gb, fanIn, units, j, 2, fracBits, gradFracBits, lr, keepGrads);
}

/** Four units from j (step_pass). */
export function step_pass4(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, fanIn: i32, units: i32, j: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  step_pass(x, dZ, w, b, gw, gb, fanIn, units, j, 4, fracBits, gradFracBits, lr, keepGrads);
}

/**
 * dense_backward_input, dense_backward_step and the tanh_backward of the layer below,
 * for a layer of at most eight units (one step pass) whose input x is a tanh layer's
 * output: the pass that updates a row also reads its old weights for dA[i] and gives
 * the layer below dZ[i] = dA[i]·(1 − x[i]²). The same results bit for bit as the three
 * calls (dA is written too), with one pass over w instead of two and no calls.
 */
// @ts-ignore: decorator
@inline export function dense_backward_step_tanh_below(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, tables: usize, dA: usize, dZBelow: usize,
  fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool, accShift: i32,
): void {
  if (!fast_bound(x, dZ, fanIn, units, fracBits, gradFracBits, lr, true, false)) {
    dense_backward_input(w, dZ, dA, fanIn, units, fracBits, gradFracBits, accShift);
    step_exact(x, dZ, w, b, gw, gb, tables, fanIn, units, fracBits, gradFracBits, lr, keepGrads);
    tanh_backward(x, dA, dZBelow, fanIn, fracBits, gradFracBits);
    return;
  }
  step_pass(x, dZ, w, b, gw, gb, fanIn, units, 0, units, fracBits, gradFracBits, lr, keepGrads, true, dA, dZBelow, accShift);
}

/**
 * Unit j of every row within step_is_fast, in the fewest instructions: signed products
 * rounded as round_shift_i64 (x = 0 gives g = 0 and keeps w: no branch), w − u
 * saturated in place. For a layer's last unit past the fours, and layers of one or two.
 */
export function step_pass1(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, fanIn: i32, units: i32, j: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  step_units(x, dZ, w, b, gw, gb, fanIn, units, j, fracBits, gradFracBits, lr, keepGrads);
}

/**
 * step_pass1's body for units [from, units), inlined where it has one caller. Walks the
 * columns by byte offset with the shapes hoisted; units > from and fanIn ≥ 1 (a spec's
 * shapes), so both loops test at their end.
 */
// @ts-ignore: decorator
@inline function step_units(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, fanIn: i32, units: i32, from: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  const rate = <i64>lr;
  const stride = <usize>units << 2;
  const end = x + (<usize>fanIn << 2);
  let column = <usize>from << 2;
  do {
    const d = <i64>load<i32>(dZ + column);
    let wp = w + column;
    let gp = gw + column;
    let xp = x;
    do {
      const g = round_shift_i64(<i64>load<i32>(xp) * d, fracBits);
      if (keepGrads) store<i32>(gp, <i32>g);
      store<i32>(wp, clamp_i32(<i64>load<i32>(wp) - round_shift_i64(rate * g, gradFracBits)));
      wp += stride;
      gp += stride;
      xp += 4;
    } while (xp < end);
    // The bias: an input of 2^F, so g = dZ[j] exactly.
    if (keepGrads) store<i32>(gb + column, <i32>d);
    store<i32>(b + column, clamp_i32(<i64>load<i32>(b + column) - round_shift_i64(rate * d, gradFracBits)));
    column += 4;
  } while (column < stride);
}

/** dense_backward_step one unit at a time (step_units): the smallest code, for layers of one or two units. */
export function dense_backward_step_narrow(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, tables: usize,
  fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool, xBounded: bool,
): void {
  if (!step_is_fast(x, dZ, fanIn, units, fracBits, gradFracBits, lr, xBounded)) {
    step_exact(x, dZ, w, b, gw, gb, tables, fanIn, units, fracBits, gradFracBits, lr, keepGrads);
    return;
  }
  step_units(x, dZ, w, b, gw, gb, fanIn, units, 0, fracBits, gradFracBits, lr, keepGrads);
}

/**
 * dense_backward and then the SGD step on this layer, in one pass, for per-sample
 * training: g = x[i]·dZ[j] and p −= lr·g at once, bit-identical to zero_grad,
 * dense_backward, sgd_step (a fresh g saturates to itself; rows with x[i] = 0 have
 * g = 0 and keep p). With keepGrads the grads end as those would (0 for skipped
 * rows); without, they are left alone (a lean module passes none): train_samples keeps only its last row's.
 * The layer below must already have its dX. lr in q.F, params in q.F, grads in q.G.
 * tables: 20 bytes per unit of scratch (exact_row_scratch here; the SIMD twin's tables).
 * Inlined, so with the generator's constant shapes only the passes a layer needs remain:
 * eight units at a time, then four, then the last three, two or one; a layer of one
 * or two units calls dense_backward_step_narrow. xBounded: the caller guarantees
 * |x[i]| ≤ 2^F (step_is_fast then skips its pass over x; the results are the same).
 */
// @ts-ignore: decorator
@inline export function dense_backward_step(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, tables: usize,
  fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool, xBounded: bool = false,
): void {
  if (units < 3) {
    dense_backward_step_narrow(x, dZ, w, b, gw, gb, tables, fanIn, units, fracBits, gradFracBits, lr, keepGrads, xBounded);
  } else if (!step_is_fast_wide(x, dZ, fanIn, units, fracBits, gradFracBits, lr, xBounded)) {
    step_exact(x, dZ, w, b, gw, gb, tables, fanIn, units, fracBits, gradFracBits, lr, keepGrads);
  } else {
    let j = 0;
    if (units >= 8) for (; j + 8 <= units; j += 8) step_pass8(x, dZ, w, b, gw, gb, fanIn, units, j, fracBits, gradFracBits, lr, keepGrads);
    if ((units & 4) != 0) {
      step_pass4(x, dZ, w, b, gw, gb, fanIn, units, j, fracBits, gradFracBits, lr, keepGrads);
      j += 4;
    }
    const rest = units & 3;
    if (rest == 3) step_pass3(x, dZ, w, b, gw, gb, fanIn, units, j, fracBits, gradFracBits, lr, keepGrads);
    if (rest == 2) step_pass2(x, dZ, w, b, gw, gb, fanIn, units, j, fracBits, gradFracBits, lr, keepGrads);
    if (rest == 1) step_pass1(x, dZ, w, b, gw, gb, fanIn, units, j, fracBits, gradFracBits, lr, keepGrads);
  }
}
