// tanh activation: forward from the table (lut.ts), backward from the output.

import { lut_tanh_q30 } from "./lut";
import { ld, q_mul_round_sat, q_rescale_sat, round_shift_i64, sat_i32, st } from "./q";

/**
 * y = tanh(x) for x in q.F, result in q.F (rounded half away from zero).
 * Odd symmetry: tanh(−x) = −tanh(x); |x| is taken as a u32 so INT32_MIN is safe.
 * The table value is in [0, 2^30] and rounding half away from zero is odd, so the
 * magnitude rounds alone (in i32: 2^30 + 2^29 fits) and never needs saturating.
 */
// @ts-ignore: decorator
@inline export function tanh_q(
  x: i32, fracBits: i32, table: usize, entries: i32, limit: i64, posMul: i64, posShift: i32, hThirdQ30: i64,
): i32 {
  const sign = x >> 31; // 0 or −1: (v ^ sign) − sign is v or −v
  const ax = <u32>((x ^ sign) - sign);
  let y = <i32>lut_tanh_q30(table, entries, ax, limit, posMul, posShift, hThirdQ30);
  if (fracBits < 30) y = (y + (1 << (29 - fracBits))) >> (30 - fracBits);
  return (y ^ sign) - sign;
}

/** a[j] = tanh(z[j]) for n units. */
export function tanh_forward(
  z: usize, a: usize, n: i32, fracBits: i32,
  table: usize, entries: i32, limit: i64, posMul: i64, posShift: i32, hThirdQ30: i64,
): void {
  // n ≥ 1 (a layer has units): the loop tests at its end.
  const bytes = <usize>n << 2;
  let at: usize = 0;
  do {
    store<i32>(a + at, tanh_q(load<i32>(z + at), fracBits, table, entries, limit, posMul, posShift, hThirdQ30));
    at += 4;
  } while (at < bytes);
}

/**
 * dZ[at] = dA[at] · (1 − y²) (at in bytes), from the output y (q.F); dA, dZ in q.G;
 * one = 2^F (a loop's invariant; addresses formed in the branches, as loops want them).
 * 1 − y² saturates for outputs outside [−1, 1] (only garbage buffers hold those).
 * Inside (every output of forward), y² ≤ 2^2F rounds without its sign term to at most
 * 2^F, so 1 − y² ∈ [0, 2^F] and |dZ| ≤ |dA|: nothing saturates.
 */
// @ts-ignore: decorator
@inline export function tanh_grad_to(dZ: usize, dA: usize, at: usize, y: i32, one: i64, fracBits: i32, gradFracBits: i32): void {
  if (<u32>(y + <i32>one) <= <u32>(2 * one)) {
    const slope = one - ((<i64>y * <i64>y + (one >> 1)) >> fracBits);
    store<i32>(dZ + at, <i32>round_shift_i64(<i64>load<i32>(dA + at) * slope, fracBits));
  } else {
    const yw = <i64>y;
    const ySquared = <i64>q_rescale_sat(yw * yw, 2 * fracBits, fracBits); // |y| ≤ 2^31: y² ≤ 2^62
    const slope = sat_i32(one - ySquared);
    store<i32>(dZ + at, q_mul_round_sat(load<i32>(dA + at), gradFracBits, slope, fracBits, gradFracBits));
  }
}

/** dZ[j] = dA[j] · (1 − y[j]²) for n units (tanh_grad_to). */
export function tanh_backward(y: usize, dA: usize, dZ: usize, n: i32, fracBits: i32, gradFracBits: i32): void {
  const one = <i64>1 << fracBits;
  const bytes = <usize>n << 2; // n ≥ 1: the loop tests at its end
  let at: usize = 0;
  do {
    tanh_grad_to(dZ, dA, at, load<i32>(y + at), one, fracBits, gradFracBits);
    at += 4;
  } while (at < bytes);
}
