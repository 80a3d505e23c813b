// Plain SGD: p ← p − η·g.

import { ld, q_mul_round_sat, q_sub_sat, st } from "./q";

/**
 * p[k] −= lr·g[k] for n elements: lr in q.F, g in q.G, p in q.P.
 * The update rounds half away from zero to q.P; the subtraction saturates.
 */
export function sgd_step(p: usize, g: usize, n: i32, lr: i32, fracBits: i32, gradFracBits: i32, paramFracBits: i32): void {
  for (let k = 0; k < n; k++) {
    st(p, k, q_sub_sat(ld(p, k), q_mul_round_sat(lr, fracBits, ld(g, k), gradFracBits, paramFracBits)));
  }
}
