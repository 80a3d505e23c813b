// Q-format arithmetic shared by every kernel.
//
// A qI.F value is an i32 holding round(v · 2^F); the sign bit counts in I, I + F = 32.
// Rounding rule, everywhere: round half away from zero.
// Saturation rule, everywhere: results clamp to [INT32_MIN, INT32_MAX]; nothing wraps.
// Formats are compile-time constants in every generated module, so the branches on
// them below fold away after inlining.

/** Clamps an i64 to [INT32_MIN, INT32_MAX]. */
// @ts-ignore: decorator
@inline export function sat_i32(x: i64): i32 {
  if (x > <i64>i32.MAX_VALUE) return i32.MAX_VALUE;
  if (x < <i64>i32.MIN_VALUE) return i32.MIN_VALUE;
  return <i32>x;
}

/**
 * x / 2^shift rounded half away from zero: (x + 2^(shift−1) − [x < 0]) >> shift.
 * shift ≥ 1. Cannot overflow while |x| ≤ 2^63 − 2^shift, which every caller keeps
 * (products of two i32 are ≤ 2^62; accumulators are pre-shifted to stay below 2^62 + 2^61).
 */
// @ts-ignore: decorator
@inline export function round_shift_i64(x: i64, shift: i32): i64 {
  return (x + (<i64>1 << (shift - 1)) - <i64>(<u64>x >> 63)) >> shift;
}

/**
 * Rescales x from `from` to `to` fraction bits and narrows to i32, saturating.
 * Dropping bits rounds half away from zero; adding bits saturates before shifting.
 * x must satisfy round_shift_i64's bound when from > to; an up-shift is at most 30
 * bits (formats have 1 to 30 fraction bits).
 */
// @ts-ignore: decorator
@inline export function q_rescale_sat(x: i64, from: i32, to: i32): i32 {
  if (from > to) return sat_i32(round_shift_i64(x, from - to));
  if (from == to) return sat_i32(x);
  const shift = to - from;
  if (x > (<i64>i32.MAX_VALUE >> shift)) return i32.MAX_VALUE;
  if (x < (<i64>i32.MIN_VALUE >> shift)) return i32.MIN_VALUE;
  return <i32>(x << shift);
}

/**
 * q_rescale_sat for x ≥ 0 (sums of squares and magnitudes): rounding needs no sign
 * term and only the upper bound can be crossed.
 */
// @ts-ignore: decorator
@inline export function q_rescale_sat_nonneg(x: i64, from: i32, to: i32): i32 {
  let r = x;
  if (from > to) r = (x + (<i64>1 << (from - to - 1))) >> (from - to);
  else if (from < to) {
    if (x > (<i64>i32.MAX_VALUE >> (to - from))) return i32.MAX_VALUE;
    r = x << (to - from);
  }
  return r > <i64>i32.MAX_VALUE ? i32.MAX_VALUE : <i32>r;
}

/** a·b for a in q.fa, b in q.fb, result in q.fr; rounded, saturated. fa + fb > fr. |a·b| ≤ 2^62. */
// @ts-ignore: decorator
@inline export function q_mul_round_sat(a: i32, fa: i32, b: i32, fb: i32, fr: i32): i32 {
  return q_rescale_sat(<i64>a * <i64>b, fa + fb, fr);
}

/** a + b, saturated. */
// @ts-ignore: decorator
@inline export function q_add_sat(a: i32, b: i32): i32 {
  return sat_i32(<i64>a + <i64>b);
}

/** a − b, saturated. */
// @ts-ignore: decorator
@inline export function q_sub_sat(a: i32, b: i32): i32 {
  return sat_i32(<i64>a - <i64>b);
}

/** Reads element i of an i32 buffer. */
// @ts-ignore: decorator
@inline export function ld(buffer: usize, i: i32): i32 {
  return load<i32>(buffer + (<usize>i << 2));
}

