// The spec's loss and optimizer in TF.js' terms, the inverse of what `qfirm import`
// does (src/import/training.ts, LOSS_MAP): TF.js takes the mean over the outputs where
// qfirm sums (l2 is ½ Σ (y − ŷ)²), so the same step needs a learning rate n/2 (mse) or
// n (mae, hinge) times qfirm's.

import { flattenParams } from "../build/layout.js";
import { fromQ, toQ } from "../spec/format.js";
import { isTrainable, outputsOf, type Model } from "../spec/model.js";

export interface FrameworkTraining {
  /** The Keras/TF.js loss name; undefined when TF.js has none (huber) or the spec does not train. */
  loss?: string;
  /** TF.js's optimizer_config: SGD, Momentum or Adam, as tf.loadLayersModel compiles it. */
  optimizer?: { class_name: string; config: Record<string, number | boolean> };
  lines: string[];
}

/**
 * The spec's loss and optimizer as TF.js trains: its Momentum is qfirm's momentum and
 * its Adam qfirm's Adam (src/import/training.ts says where Keras differs). SGD and
 * Momentum take the loss's factor on the learning rate; Adam's step does not depend
 * on the gradient's scale, only epsilon (added to √v̂) does, so epsilon takes 1/factor.
 * TF.js optimizers have no learning-rate schedule: a decay stays in the qfirm record.
 */
export function frameworkTraining(model: Model): FrameworkTraining {
  if (model.training === "none") return { lines: ["training config: none written (an inference-only spec)"] };
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
  if (!t.loss) return { lines: [`training config: none written (${t.why}); the qfirm record keeps the loss and optimizer`] };
  const o = model.optimizer;
  const scaled = t.factor !== 1 ? ` (qfirm's ${o.learningRate} ${t.why})` : "";
  let optimizer: FrameworkTraining["optimizer"];
  let line: string;
  if (o.type === "adam") {
    const epsilon = o.epsilon / t.factor;
    optimizer = { class_name: "Adam", config: { learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon } };
    const epsilonWhy = t.factor !== 1 ? ` (qfirm's ${o.epsilon} ÷ ${t.factor}: the loss's scale)` : "";
    line = `training config: loss ${t.loss}, Adam at ${o.learningRate}, beta1 ${o.beta1}, beta2 ${o.beta2}, epsilon ${epsilon}${epsilonWhy}`;
  } else {
    const learningRate = o.learningRate * t.factor;
    optimizer =
      o.momentum > 0
        ? { class_name: "Momentum", config: { learningRate, momentum: o.momentum, useNesterov: false } }
        : { class_name: "SGD", config: { learningRate } };
    line = `training config: loss ${t.loss}, ${o.momentum > 0 ? `Momentum (${o.momentum})` : "SGD"} at ${learningRate}${scaled}`;
  }
  const lines = [line];
  if (o.decay) lines.push(`training config: TF.js optimizers have no learning-rate schedule; the qfirm record keeps the ${o.decay.type} decay`);
  return { loss: t.loss, optimizer, lines };
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

/** A line naming the frozen layers, if any. */
export function frozenLines(model: Model, where = "trainable: false in the layer config"): string[] {
  if (model.training === "none") return [];
  const frozen = model.layers.flatMap((layer, l) => (isTrainable(layer) ? [] : [`dense_${l + 1}`]));
  return frozen.length ? [`frozen: ${frozen.join(", ")} (${where})`] : [];
}
