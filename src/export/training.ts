// The spec's loss and learning rate in Keras' and TF.js' terms, the inverse of what
// `qfirm import` does (src/import/training.ts, LOSS_MAP): those frameworks take the
// mean over the outputs where qfirm sums (l2 is ½ Σ (y − ŷ)²), so the same step needs
// a learning rate n/2 (mse) or n (mae, hinge) times qfirm's.

import { flattenParams } from "../build/layout.js";
import { fromQ, toQ } from "../spec/format.js";
import { outputsOf, type Model } from "../spec/model.js";

export interface FrameworkTraining {
  /** The Keras/TF.js loss name; undefined when TF.js has none (huber). */
  loss?: string;
  learningRate: number;
  line: string;
}

export function frameworkTraining(model: Model): FrameworkTraining {
  const n = outputsOf(model);
  const table: Record<string, { loss?: string; factor: number; why: string }> = {
    l2: { loss: "mean_squared_error", factor: n / 2, why: `× outputs/2 = ${n / 2}: mean of squares, not ½ sum` },
    l1: { loss: "mean_absolute_error", factor: n, why: `× outputs = ${n}: mean, not sum` },
    hinge: { loss: "hinge", factor: n, why: `× outputs = ${n}: mean, not sum` },
    huber: { factor: n, why: "TF.js Layers has no Huber loss" },
    cross_entropy: { loss: "categorical_crossentropy", factor: 1, why: "" },
    cosine: { loss: "cosine_proximity", factor: 1, why: "" },
  };
  const t = table[model.loss.type];
  const learningRate = model.learningRate * t.factor;
  const line = t.loss
    ? `training config: loss ${t.loss}, SGD at ${learningRate}${t.factor !== 1 ? ` (qfirm's ${model.learningRate} ${t.why})` : ""}`
    : `training config: none written (${t.why}); the qfirm record keeps the loss`;
  return { loss: t.loss, learningRate, line };
}

/** How many params a float32 cannot hold exactly (the qfirm record holds them all). */
export function inexactInFloat32(values: number[]): number {
  return values.filter((v) => Math.fround(v) !== v).length;
}

/** The params as the module holds them (the spec's weights rounded to its format), in ABI order. */
export function moduleParams(model: Model): number[] {
  const F = model.format.fracBits;
  return flattenParams(model.weights).map((v) => fromQ(toQ(v, F), F));
}
