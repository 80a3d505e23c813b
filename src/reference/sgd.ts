// Float64 reference of plain SGD, p ← p − learningRate · g. Mirrors assembly/sgd.ts.

import type { LayerWeights } from "../spec/model.js";

/** Returns new parameter objects; `params` and `grads` are left untouched. */
export function sgd_step(params: LayerWeights[], grads: LayerWeights[], learningRate: number): LayerWeights[] {
  if (grads.length !== params.length) {
    throw new Error(`sgd_step: ${params.length} layers of params, ${grads.length} of grads`);
  }
  return params.map((p, l) => {
    const g = grads[l];
    return {
      weight: p.weight.map((row, i) => row.map((w, j) => w - learningRate * g.weight[i][j])),
      bias: p.bias.map((b, j) => b - learningRate * g.bias[j]),
    };
  });
}
