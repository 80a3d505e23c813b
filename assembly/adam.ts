// Adam (Kingma & Ba; TF.js's tf.train.adam), at step t = 1, 2, …:
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   p ← p − η·m̂/(√v̂ + ε),   m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
//
// State, one i64 per parameter each: m in q.(G + 31), where (1 − β1)·g is exact (a
// product of a q1.31 constant and a q.G gradient), and v in q.(2G), where g² is exact.
// Each update rounds once per term at 2^−31 of the state's own LSB scale (m) or at one
// LSB of q.2G (v: below what the gradient's own rounding, ±½ LSB of q.G, already
// puts into g²). The step ratio R = m̂/(√v̂ + ε) is computed from normalised 31-bit
// operands, so it keeps ~30 significant bits whatever the gradients' scale, and is
// then rounded to q8.24 (ADAM_RATIO_FRAC_BITS): |R| ≤ 1 at t = 1 and ≤ (1 − β1)/√(1 − β2)
// (3.16 for the defaults) when β1² < β2; it saturates at ±128.

import { isqrt_u64 } from "./sqrt";
import { pow_q31 } from "./power";
import {
  clamp_state, div_round_i64, ld, mul_state_q31_round, q_mul_round_sat, q_sub_sat, sat_i32, st, STATE_LIMIT,
} from "./q";

/** Fraction bits of the step ratio R = m̂/(√v̂ + ε). */
export const ADAM_RATIO_FRAC_BITS: i32 = 24;

const ONE_Q31: i64 = <i64>1 << 31;

/** 1 − β^t in q1.31 for β < 2^31 in q1.31 and t ≥ 1, within pow_q31's (t + 31)·2^−32: in [2^31 − β, 2^31]. */
export function bias_correction_q31(beta: i64, t: i32): i64 {
  return ONE_Q31 - pow_q31(beta, t);
}

/** ⌊√c⌋ in q1.31 for c in q1.31, 0 ≤ c ≤ 2^31: ⌊√(c·2^31)⌋, exact floor (isqrt_u64). */
export function sqrt_q31(c: i64): i64 {
  return <i64>isqrt_u64(<u64>(c << 31));
}

/**
 * ⌊√x⌋ for 2^61 ≤ x < 2^63 (and 0 for x = 0), exact, faster than isqrt_u64's 31 digit
 * steps: 16 digits of √(x / 2^32) without branches give r with r·2^16 ≤ √x <
 * (r + 1)·2^16, and r ≥ 2^14; one Newton step from the over-estimate (r + 1)·2^16,
 * s ← (s + x/s)/2, leaves s within √x·δ²/2 + 1 < 4 above ⌊√x⌋ (δ ≤ 2^−14), which a
 * few decrements while s² > x remove (s ≤ 2^31.5, so s² < 2^63: no overflow).
 */
export function sqrt_floor_normalized(x: u64): u64 {
  if (x == 0) return 0;
  let rest = x >> 32;
  let r: u64 = 0;
  let bit: u64 = <u64>1 << 30;
  for (let i = 0; i < 16; i++) {
    const trial = r + bit;
    const fits = rest >= trial;
    rest -= select<u64>(trial, 0, fits);
    r = (r >> 1) + select<u64>(bit, 0, fits);
    bit >>= 2;
  }
  let s = (r + 1) << 16;
  s = (s + x / s) >> 1;
  while (s * s > x) s--;
  return s;
}

/** Bits of x > 0 (64 − clz), and 0 for x = 0. */
// @ts-ignore: decorator
@inline function bit_length(x: i64): i32 {
  return 64 - <i32>clz(x);
}

/**
 * R = m̂ / (√v̂ + ε) in q.24 (ADAM_RATIO_FRAC_BITS), rounded half away from zero and
 * saturated to i32, for m in q.(G + 31) (|m| ≤ 2^62), v in q.(2G) (0 ≤ v ≤ 2^62), the
 * corrections c1 = 1 − β1^t (q1.31, ≥ 1) and r2 = √(1 − β2^t) (q1.31, ≥ 46340 since
 * 1 − β2^t ≥ 2^−31) and epsilon in q.(G + 32) (≤ 2^62).
 *
 * With v·2^2h normalised (h = ⌊(clz v − 1)/2⌋, so 2^61 ≤ v·2^2h < 2^63 for v > 0):
 *   s = ⌊√(v·2^2h)⌋                √v in q.(G + h), ≥ 2^30 when v > 0
 *   D = ⌊s·2^31 / r2⌋ + round(ε·2^(h−32))    √v̂ + ε in q.(G + h), < 2^63; at least 1
 *   R = m · 2^(h+24) / (c1 · D)    with m, D and c1·D each cut to their top 31 bits
 * Each cut, the square root and the division floor a value ≥ 2^30 (when v > 0), so R is
 * within 5·2^−30 relative of the exact ratio before its final rounding. (With v = 0
 * the ε term alone, rounded to an integer, is the denominator.)
 */
