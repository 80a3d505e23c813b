// Sigmoid activation: forward from the tanh table (lut.ts), backward from the output.
//
// σ(x) = (1 + tanh(x/2)) / 2, so one table serves both activations and sigmoid is
// exact to twice the table's range. The generator folds the 1/2 into posMul.

import { lut_tanh_q30 } from "./lut";
import { ld, q_mul_round_sat, q_rescale_sat, round_shift_i64, st } from "./q";

/**
 * y = σ(x) for x in q.F, result in q.F (rounded half away from zero), always in [0, 1].
 * (1 ± tanh) / 2 in q.31 is 2^30 ± tanh in q.30, in [0, 2^31] (tanh ∈ [0, 2^30]): as a
 * u32 it rounds by adding half (it is never negative) and never needs saturating.
 */
// @ts-ignore: decorator
@inline export function sigmoid_q(
  x: i32, fracBits: i32, table: usize, entries: i32, limit: i64, posMul: i64, posShift: i32, hThirdQ30: i64,
): i32 {
  const sign = x >> 31; // 0 or −1: (v ^ sign) − sign is v or −v
  const ax = <u32>((x ^ sign) - sign);
  const th = <u32>lut_tanh_q30(table, entries, ax, limit, posMul, posShift, hThirdQ30);
  const half: u32 = 1 << 30;
  const v = half + ((th ^ sign) - sign); // 2^30 ± tanh, in [0, 2^31]: no wrap as a u32
  return <i32>((v + (half >> <u32>fracBits)) >> <u32>(31 - fracBits));
}

/** a[j] = σ(z[j]) for n units. */
export function sigmoid_forward(
  z: usize, a: usize, n: i32, fracBits: i32,
  table: usize, entries: i32, limit: i64, posMul: i64, posShift: i32, hThirdQ30: i64,
): void {
  // n ≥ 1 (a layer has units): the loop tests at its end.
  const bytes = <usize>n << 2;
  let at: usize = 0;
  do {
    store<i32>(a + at, sigmoid_q(load<i32>(z + at), fracBits, table, entries, limit, posMul, posShift, hThirdQ30));
    at += 4;
  } while (at < bytes);
}

/**
 * dZ[j] = dA[j] · y[j](1 − y[j]), from the output y (q.F); dA, dZ in q.G.
 * |y| ≤ 2^31 and |1 − y| ≤ 2^31 + 2^F, so the product stays below 2^63.
 * Outputs of forward are in [0, 1], where y(1 − y) ∈ [0, 2^(2F − 2)] rounds without its
 * sign term to at most 2^(F − 2) and dZ = dA·slope / 2^F ≤ |dA| / 4 + 1: neither
 * saturates. Other values (a buffer a host wrote) take the general path.
 */
export function sigmoid_backward(y: usize, dA: usize, dZ: usize, n: i32, fracBits: i32, gradFracBits: i32): void {
  const one = <i64>1 << fracBits;
  const bytes = <usize>n << 2; // n ≥ 1: the loop tests at its end
  let at: usize = 0;
  do {
    const yj = load<i32>(y + at);
    if (<u32>yj <= <u32>one) {
      const slope = (<i64>yj * (one - <i64>yj) + (one >> 1)) >> fracBits;
      store<i32>(dZ + at, <i32>round_shift_i64(<i64>load<i32>(dA + at) * slope, fracBits));
    } else {
      const yw = <i64>yj;
      const slope = q_rescale_sat(yw * (one - yw), 2 * fracBits, fracBits);
      store<i32>(dZ + at, q_mul_round_sat(load<i32>(dA + at), gradFracBits, slope, fracBits, gradFracBits));
    }
    at += 4;
  } while (at < bytes);
}
