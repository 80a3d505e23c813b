// The model a spec describes, with every default applied. Everything downstream
// (codegen, reference, driver, manifest) reads this, never the raw spec.

export const ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear", "softmax"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export const LOSSES = ["l2", "l1", "huber", "hinge", "cross_entropy", "cosine"] as const;
export type LossType = (typeof LOSSES)[number];

/** qI.F: a 32-bit two's-complement integer holding round(v · 2^F); I + F = 32, sign bit in I. */
export interface QFormat {
  bits: 32;
  fracBits: number;
}

export interface Layer {
  units: number;
  activation: Activation;
  /**
   * false freezes the layer: no gradient storage, no update, and backward stops at the
   * lowest trainable layer. Absent means true (parseSpec always sets it).
   */
  trainable?: boolean;
}

/** Huber's delta when the spec gives none (here, not in spec.ts, so the reference needs no parser). */
export const DEFAULT_HUBER_DELTA = 1.0;

/**
 * What the module can do:
 * - "full": forward, backward into a grads buffer, optimizer steps (ABI v1);
 * - "lean": per-sample training with the SGD step fused into backward and no grads buffer;
 * - "none": inference only (forward and predict_samples; no target, no backward code).
 */
export const TRAINING_MODES = ["full", "lean", "none"] as const;
export type Training = (typeof TRAINING_MODES)[number];

/** A learning-rate schedule counted in optimizer steps t = 0, 1, 2, …: η_t = η · rate^(t/steps) ("exponential") or η · rate^⌊t/steps⌋ ("step"). */
export interface Decay {
  type: "exponential" | "step";
  rate: number;
  steps: number;
}

/** SGD, with momentum when momentum > 0: v ← μ·v + g; p ← p − η·v (momentum 0 is plain SGD, p ← p − η·g). */
export interface SgdOptimizer {
  type: "sgd";
  learningRate: number;
  momentum: number;
  decay?: Decay;
}

/** Adam (Kingma & Ba): m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; p ← p − η·m̂/(√v̂ + ε). */
export interface AdamOptimizer {
  type: "adam";
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  decay?: Decay;
}

export type Optimizer = SgdOptimizer | AdamOptimizer;

export interface Loss {
  type: LossType;
  /** Huber only: where the loss turns from quadratic to linear. */
  delta?: number;
}

/** Sigmoid and tanh tables: `entries` values of tanh on [0, range]. */
export interface LutConfig {
  entries: number;
  range: number;
}

export interface LayerWeights {
  /** weight[i][j]: from input i to unit j. */
  weight: number[][];
  bias: number[];
}

export interface Sample {
  input: number[];
  /** Zeros where an inference-only spec gave none (its module has no target). */
  target: number[];
}

export interface Model {
  name: string;
  /** Inputs, outputs, activations and params. */
  format: QFormat;
  /** Gradients and the backward pass's deltas. */
  gradFormat: QFormat;
  inputs: number;
  layers: Layer[];
  loss: Loss;
  /** The optimizer's base learning rate (optimizer.learningRate). */
  learningRate: number;
  optimizer: Optimizer;
  training: Training;
  lut: LutConfig;
  /** Rows of the batch buffer (train_samples, train_batch, predict_samples); 0 leaves them out. */
  batchCapacity: number;
  weights: LayerWeights[];
  sample?: Sample;
}

export function outputsOf(model: Model): number {
  return model.layers[model.layers.length - 1].units;
}

export function fanInOf(model: Model, layer: number): number {
  return layer === 0 ? model.inputs : model.layers[layer - 1].units;
}

/** Bits of headroom momentum's velocity needs over the gradient: |v| ≤ max|g| / (1 − μ) ≤ 2^h · max|g|. */
export function velocityHeadroomBits(momentum: number): number {
  return Math.ceil(Math.log2(1 / (1 - momentum)));
}

/** Whether the optimizer keeps state beside the params: momentum's velocity, Adam's moments. */
export function hasOptimizerState(model: Model): boolean {
  return model.optimizer.type === "adam" || model.optimizer.momentum > 0;
}

/** Whether the module counts its optimizer steps (Adam's bias correction, a learning-rate decay). */
export function countsSteps(model: Model): boolean {
  return model.training !== "none" && (model.optimizer.type === "adam" || model.optimizer.decay !== undefined);
}

/** The lowest layer that trains; backward stops there. -1 when nothing trains. */
export function lowestTrainable(model: Model): number {
  return model.training === "none" ? -1 : model.layers.findIndex((layer) => isTrainable(layer));
}

export function isTrainable(layer: Layer): boolean {
  return layer.trainable !== false;
}

/** The same model built for inference only (`qfirm build --inference-only`): its training fields are ignored. */
export function inferenceOnly(model: Model): Model {
  return { ...model, training: "none", layers: model.layers.map(({ units, activation }) => ({ units, activation })) };
}

/** The spec's `optimizer` field for a model's optimizer: what parseSpec reads back as the same optimizer. */
export function optimizerField(o: Optimizer): Record<string, unknown> {
  const decay = o.decay ? { decay: { ...o.decay } } : {};
  return o.type === "adam"
    ? { type: "adam", learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, ...decay }
    : { type: "sgd", learningRate: o.learningRate, ...(o.momentum > 0 ? { momentum: o.momentum } : {}), ...decay };
}

/** Which optimizer runs, with its constants, the decay, the training mode and which layers train. */
export function describeTraining(model: Model): string {
  if (model.training === "none") return "training none (inference only: no loss, no optimizer)";
  const o = model.optimizer;
  const constants =
    o.type === "adam"
      ? `learning rate ${o.learningRate}, beta1 ${o.beta1}, beta2 ${o.beta2}, epsilon ${o.epsilon}`
      : `learning rate ${o.learningRate}${o.momentum > 0 ? `, momentum ${o.momentum}` : ""}`;
  const name = o.type === "adam" ? "adam" : o.momentum > 0 ? "sgd with momentum" : "sgd";
  const decay = o.decay ? `; ${o.decay.type} decay: rate ${o.decay.rate} every ${o.decay.steps} steps` : "";
  const trained = model.layers.flatMap((layer, l) => (isTrainable(layer) ? [l] : []));
  const layers = trained.length === model.layers.length ? "all layers train" : `layers trained: ${trained.join(", ")} (others frozen)`;
  return `optimizer: ${name} (${constants})${decay}; training ${model.training}, ${layers}`;
}
