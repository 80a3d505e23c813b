// Powers of a q1.31 constant, for Adam's bias corrections and the learning-rate decay.

/**
 * base^t in q1.31 for 0 ≤ base ≤ 2^31 (a value in [0, 1]) and t ≥ 0, by squaring and
 * multiplying: at most 61 products of two values ≤ 2^31 (each ≤ 2^62, no overflow),
 * each rounded half up (half away from zero: all are ≥ 0), none above 2^31.
 * base^0 = 2^31 (1) and base^1 = base exactly. Error against the exact power of the
 * q1.31 base: each rounding adds at most 2^−32, and x ↦ x^k is k-Lipschitz on [0, 1];
 * the square base^(2^j) enters the result ⌊t/2^j⌋ times and each of the ≤ 31
 * multiplications once, so |error| ≤ (t + 31)·2^−32 (in q1.31: (t + 31)/2 LSBs).
 */
export function pow_q31(base: i64, t: i32): i64 {
  let result: i64 = <i64>1 << 31;
  let square = base;
  let e = t;
  while (e > 0) {
    if (e & 1) result = (result * square + (<i64>1 << 30)) >> 31;
    e >>= 1;
    if (e > 0) square = (square * square + (<i64>1 << 30)) >> 31;
  }
  return result;
}
