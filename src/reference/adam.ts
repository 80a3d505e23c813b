// Float64 reference of Adam (Kingma & Ba; TF.js's tf.train.adam), at step t ≥ 1:
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
//   p ← p − η·m̂/(√v̂ + ε),  m̂ = m/(1 − β1^t),  v̂ = v/(1 − β2^t)
// Mirrors assembly/adam.ts.

import type { LayerWeights } from "../spec/model.js";
import { mapLayers } from "./sgd.js";

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
  const first = mapLayers([m, grads], (mk, g) => c.beta1 * mk + (1 - c.beta1) * g);
  const second = mapLayers([v, grads], (vk, g) => c.beta2 * vk + (1 - c.beta2) * g * g);
  const c1 = 1 - c.beta1 ** t;
  const c2 = 1 - c.beta2 ** t;
  const next = mapLayers([params, first, second], (p, mk, vk) => p - (c.learningRate * (mk / c1)) / (Math.sqrt(vk / c2) + c.epsilon));
  return { params: next, m: first, v: second };
}
