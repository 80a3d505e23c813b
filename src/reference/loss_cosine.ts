// Float64 reference of the cosine loss of one sample, L = 1 − cos θ with
// cos θ = y·ŷ / (‖y‖ ‖ŷ‖). Mirrors assembly/loss_cosine.ts. (The notes derive cos θ
// itself, a similarity to maximise; the loss to minimise is 1 − cos θ.)
//
// Zero vector: where ‖y‖ = 0 or ‖ŷ‖ = 0 there is no angle. The convention, the
// kernel's too, is cos θ := 0, so L = 1 and the gradient is 0. (Near ‖ŷ‖ = 0 the true
// gradient grows like 1/‖ŷ‖; at exactly 0 it does not exist.)
// Kinks: none besides the zero vector; L is smooth wherever both norms are positive.
//
// Computed with the unit vectors u = y/‖y‖ and v = ŷ/‖ŷ‖ (norms scaled by the largest
// |entry| first, so the squares neither overflow nor underflow), so cos θ = u·v stays
// within rounding of [−1, 1] whatever the scale of y and ŷ.

export function loss_cosine(yHat: number[], y: number[]): number {
  return 1 - cosine(yHat, y).cos;
}

/**
 * ∂L/∂ŷ_i = −∂cos θ/∂ŷ_i = −( y_i/(‖y‖‖ŷ‖) − cos θ · ŷ_i/‖ŷ‖² ) = −(u_i − cos θ · v_i) / ‖ŷ‖.
 * The second term, from ‖ŷ‖ in the denominator, is what the notes' garbled lines lose
 * track of. 0 for a zero vector (see above).
 */
export function loss_cosine_backward(yHat: number[], y: number[]): number[] {
  const { cos, u, v, normYHat } = cosine(yHat, y);
  if (u === undefined || v === undefined) return yHat.map(() => 0);
  return v.map((vi, i) => -(u[i] - cos * vi) / normYHat);
}

function cosine(yHat: number[], y: number[]): { cos: number; u?: number[]; v?: number[]; normYHat: number } {
  if (yHat.length !== y.length) {
    throw new Error(`loss_cosine: output has ${yHat.length} entries, target ${y.length}`);
  }
  const normY = norm(y);
  const normYHat = norm(yHat);
  if (normY === 0 || normYHat === 0) return { cos: 0, normYHat };
  const u = y.map((v) => v / normY);
  const v = yHat.map((p) => p / normYHat);
  return { cos: u.reduce((s, ui, i) => s + ui * v[i], 0), u, v, normYHat };
}

/** ‖x‖ = s·sqrt(Σ (x_j/s)²) with s = max_j |x_j|: Math.hypot without spreading a long array. */
function norm(x: number[]): number {
  const scale = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  return scale * Math.sqrt(x.reduce((s, v) => s + (v / scale) ** 2, 0));
}
