// Dense layer with WebAssembly SIMD (128-bit, integer lanes only), for the web target.
// Same signatures and the same results, bit for bit, as the scalar kernels in
// dense.ts, whose header gives the arithmetic; test/simd.test.ts compares them.
//
// Products: i64x2.extmul_{low,high}_i32x4_s gives two exact i32·i32 products per
// instruction. Floors by accShift: i64x2.shr_s has no x86 instruction below AVX-512,
// so each product is biased instead: p xor 2^63 = p + 2^63 (mod 2^64) is p shifted to
// unsigned, and (p xor 2^63) >>> s = floor(p / 2^s) + 2^(63−s). A sum of n such terms
// is the exact sum plus n·2^(63−s) modulo 2^64; the kernels subtract that at the end.
// The exact sum fits an i64 (the accShift bound), so the modular result is it.
// Rounding half away from zero, (v + 2^(s−1) − [v < 0]) >> s: the sign of v = x·dZ[j]
// (or lr·g) is known per unit once the sign of x is, so step_tables holds the bias
// 2^(s−1) − [v < 0] per unit for rows with x > 0 and with x < 0 (no sign fix-up per
// lane). Narrowing to i32 lanes: the low 32 bits of v >>> s and of v >> s agree for
// s ≤ 32, so the roundings use shr_u and keep the low halves.

import {
  bias_in_acc, dense_forward_columns, grad_bias, grad_row_exact, grad_row_fast, max_abs,
  row_is_fast, step_bias, step_row_exact, store_sum, wrapped_bound, exact_row_scratch,
} from "./dense";
import { ld, q_sub_sat, q_zero, round_shift_i64, st } from "./q";

/** Each lane's floor(p / 2^s) + 2^(63−s) (see the header). */
// @ts-ignore: decorator
@inline function floor_shift_biased(p: v128, s: i32): v128 {
  return i64x2.shr_u(v128.xor(p, i64x2.splat(i64.MIN_VALUE)), s);
}

/** Lanes 0 and 2 of a and of b, as i32x4: the low halves of four i64 lanes. */
// @ts-ignore: decorator
@inline function low_halves(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 0, 2, 4, 6);
}

/** Writes z[j] from an accumulator lane that holds its sum plus `offset` (the biases of its terms). */
// @ts-ignore: decorator
@inline function finish_unit(z: usize, b: usize, j: i32, lane: i64, offset: i64, fracBits: i32, accFrac: i32): void {
  store_sum(z, j, bias_in_acc(b, j, fracBits, accFrac) + (lane - offset), fracBits, accFrac);
}

/**
 * Each lane's r where the i32 operation that gave r did not overflow, else the bound
 * it crossed (dense.ts wrapped_bound): `flags` holds ((a ^ b) & (a ^ r)) per lane.
 */
// @ts-ignore: decorator
@inline function saturate_lanes(r: v128, flags: v128): v128 {
  const bound = v128.xor(i32x4.shr_s(r, 31), i32x4.splat(i32.MIN_VALUE));
  return v128.bitselect(bound, r, i32x4.shr_s(flags, 31));
}

