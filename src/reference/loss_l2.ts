// Float64 reference of the L2 loss of one sample, L = ½ Σ_j (y_j − ŷ_j)². Mirrors assembly/loss_l2.ts.
// (A batch takes the mean of the per-sample losses; that is the caller's business.)

export function loss_l2(yHat: number[], y: number[]): number {
  checkLengths(yHat, y);
  return 0.5 * yHat.reduce((sum, p, j) => sum + (y[j] - p) ** 2, 0);
}

/**
 * ∂L/∂ŷ_j = ŷ_j − y_j. (The last line of the notes' part B divides by y_j;
 * that division does not belong.)
 */
export function loss_l2_backward(yHat: number[], y: number[]): number[] {
  checkLengths(yHat, y);
  return yHat.map((p, j) => p - y[j]);
}

function checkLengths(yHat: number[], y: number[]): void {
  if (yHat.length !== y.length) {
    throw new Error(`loss_l2: output has ${yHat.length} entries, target ${y.length}`);
  }
}