/** Writes element i of an i32 buffer. */
// @ts-ignore: decorator
@inline export function st(buffer: usize, i: i32, value: i32): void {
  store<i32>(buffer + (<usize>i << 2), value);
}

/** Sets n elements to zero (a loop: bulk memory is not on every microcontroller runtime). */
export function q_zero(buffer: usize, n: i32): void {
  for (let i = 0; i < n; i++) st(buffer, i, 0);
}

/** a / b rounded half away from zero, b > 0; |a| + b/2 < 2^63. */
// @ts-ignore: decorator
@inline export function div_round_i64(a: i64, b: i64): i64 {
  const half = b >> 1;
  return a >= 0 ? (a + half) / b : -((-a + half) / b);
}

/** x · 2^shift for shift of either sign: left shifts saturate to i64 bounds callers keep; right shifts round. */
// @ts-ignore: decorator
@inline export function shift_round_i64(x: i64, shift: i32): i64 {
  if (shift > 0) return x << shift;
  if (shift < 0) return round_shift_i64(x, -shift);
  return x;
}

/** Copies n elements. */
export function q_copy(from: usize, to: usize, n: i32): void {
  for (let i = 0; i < n; i++) st(to, i, ld(from, i));
}

// ---- 62-bit state values (the optimizers' i64 velocity and moments) ----
//
// Optimizer state keeps ~31 more fraction bits than the gradients it accumulates, so
// a gradient's contribution is exact in it; every state value stays within ±2^62.

/** The bound every state value keeps: 2^62. */
export const STATE_LIMIT: i64 = <i64>1 << 62;

/** Clamps an i64 to [−2^62, 2^62]: the range of a state value (memory a host overwrote included). */
// @ts-ignore: decorator
@inline export function clamp_state(x: i64): i64 {
  return x > STATE_LIMIT ? STATE_LIMIT : x < -STATE_LIMIT ? -STATE_LIMIT : x;
}

/**
 * round(x·c / 2^31) for |x| ≤ 2^62 and 0 ≤ c ≤ 2^31 (a q1.31 constant in [0, 1]),
 * rounded half away from zero, exactly: |x| = h·2^31 + l with h ≤ 2^31, l < 2^31,
 * so |x|·c / 2^31 = h·c + l·c / 2^31 with h·c ≤ 2^62 and l·c < 2^62. |result| ≤ |x|.
 */
export function mul_state_q31_round(x: i64, c: i64): i64 {
  const magnitude = x < 0 ? -x : x;
  const h = magnitude >> 31;
  const l = magnitude & 0x7fffffff;
  const r = h * c + ((l * c + (<i64>1 << 30)) >> 31);
  return x < 0 ? -r : r;
}

/**
 * round(x·q / 2^shift) for |x| ≤ 2^62, any i32 q and 31 ≤ shift ≤ 62, rounded half away
 * from zero, then saturated to i32: a state value times a q.F rate, back to q.F. With
 * |x| = h·2^31 + l (h ≤ 2^31, l < 2^31) and A = h·|q|, B = l·|q| (each ≤ 2^62):
 * round = ⌊(A + 2^(shift−32) + ⌊B / 2^31⌋) / 2^(shift−31)⌋ for shift > 31, and
 * A + ⌊(B + 2^30) / 2^31⌋ for shift = 31; every sum stays below 2^63.
 */
export function mul_state_i32_round_sat(x: i64, q: i32, shift: i32): i32 {
  const magnitude = x < 0 ? -x : x;
  const qMagnitude = q < 0 ? -<i64>q : <i64>q;
  const a = (magnitude >> 31) * qMagnitude;
  const b = (magnitude & 0x7fffffff) * qMagnitude;
  const r = shift == 31 ? a + ((b + (<i64>1 << 30)) >> 31) : (a + (<i64>1 << (shift - 32)) + (b >> 31)) >> (shift - 31);
  return sat_i32((x < 0) != (q < 0) ? -r : r);
}
