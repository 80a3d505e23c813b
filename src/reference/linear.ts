// Float64 reference of the identity activation. Mirrors assembly/linear.ts.

export function linear_forward(z: number[]): number[] {
  return [...z];
}

/** dZ = dA: the derivative of the identity is 1 (the output y is not needed). */
export function linear_backward(y: number[], dA: number[]): number[] {
  if (y.length !== dA.length) throw new Error(`linear_backward: y has ${y.length} entries, dA ${dA.length}`);
  return [...dA];
}
