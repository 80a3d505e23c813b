// Learning-rate decay counted in optimizer steps:
//   exponential  η_t = η · rate^(t / steps)
//   step         η_t = η · rate^⌊t / steps⌋
// for the t-th step, t = 0, 1, 2, … (the steps taken before it).

import { pow_q31 } from "./power";

/**
 * η_t in q.F (the format of lr): lr · rate^n · rho^k with n = ⌊t/steps⌋, k = t mod steps,
 * rate and rho in q1.31: rho = rate^(1/steps) for "exponential" (the product is then
 * rate^(t/steps)) and rho = 2^31 (1) for "step". steps ≥ 1 and t ≥ 0 (the generator
 * and advance_step guarantee both). The factor (q1.31, in [0, 2^31]) is within
 * (n + k + 63)·2^−32 of rate^n·rho^k for the q1.31 constants (pow_q31 twice, one
 * product rounded half up); the constants' own rounding (≤ 2^−32 each) adds at most
 * (n + k)·2^−32 against the real rate^(t/steps). η_t = round(lr · factor / 2^31), half
 * away from zero: |lr · factor| ≤ 2^62 and |η_t| ≤ |lr|, so nothing saturates.
 */
export function decayed_rate(lr: i32, t: i32, steps: i32, rate: i64, rho: i64): i32 {
  const whole = pow_q31(rate, t / steps);
  const factor = rho == (<i64>1 << 31) ? whole : (whole * pow_q31(rho, t % steps) + (<i64>1 << 30)) >> 31;
  const product = <i64>lr * factor;
  const magnitude = product < 0 ? -product : product;
  const rounded = (magnitude + (<i64>1 << 30)) >> 31;
  return <i32>(product < 0 ? -rounded : rounded);
}
