// Float64 reference of tanh. Mirrors assembly/tanh.ts.

export function tanh_forward(z: number[]): number[] {
  return z.map(Math.tanh);
}

/**
 * dZ_j = dA_j · (1 − y_j²) with y = tanh(z): the derivative written in the OUTPUT.
 * (The notes lose the "1 −" in their last lines; 1 − tanh² is right.)
 */
export function tanh_backward(y: number[], dA: number[]): number[] {
  return y.map((yj, j) => dA[j] * (1 - yj * yj));
}