/** dense.ts dense_forward: eight units per pass over the inputs, then four, then the scalar kernel. */
// @ts-ignore: decorator
@inline export function dense_forward(
  x: usize, w: usize, b: usize, z: usize, fanIn: i32, units: i32, fracBits: i32, accShift: i32,
): void {
  const accFrac = 2 * fracBits - accShift;
  const stride = <usize>units << 2;
  let j = 0;
  for (; j + 8 <= units; j += 8) {
    let a0 = i64x2.splat(0), a1 = i64x2.splat(0), a2 = i64x2.splat(0), a3 = i64x2.splat(0);
    let terms: i64 = 0;
    let row = w + (<usize>j << 2);
    for (let i = 0; i < fanIn; i++, row += stride) {
      const xi = ld(x, i);
      if (xi == 0) continue;
      terms++;
      const xs = i32x4.splat(xi);
      const w0 = v128.load(row);
      const w1 = v128.load(row, 16);
      a0 = i64x2.add(a0, floor_shift_biased(i64x2.extmul_low_i32x4_s(xs, w0), accShift));
      a1 = i64x2.add(a1, floor_shift_biased(i64x2.extmul_high_i32x4_s(xs, w0), accShift));
      a2 = i64x2.add(a2, floor_shift_biased(i64x2.extmul_low_i32x4_s(xs, w1), accShift));
      a3 = i64x2.add(a3, floor_shift_biased(i64x2.extmul_high_i32x4_s(xs, w1), accShift));
    }
    const offset = terms << (63 - accShift);
    finish_unit(z, b, j, i64x2.extract_lane(a0, 0), offset, fracBits, accFrac);
    finish_unit(z, b, j + 1, i64x2.extract_lane(a0, 1), offset, fracBits, accFrac);
    finish_unit(z, b, j + 2, i64x2.extract_lane(a1, 0), offset, fracBits, accFrac);
    finish_unit(z, b, j + 3, i64x2.extract_lane(a1, 1), offset, fracBits, accFrac);
    finish_unit(z, b, j + 4, i64x2.extract_lane(a2, 0), offset, fracBits, accFrac);
    finish_unit(z, b, j + 5, i64x2.extract_lane(a2, 1), offset, fracBits, accFrac);
    finish_unit(z, b, j + 6, i64x2.extract_lane(a3, 0), offset, fracBits, accFrac);
    finish_unit(z, b, j + 7, i64x2.extract_lane(a3, 1), offset, fracBits, accFrac);
  }
  for (; j + 4 <= units; j += 4) {
    let a0 = i64x2.splat(0), a1 = i64x2.splat(0);
    let terms: i64 = 0;
    let row = w + (<usize>j << 2);
    for (let i = 0; i < fanIn; i++, row += stride) {
      const xi = ld(x, i);
      if (xi == 0) continue;
      terms++;
      const xs = i32x4.splat(xi);
      const w0 = v128.load(row);
      a0 = i64x2.add(a0, floor_shift_biased(i64x2.extmul_low_i32x4_s(xs, w0), accShift));
      a1 = i64x2.add(a1, floor_shift_biased(i64x2.extmul_high_i32x4_s(xs, w0), accShift));
    }
    const offset = terms << (63 - accShift);
    finish_unit(z, b, j, i64x2.extract_lane(a0, 0), offset, fracBits, accFrac);
    finish_unit(z, b, j + 1, i64x2.extract_lane(a0, 1), offset, fracBits, accFrac);
    finish_unit(z, b, j + 2, i64x2.extract_lane(a1, 0), offset, fracBits, accFrac);
    finish_unit(z, b, j + 3, i64x2.extract_lane(a1, 1), offset, fracBits, accFrac);
  }
  if (j < units) dense_forward_columns(x, w, b, z, fanIn, units, j, fracBits, accShift);
}

/** dense.ts dense_backward_input: each row's dot product with dZ four units at a time. */
// @ts-ignore: decorator
@inline export function dense_backward_input(
  w: usize, dZ: usize, dX: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, accShift: i32,
): void {
  const accFrac = fracBits + gradFracBits - accShift;
  const wide = units & ~3;
  const offset = <i64>wide << (63 - accShift);
  let row = w;
  for (let i = 0; i < fanIn; i++) {
    let a0 = i64x2.splat(0), a1 = i64x2.splat(0);
    for (let j = 0; j < wide; j += 4) {
      const wv = v128.load(row + (<usize>j << 2));
      const d = v128.load(dZ + (<usize>j << 2));
      a0 = i64x2.add(a0, floor_shift_biased(i64x2.extmul_low_i32x4_s(wv, d), accShift));
      a1 = i64x2.add(a1, floor_shift_biased(i64x2.extmul_high_i32x4_s(wv, d), accShift));
    }
    const a = i64x2.add(a0, a1);
    let sum = i64x2.extract_lane(a, 0) + i64x2.extract_lane(a, 1) - offset;
    for (let j = wide; j < units; j++) sum += (<i64>ld(row, j) * <i64>ld(dZ, j)) >> accShift;
    store_sum(dX, i, sum, gradFracBits, accFrac);
    row += <usize>units << 2;
  }
}

