// Float64 reference of plain SGD, p ← p − learningRate · g. Mirrors assembly/sgd.ts.

import type { LayerWeights } from "../spec/model.js";

/** Returns new parameter objects; `params` and `grads` are left untouched. */
export function sgd_step(params: LayerWeights[], grads: LayerWeights[], learningRate: number): LayerWeights[] {
  return mapLayers([params, grads], (p, g) => p - learningRate * g);
}

/**
 * Element by element over layers of the same shape (the optimizers' state is shaped
 * like the params): f of the corresponding elements of each, as fresh layers.
 */
export function mapLayers(tensors: LayerWeights[][], f: (...values: number[]) => number): LayerWeights[] {
  const [first] = tensors;
  for (const other of tensors) {
    if (other.length !== first.length) throw new Error(`optimizer: ${first.length} layers against ${other.length}`);
  }
  // One arguments array, refilled per element: no allocation in the inner loop.
  const values = new Array<number>(tensors.length);
  const apply = (pick: (t: LayerWeights[]) => number) => {
    for (let k = 0; k < tensors.length; k++) values[k] = pick(tensors[k]);
    return f.apply(undefined, values);
  };
  return first.map((layer, l) => ({
    weight: layer.weight.map((row, i) => row.map((_, j) => apply((t) => t[l].weight[i][j]))),
    bias: layer.bias.map((_, j) => apply((t) => t[l].bias[j])),
  }));
}
