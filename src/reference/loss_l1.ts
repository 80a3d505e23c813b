// Float64 reference of the L1 loss of one sample, L = Σ_j |ŷ_j − y_j|. Mirrors assembly/loss_l1.ts.
//
// Kink convention (the same rule for ReLU, hinge and L1): at a kink where one side is
// flat the derivative is 0. L1 has a kink at ŷ_j = y_j with slopes −1 and +1 and no
// flat side; the subgradient 0 is taken there too (the middle of [−1, 1], and the
// kernel's choice), so a unit that hits its target exactly stops pushing.

export function loss_l1(yHat: number[], y: number[]): number {
  checkLengths(yHat, y);
  return yHat.reduce((sum, p, j) => sum + Math.abs(p - y[j]), 0);
}

/**
 * ∂L/∂ŷ_j = sign(ŷ_j − y_j): +1 above the target, −1 below, 0 at equality. (The notes
 * get this right, written |ŷ_k − y_k| / (ŷ_k − y_k).) Written out rather than Math.sign,
 * which returns −0 for −0.
 */
export function loss_l1_backward(yHat: number[], y: number[]): number[] {
  checkLengths(yHat, y);
  return yHat.map((p, j) => {
    const d = p - y[j];
    return d > 0 ? 1 : d < 0 ? -1 : 0;
  });
}

function checkLengths(yHat: number[], y: number[]): void {
  if (yHat.length !== y.length) {
    throw new Error(`loss_l1: output has ${yHat.length} entries, target ${y.length}`);
  }
}
