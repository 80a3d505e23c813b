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
}

/** Huber's delta when the spec gives none (here, not in spec.ts, so the reference needs no parser). */
export const DEFAULT_HUBER_DELTA = 1.0;

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
  learningRate: number;
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
