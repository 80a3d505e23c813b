// Float64 reference of Adam (Kingma & Ba; TF.js's tf.train.adam), at step t ≥ 1:
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
//   p ← p − η·m̂/(√v̂ + ε),  m̂ = m/(1 − β1^t),  v̂ = v/(1 − β2^t)
// Mirrors assembly/adam.ts.

import type { LayerWeights } from "../spec/model.js";

export interface AdamConstants {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Step t (from 1); returns the new params and moments, its arguments left untouched. */
export function adam_step(
  params: LayerWeights[], grads: LayerWeights[], m: LayerWeights[], v: LayerWeights[], t: number, c: AdamConstants,
): { params: LayerWeights[]; m: LayerWeights[]; v: LayerWeights[] } {
  if ([grads, m, v].some((x) => x.length !== params.length)) {
    throw new Error(`adam_step: ${params.length} layers of params, ${grads.length} of grads, ${m.length} of m, ${v.length} of v`);
  }
  const c1 = 1 - c.beta1 ** t;
  const c2 = 1 - c.beta2 ** t;
  const first = (mk: number, g: number) => c.beta1 * mk + (1 - c.beta1) * g;
  const second = (vk: number, g: number) => c.beta2 * vk + (1 - c.beta2) * g * g;
  const update = (p: number, mk: number, vk: number) => p - (c.learningRate * (mk / c1)) / (Math.sqrt(vk / c2) + c.epsilon);
  const nextM = m.map((layer, l) => ({
    weight: layer.weight.map((row, i) => row.map((mk, j) => first(mk, grads[l].weight[i][j]))),
    bias: layer.bias.map((mk, j) => first(mk, grads[l].bias[j])),
  }));
  const nextV = v.map((layer, l) => ({
    weight: layer.weight.map((row, i) => row.map((vk, j) => second(vk, grads[l].weight[i][j]))),
    bias: layer.bias.map((vk, j) => second(vk, grads[l].bias[j])),
  }));
  const stepped = params.map((layer, l) => ({
    weight: layer.weight.map((row, i) => row.map((p, j) => update(p, nextM[l].weight[i][j], nextV[l].weight[i][j]))),
    bias: layer.bias.map((p, j) => update(p, nextM[l].bias[j], nextV[l].bias[j])),
  }));
  return { params: stepped, m: nextM, v: nextV };
}
