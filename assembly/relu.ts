// ReLU activation. Derivative from the output: 1 where y > 0, else 0 (0 at y = 0,
// the convention at the kink).

import { ld, st } from "./q";

/** a[j] = max(0, z[j]). */
export function relu_forward(z: usize, a: usize, n: i32): void {
  for (let j = 0; j < n; j++) {
    const zj = ld(z, j);
    st(a, j, zj > 0 ? zj : 0);
  }
}

/** dZ[j] = dA[j] where y[j] > 0, else 0. */
export function relu_backward(y: usize, dA: usize, dZ: usize, n: i32): void {
  for (let j = 0; j < n; j++) st(dZ, j, ld(y, j) > 0 ? ld(dA, j) : 0);
}
