// Float64 reference of softmax, y_i = e^{z_i} / Σ_k e^{z_k}. Mirrors assembly/softmax.ts.
//
// Training never calls softmax_backward: with cross-entropy on top, network.ts uses the
// fused ∂L/∂z of loss_cross_entropy_backward_logits (loss_cross_entropy.ts), which is
// what the kernel computes too. The full Jacobian here is for checking, and for a
// softmax under any other loss (which the spec does not allow, but the reference can).

/**
 * y_i = e^{z_i − m} / Σ_k e^{z_k − m} with m = max_k z_k: subtracting the max first
 * changes nothing mathematically and keeps every exponent ≤ 0, so no e^z overflows to
 * Infinity (z = [1000, 0] gives [1, e^−1000 → 0], not NaN) and the largest term is
 * exactly 1, so the sum is in [1, n]. Logits far below the max underflow to 0.
 * Expects finite logits (an Infinity among them gives NaN).
 */
export function softmax_forward(z: number[]): number[] {
  let max = -Infinity;
  for (const v of z) if (v > max || Number.isNaN(v)) max = v;
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

/**
 * The Jacobian-vector product dZ = Jᵀ·dA with J_{ki} = ∂y_k/∂z_i = y_k(δ_{ki} − y_i):
 * the diagonal k = i is y_i(1 − y_i), the off-diagonal −y_k y_i. Summed over k:
 * dZ_i = Σ_k dA_k y_k(δ_{ki} − y_i) = y_i (dA_i − Σ_k y_k dA_k).
 * (The notes' Jacobian puts the case ŷ(1 − ŷ) under v ≠ j; it belongs to the diagonal.)
 * Read from the OUTPUT y, like the other activations.
 */
export function softmax_backward(y: number[], dA: number[]): number[] {
  if (y.length !== dA.length) throw new Error(`softmax_backward: y has ${y.length} entries, dA ${dA.length}`);
  const dot = y.reduce((s, yk, k) => s + yk * dA[k], 0);
  return y.map((yi, i) => yi * (dA[i] - dot));
}
