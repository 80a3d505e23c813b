// Float64 reference of the cross-entropy loss of one sample, L = −Σ_j y_j log ŷ_j, for
// ŷ = softmax(z). Mirrors assembly/loss_cross_entropy.ts. (The notes' J carries a 1/m
// over m samples: a batch takes the mean of the per-sample losses, the caller's business.)
//
// Three entry points, as the network needs them:
// - loss_cross_entropy_logits(z, y): the loss from the logits by log-sum-exp, finite
//   even where ŷ_j underflows to 0. network.ts uses it whenever it has z (always).
// - loss_cross_entropy_backward_logits(ŷ, y): ∂L/∂z through the softmax, fused: what
//   training uses, and what the kernel computes.
// - loss_cross_entropy(ŷ, y) and loss_cross_entropy_backward(ŷ, y): the loss and ∂L/∂ŷ
//   from the probabilities alone, for checking and for the trace's dA.
//
// Kinks: none; the loss is smooth in z. Where ŷ_j = 0 it is infinite in ŷ (see below).

/**
 * −Σ_j y_j log ŷ_j. A term with y_j = 0 is 0 whatever ŷ_j (the limit of y log ŷ; this
 * also keeps 0 · log 0 from being NaN). A term with y_j > 0 and ŷ_j = 0 is +Infinity,
 * the true value: use loss_cross_entropy_logits when the logits are at hand.
 */
export function loss_cross_entropy(yHat: number[], y: number[]): number {
  checkLengths(yHat, y);
  return yHat.reduce((sum, p, j) => (y[j] === 0 ? sum : sum - y[j] * Math.log(p)), 0);
}

/**
 * The same loss from the logits: log ŷ_j = z_j − LSE(z) with
 * LSE(z) = log Σ_k e^{z_k} = m + log Σ_k e^{z_k − m}, m = max_k z_k, so
 * L = Σ_j y_j (LSE(z) − z_j). Every term is finite for finite z (Σ_k e^{z_k − m} ∈ [1, n]),
 * however far below the max a logit lies.
 */
export function loss_cross_entropy_logits(z: number[], y: number[]): number {
  checkLengths(z, y);
  let max = -Infinity;
  for (const v of z) if (v > max || Number.isNaN(v)) max = v;
  const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
  return z.reduce((sum, zj, j) => sum + y[j] * (lse - zj), 0);
}

/**
 * ∂L/∂ŷ_j = −y_j / ŷ_j. 0 where y_j = 0 (also when ŷ_j = 0: the term is absent from L);
 * −Infinity (for y_j > 0) where ŷ_j = 0, the true slope there. Training does not use it
 * (see loss_cross_entropy_backward_logits); the trace reports it as dA of the last layer.
 */
export function loss_cross_entropy_backward(yHat: number[], y: number[]): number[] {
  checkLengths(yHat, y);
  return yHat.map((p, j) => (y[j] === 0 ? 0 : -y[j] / p));
}

/**
 * ∂L/∂z_i through ŷ = softmax(z), fused: L = (Σ_j y_j)·LSE(z) − Σ_j y_j z_j, so
 * ∂L/∂z_i = ŷ_i · Σ_j y_j − y_i. For a one-hot y, or any y with Σ y = 1, that is the
 * familiar ŷ_i − y_i (the notes' (ŷ_ij − y_ij)/m, per sample); for Σ y ≠ 1 the short form
 * is wrong and this exact one is right, so it is what is computed.
 * Needs no division by ŷ, so it is finite where ŷ_j underflows to 0.
 */
export function loss_cross_entropy_backward_logits(yHat: number[], y: number[]): number[] {
  checkLengths(yHat, y);
  const total = y.reduce((s, v) => s + v, 0);
  return yHat.map((p, i) => p * total - y[i]);
}

function checkLengths(yHat: number[], y: number[]): void {
  if (yHat.length !== y.length) {
    throw new Error(`loss_cross_entropy: output has ${yHat.length} entries, target ${y.length}`);
  }
}
