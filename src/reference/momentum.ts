// Float64 reference of SGD with momentum, v ← μ·v + g; p ← p − η·v (TF.js's
// tf.train.momentum without Nesterov). Mirrors assembly/momentum.ts.

import type { LayerWeights } from "../spec/model.js";
import { mapLayers } from "./sgd.js";

/** Returns the new params and velocity; its arguments are left untouched. */
export function momentum_step(
  params: LayerWeights[], grads: LayerWeights[], velocity: LayerWeights[], learningRate: number, momentum: number,
): { params: LayerWeights[]; velocity: LayerWeights[] } {
  const next = mapLayers([grads, velocity], (g, v) => momentum * v + g);
  return { params: mapLayers([params, next], (p, v) => p - learningRate * v), velocity: next };
}
