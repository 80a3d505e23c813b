// SGD with momentum (TF.js's tf.train.momentum, without Nesterov):
//   v ← μ·v + g
//   p ← p − η·v
//
// The velocity is an i64 per parameter in q.V, V = G + 31 − h with h = ⌈log2(1/(1 − μ))⌉
// bits of headroom (|v| ≤ max|g| / (1 − μ) ≤ 2^h · max|g|), so g is exact in it
// (g·2^(31−h)) and the only rounding is μ·v's, at 2^−(31−h) of a gradient LSB: the
// velocity of tiny gradients keeps every bit the gradient had. 31 ≤ V ≤ 61 (the spec
// keeps h ≤ G).

import { clamp_state, div_round_i64, ld, mul_state_i32_round_sat, mul_state_q31_round, q_sub_sat, st } from "./q";

/**
 * Over n trainable parameters, with g = grads[k] / count rounded half away from zero
 * (count ≥ 1: the rows a batch step averages, 1 otherwise):
 *   v[k] ← round(μ·v[k]) + g·2^(V − G)       (q.V; |v| ≤ 2^62 by the headroom)
 *   p[k] ← p[k] − round(lr·v[k] / 2^V)        (q.F, subtraction saturated)
 * mu in q1.31, 0 < mu ≤ 2^31 − 2^(31 − h). A velocity a host overwrote is first
 * clamped to ±2^62; the update lr·v saturates to i32 (mul_state_i32_round_sat).
 */
export function momentum_step(
  p: usize, g: usize, v: usize, n: i32, lr: i32, mu: i64, gradFracBits: i32, velocityFracBits: i32, count: i32,
): void {
  const gradShift = velocityFracBits - gradFracBits;
  for (let k = 0; k < n; k++) {
    const gk = count > 1 ? div_round_i64(<i64>ld(g, k), count) : <i64>ld(g, k);
    const at = v + (<usize>k << 3);
    const velocity = clamp_state(mul_state_q31_round(clamp_state(load<i64>(at)), mu) + (gk << gradShift));
    store<i64>(at, velocity);
    st(p, k, q_sub_sat(ld(p, k), mul_state_i32_round_sat(velocity, lr, velocityFracBits)));
  }
}
