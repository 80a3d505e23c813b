// Float64 reference of ReLU, y = max(0, z). Mirrors assembly/relu.ts.

export function relu_forward(z: number[]): number[] {
  // `v > 0 ? v : 0` rather than Math.max(0, v): maps −0 to +0 and NaN to 0 like the kernel.
  return z.map((v) => (v > 0 ? v : 0));
}

/**
 * dZ_j = dA_j where y_j > 0, else 0. Read from the OUTPUT: y > 0 exactly when z > 0.
 * At z = 0 (y = 0) ReLU has no derivative; this reference, like the kernel, takes
 * the subgradient 0 there. Kink convention (the same rule for ReLU, hinge and L1):
 * where one side of a kink is flat, the derivative at the kink is 0.
 */
export function relu_backward(y: number[], dA: number[]): number[] {
  return y.map((yj, j) => (yj > 0 ? dA[j] : 0));
}
