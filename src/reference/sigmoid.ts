// Float64 reference of the logistic sigmoid σ(z) = 1 / (1 + e^−z). Mirrors assembly/sigmoid.ts.

/**
 * σ(z) element-wise. For z < 0 it uses the equivalent e^z / (1 + e^z), so e^−z
 * is never taken of a large positive number: no overflow to Infinity and no loss
 * of relative precision in the tiny values of the left tail (σ(−700) ≈ e^−700).
 */
export function sigmoid_forward(z: number[]): number[] {
  return z.map((v) => {
    if (v >= 0) return 1 / (1 + Math.exp(-v));
    const e = Math.exp(v);
    return e / (1 + e);
  });
}

/**
 * dZ_j = dA_j · σ'(z_j), with σ'(z) = σ(z)(1 − σ(z)) written in the OUTPUT
 * y = σ(z), as the notes derive it (part B) and as the kernel does.
 */
export function sigmoid_backward(y: number[], dA: number[]): number[] {
  return y.map((yj, j) => dA[j] * yj * (1 - yj));
}