export function adam_ratio_q24(m: i64, v: i64, c1: i64, r2: i64, epsilon: i64): i32 {
  if (m == 0) return 0;
  const h = (<i32>clz(v) - 1) >> 1;
  const s = <i64>sqrt_floor_normalized(<u64>v << <u64>(2 * h));
  let d = (s << 31) / (r2 < 1 ? 1 : r2) + ((epsilon + (<i64>1 << (31 - h))) >> (32 - h));
  if (d < 1) d = 1;
  const k1 = max(0, bit_length(d) - 31);
  const q = c1 * (d >> k1);
  const k2 = max(0, bit_length(q) - 31);
  const qn = q >> k2;
  const magnitude = m < 0 ? -m : m;
  const km = max(0, bit_length(magnitude) - 31);
  const mn = magnitude >> km;
  const e = h + ADAM_RATIO_FRAC_BITS + km - k1 - k2;
  let r: i64;
  if (e >= 0) {
    // mn·2^e ≥ 2^62 means R ≥ 2^62 / qn > 2^31: saturated whatever the division gives.
    if (e > 62 || mn >= (<i64>1 << (62 - e))) r = <i64>1 << 31;
    else r = div_round_i64(mn << e, qn);
  } else {
    // mn·2^e < 2^31·2^e ≤ ½ once e ≤ −32, and qn ≥ 1: R rounds to 0.
    r = e <= -32 ? 0 : div_round_i64(mn, qn << -e);
  }
  return sat_i32(m < 0 ? -r : r);
}

/**
 * One Adam step over n trainable parameters, with g = grads[k] / count rounded half
 * away from zero (count ≥ 1: the rows a batch step averages, 1 otherwise):
 *   m[k] ← round(β1·m[k]) + (1 − β1)·g                  q.(G+31), exact but for β1·m's rounding
 *   v[k] ← round(β2·v[k]) + round((1 − β2)·g²)          q.(2G)
 *   p[k] ← p[k] − round(lr · R / 2^24)                  q.F, subtraction saturated
 * beta1, beta2 in q1.31 (< 2^31); state a host overwrote is first clamped (m to ±2^62,
 * v to [0, 2^62]), and both stay there: β + (1 − β) = 1, so m and v are convex
 * combinations of values within the bounds (plus one rounding, clamped).
 */
export function adam_step(
  p: usize, g: usize, m: usize, v: usize, n: i32, lr: i32, fracBits: i32,
  beta1: i64, beta2: i64, c1: i64, r2: i64, epsilon: i64, count: i32,
): void {
  const oneMinusBeta1 = ONE_Q31 - beta1;
  const oneMinusBeta2 = ONE_Q31 - beta2;
  for (let k = 0; k < n; k++) {
    const gk = count > 1 ? div_round_i64(<i64>ld(g, k), count) : <i64>ld(g, k);
    const mAt = m + (<usize>k << 3);
    const vAt = v + (<usize>k << 3);
    const first = clamp_state(mul_state_q31_round(clamp_state(load<i64>(mAt)), beta1) + oneMinusBeta1 * gk);
    let second = load<i64>(vAt);
    second = second < 0 ? 0 : second > STATE_LIMIT ? STATE_LIMIT : second;
    second = mul_state_q31_round(second, beta2) + mul_state_q31_round(gk * gk, oneMinusBeta2);
    if (second > STATE_LIMIT) second = STATE_LIMIT;
    store<i64>(mAt, first);
    store<i64>(vAt, second);
    const ratio = adam_ratio_q24(first, second, c1, r2, epsilon);
    st(p, k, q_sub_sat(ld(p, k), q_mul_round_sat(lr, fracBits, ratio, ADAM_RATIO_FRAC_BITS, fracBits)));
  }
}