/** dense.ts dense_backward: rows four units at a time; the per-unit rounding bias from the signs of x and dZ[j]. */
// @ts-ignore: decorator
@inline export function dense_backward(
  x: usize, dZ: usize, gw: usize, gb: usize, fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32,
): void {
  grad_bias(dZ, gb, units, fracBits, gradFracBits);
  const maxDZ = max_abs(dZ, units);
  const wide = units & ~3;
  const half = i32x4.splat(1 << (fracBits - 1));
  for (let i = 0; i < fanIn; i++) {
    const xi = ld(x, i);
    if (xi == 0) continue;
    const row = gw + ((<usize>i * <usize>units) << 2);
    if (!row_is_fast(xi, maxDZ, 0, fracBits, gradFracBits)) {
      grad_row_exact(xi, dZ, row, units, fracBits, gradFracBits);
      continue;
    }
    const xs = i32x4.splat(xi);
    for (let j = 0; j < wide; j += 4) {
      const at = <usize>j << 2;
      const d = v128.load(dZ + at);
      const bias = i32x4.sub(half, i32x4.shr_u(v128.xor(xs, d), 31));
      const g0 = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(xs, d), i64x2.extend_low_i32x4_s(bias)), fracBits);
      const g1 = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(xs, d), i64x2.extend_high_i32x4_s(bias)), fracBits);
      const g = low_halves(g0, g1);
      const old = v128.load(row + at);
      const sum = i32x4.add(old, g);
      v128.store(row + at, saturate_lanes(sum, v128.and(v128.xor(old, sum), v128.xor(g, sum))));
    }
    grad_row_fast(xi, dZ, row, wide, units, fracBits);
  }
}

/**
 * The bias terms, per unit j, of the two roundings of dense_backward_step, at `tables`:
 *   [0, units)         2^(F−1) − [x·dZ[j] < 0]   for rows with x > 0
 *   [units, 2·units)   2^(G−1) − [lr·g < 0]      for rows with x > 0 (g has dZ[j]'s sign)
 *   [2·units, 4·units) the same two for rows with x < 0.
 * Where dZ[j] = 0 (or lr = 0) the product is 0 and either bias rounds it to 0.
 */
function step_tables(dZ: usize, tables: usize, units: i32, fracBits: i32, gradFracBits: i32, lr: i32): void {
  const halfF = 1 << (fracBits - 1);
  const halfG = 1 << (gradFracBits - 1);
  const negative = tables + (<usize>units << 3);
  const t2 = <usize>units << 2;
  for (let j = 0; j < units; j++) {
    const d = ld(dZ, j);
    st(tables, j, halfF - (d >>> 31));
    st(tables + t2, j, halfG - ((lr ^ d) >>> 31));
    st(negative, j, halfF - (~d >>> 31));
    st(negative + t2, j, halfG - ((lr ^ ~d) >>> 31));
  }
}

/**
 * Four units at a time of one row of dense_backward_step within row_is_fast
 * (units [0, wide)): w −= u wrapping, and with keepGrads gw = g. Returns the OR of
 * every lane's overflow flag ((w ^ u) & (w ^ (w − u)), negative where it wrapped).
 */
