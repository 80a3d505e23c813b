// Float64 reference of the hinge loss of one sample, L = Σ_j max(0, 1 − y_j ŷ_j), for
// targets y_j ∈ {−1, +1} (the spec checks the sample's targets; the formulas below hold
// for any y). Mirrors assembly/loss_hinge.ts.
//
// Kink convention (the same rule for ReLU, hinge and L1): at a kink where one side is
// flat the derivative is 0. Hinge has its kink at the margin y_j ŷ_j = 1, flat on the
// side y_j ŷ_j > 1, so at exactly 1 the gradient is 0.

export function loss_hinge(yHat: number[], y: number[]): number {
  checkLengths(yHat, y);
  return yHat.reduce((sum, p, j) => sum + Math.max(0, 1 - y[j] * p), 0);
}

/**
 * ∂L/∂ŷ_j = −y_j where y_j ŷ_j < 1 (inside the margin), else 0. The notes write the
 * condition y_i ŷ_i ≥ 1: that is backwards, it pushes exactly the samples already
 * classified with margin and leaves the others alone.
 */
export function loss_hinge_backward(yHat: number[], y: number[]): number[] {
  checkLengths(yHat, y);
  // `0 - y` rather than `-y`, so a target of 0 gives +0, not −0.
  return yHat.map((p, j) => (y[j] * p < 1 ? 0 - y[j] : 0));
}

function checkLengths(yHat: number[], y: number[]): void {
  if (yHat.length !== y.length) {
    throw new Error(`loss_hinge: output has ${yHat.length} entries, target ${y.length}`);
  }
}
