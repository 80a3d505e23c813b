// Linear (identity) activation: a = z, dZ = dA.

import { ld, st } from "./q";

export function linear_forward(z: usize, a: usize, n: i32): void {
  for (let j = 0; j < n; j++) st(a, j, ld(z, j));
}

/** dZ = dA; dA and dZ share the gradient format, so this is a copy. */
export function linear_backward(dA: usize, dZ: usize, n: i32): void {
  for (let j = 0; j < n; j++) st(dZ, j, ld(dA, j));
}