// @ts-ignore: decorator
@inline function step_row_lanes(
  x: i32, dZ: usize, t1: usize, t2: usize, wRow: usize, gRow: usize, wide: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): v128 {
  const xs = i32x4.splat(x);
  const rates = i32x4.splat(lr);
  let overflow = i32x4.splat(0);
  for (let j = 0; j < wide; j += 4) {
    const at = <usize>j << 2;
    const d = v128.load(dZ + at);
    const g0 = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(xs, d), v128.load32x2_s(t1 + at)), fracBits);
    const g1 = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(xs, d), v128.load32x2_s(t1 + at, 8)), fracBits);
    const g = low_halves(g0, g1);
    if (keepGrads) v128.store(gRow + at, g);
    const u0 = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(rates, g), v128.load32x2_s(t2 + at)), gradFracBits);
    const u1 = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(rates, g), v128.load32x2_s(t2 + at, 8)), gradFracBits);
    const u = low_halves(u0, u1);
    const old = v128.load(wRow + at);
    const next = i32x4.sub(old, u);
    overflow = v128.or(overflow, v128.and(v128.xor(old, u), v128.xor(old, next)));
    v128.store(wRow + at, next);
  }
  return overflow;
}

/**
 * Redoes the first `wide` units of a row step_row_lanes wrapped in: the old w[j] is
 * (w[j] − u) + u modulo 2^32, then w[j] − u saturating (u recomputed the same way).
 */
function step_row_saturate(x: i32, dZ: usize, wRow: usize, wide: i32, fracBits: i32, gradFracBits: i32, lr: i32): void {
  const xi = <i64>x;
  const rate = <i64>lr;
  for (let j = 0; j < wide; j++) {
    const u = <i32>round_shift_i64(rate * round_shift_i64(xi * <i64>ld(dZ, j), fracBits), gradFracBits);
    st(wRow, j, q_sub_sat(ld(wRow, j) + u, u));
  }
}

/** The units of a row past the last four, within row_is_fast: g and u as q_mul_round_sat gives them, w −= u saturating. */
// @ts-ignore: decorator
@inline function step_row_tail(
  x: i32, dZ: usize, wRow: usize, gRow: usize, from: i32, units: i32,
  fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool,
): void {
  const xi = <i64>x;
  const rate = <i64>lr;
  for (let j = from; j < units; j++) {
    const g = round_shift_i64(xi * <i64>ld(dZ, j), fracBits);
    if (keepGrads) st(gRow, j, <i32>g);
    const u = <i32>round_shift_i64(rate * g, gradFracBits);
    const old = ld(wRow, j);
    const next = old - u;
    st(wRow, j, ((old ^ u) & (old ^ next)) < 0 ? wrapped_bound(next) : next);
  }
}

/** dense.ts dense_backward_step: rows four units at a time, the rounding biases from step_tables. */
// @ts-ignore: decorator
@inline export function dense_backward_step(
  x: usize, dZ: usize, w: usize, b: usize, gw: usize, gb: usize, tables: usize,
  fanIn: i32, units: i32, fracBits: i32, gradFracBits: i32, lr: i32, keepGrads: bool, xBounded: bool = false, // checks per row: no use for xBounded
): void {
  const maxDZ = step_bias(dZ, b, gb, tables, units, fracBits, gradFracBits, lr, keepGrads);
  step_tables(dZ, tables, units, fracBits, gradFracBits, lr); // over step_bias's scalar table, which is not used here
  const absLr = lr < 0 ? -<i64>lr : <i64>lr;
  const t2 = <usize>units << 2;
  const wide = units & ~3;
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
    const t1 = tables + (xi < 0 ? <usize>units << 3 : 0);
    const overflow = keepGrads
      ? step_row_lanes(xi, dZ, t1, t1 + t2, wRow, gRow, wide, fracBits, gradFracBits, lr, true)
      : step_row_lanes(xi, dZ, t1, t1 + t2, wRow, gRow, wide, fracBits, gradFracBits, lr, false);
    if (i32x4.bitmask(overflow) != 0) step_row_saturate(xi, dZ, wRow, wide, fracBits, gradFracBits, lr);
    step_row_tail(xi, dZ, wRow, gRow, wide, units, fracBits, gradFracBits, lr, keepGrads);
  }
}

// Layers of at most eight units above a tanh layer: the scalar kernel serves both targets.
export { dense_backward_step_tanh_below } from "./dense";
