// Float64 reference of SGD with momentum, v ← μ·v + g; p ← p − η·v (TF.js's
// tf.train.momentum without Nesterov). Mirrors assembly/momentum.ts.

import type { LayerWeights } from "../spec/model.js";

/** Returns the new params and velocity; its arguments are left untouched. */
export function momentum_step(
  params: LayerWeights[], grads: LayerWeights[], velocity: LayerWeights[], learningRate: number, momentum: number,
): { params: LayerWeights[]; velocity: LayerWeights[] } {
  if (grads.length !== params.length || velocity.length !== params.length) {
    throw new Error(`momentum_step: ${params.length} layers of params, ${grads.length} of grads, ${velocity.length} of velocity`);
  }
  const next = velocity.map((v, l) => ({
    weight: v.weight.map((row, i) => row.map((vij, j) => momentum * vij + grads[l].weight[i][j])),
    bias: v.bias.map((vj, j) => momentum * vj + grads[l].bias[j]),
  }));
  const stepped = params.map((p, l) => ({
    weight: p.weight.map((row, i) => row.map((w, j) => w - learningRate * next[l].weight[i][j])),
    bias: p.bias.map((b, j) => b - learningRate * next[l].bias[j]),
  }));
  return { params: stepped, velocity: next };
}
