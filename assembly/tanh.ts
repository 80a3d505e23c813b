// tanh activation: forward from the table (lut.ts), backward from the output.

import { lut_tanh_q30 } from "./lut";
import { ld, q_mul_round_sat, q_rescale_sat, sat_i32, st } from "./q";

/**
 * y = tanh(x) for x in q.F, result in q.F (rounded half away from zero).
 * Odd symmetry: tanh(−x) = −tanh(x); |x| is taken in i64 so INT32_MIN is safe.
 */
// @ts-ignore: decorator
@inline export function tanh_q(
  x: i32, fracBits: i32, table: usize, entries: i32, limit: i64, posMul: i64, posShift: i32, hThirdQ30: i64,
): i32 {
  const ax = x < 0 ? -<i64>x : <i64>x;
  const y = lut_tanh_q30(table, entries, ax, limit, posMul, posShift, hThirdQ30);
  return q_rescale_sat(x < 0 ? -y : y, 30, fracBits);
}

/** a[j] = tanh(z[j]) for n units. */
export function tanh_forward(
  z: usize, a: usize, n: i32, fracBits: i32,
  table: usize, entries: i32, limit: i64, posMul: i64, posShift: i32, hThirdQ30: i64,
): void {
  for (let j = 0; j < n; j++) {
    st(a, j, tanh_q(ld(z, j), fracBits, table, entries, limit, posMul, posShift, hThirdQ30));
  }
}

/**
 * dZ[j] = dA[j] · (1 − y[j]²), from the output y (q.F); dA, dZ in q.G.
 * 1 − y² saturates for outputs outside [−1, 1] (only garbage buffers hold those).
 */
export function tanh_backward(y: usize, dA: usize, dZ: usize, n: i32, fracBits: i32, gradFracBits: i32): void {
  const one = <i64>1 << fracBits;
  for (let j = 0; j < n; j++) {
    const yj = <i64>ld(y, j);
    const ySquared = <i64>q_rescale_sat(yj * yj, 2 * fracBits, fracBits); // |y| ≤ 2^31: y² ≤ 2^62
    const slope = sat_i32(one - ySquared);
    st(dZ, j, q_mul_round_sat(ld(dA, j), gradFracBits, slope, fracBits, gradFracBits));
  }
}
