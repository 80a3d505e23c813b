// Float64 reference of a dense (fully connected) layer, forward and backward.
// Mirrors assembly/dense.ts by name; the fixed-point kernel is checked against it.
//
// Shapes: x has fanIn entries; w.weight is fanIn × units (weight[i][j]: from input i
// to unit j, the notes' W_{ij-l}); w.bias and z have `units` entries.

import type { LayerWeights } from "../spec/model.js";

/** z_j = b_j + Σ_i x_i · w[i][j]. */
export function dense_forward(x: number[], w: LayerWeights): number[] {
  checkShapes(x, w);
  return w.bias.map((b, j) => x.reduce((z, xi, i) => z + xi * w.weight[i][j], b));
}

export interface DenseGrads {
  /** ∂L/∂w[i][j] = x_i · dZ_j, same shape as the weight. */
  dW: number[][];
  /** ∂L/∂b_j = dZ_j. */
  dB: number[];
  /** ∂L/∂x_i = Σ_j w[i][j] · dZ_j: the previous layer's dA. */
  dX: number[];
}

/**
 * Given dZ = ∂L/∂z, returns this sample's gradients as fresh arrays. (The kernel
 * ADDS into the grads buffer; here the caller sums samples if it needs to.)
 */
export function dense_backward(x: number[], w: LayerWeights, dZ: number[]): DenseGrads {
  checkShapes(x, w);
  if (dZ.length !== w.bias.length) {
    throw new Error(`dense_backward: dZ has ${dZ.length} entries, the layer has ${w.bias.length} units`);
  }
  return {
    dW: x.map((xi) => dZ.map((dz) => xi * dz)),
    dB: [...dZ],
    dX: w.weight.map((row) => row.reduce((s, wij, j) => s + wij * dZ[j], 0)),
  };
}

function checkShapes(x: number[], w: LayerWeights): void {
  if (w.weight.length !== x.length) {
    throw new Error(`dense: input has ${x.length} entries, the weight has ${w.weight.length} rows`);
  }
  for (const row of w.weight) {
    if (row.length !== w.bias.length) {
      throw new Error(`dense: a weight row has ${row.length} columns, the bias has ${w.bias.length} entries`);
    }
  }
}
