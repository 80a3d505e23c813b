// Float64 reference of the Huber loss of one sample with threshold δ > 0. Mirrors
// assembly/loss_huber.ts. With d_j = ŷ_j − y_j:
//   L = Σ_j ( ½ d_j²             where |d_j| ≤ δ
//           ( δ (|d_j| − ½ δ)    elsewhere
// The spec's loss.delta, default 1 (DEFAULT_HUBER_DELTA in model.ts).
//
// Kink convention: Huber has no kink. At |d| = δ both branches give the same value
// (½ δ²) and the same slope (±δ), so the derivative there is ±δ from either side; the
// rule "0 where one side of a kink is flat" (ReLU, hinge, L1) never applies.

export function loss_huber(yHat: number[], y: number[], delta: number): number {
  checkArguments(yHat, y, delta);
  return yHat.reduce((sum, p, j) => {
    const d = Math.abs(p - y[j]);
    return sum + (d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta));
  }, 0);
}

/**
 * ∂L/∂ŷ_j = d_j where |d_j| ≤ δ, else δ · sign(d_j): the L2 slope, clipped to [−δ, δ].
 * (The notes' second branch is garbled.)
 */
export function loss_huber_backward(yHat: number[], y: number[], delta: number): number[] {
  checkArguments(yHat, y, delta);
  return yHat.map((p, j) => {
    const d = p - y[j];
    if (Math.abs(d) <= delta) return d;
    return d > 0 ? delta : -delta;
  });
}

function checkArguments(yHat: number[], y: number[], delta: number): void {
  if (yHat.length !== y.length) {
    throw new Error(`loss_huber: output has ${yHat.length} entries, target ${y.length}`);
  }
  if (!(delta > 0) || !Number.isFinite(delta)) throw new Error(`loss_huber: delta must be positive and finite, got ${delta}`);
}
