// Seeded models for tests: a spec with Glorot-initialised weights and a sample.

import { mulberry32, parseSpec } from "../../src/spec/spec.js";
import type { Activation, LossType, Model } from "../../src/spec/model.js";

export interface RandomModelOptions {
  seed: number;
  inputs?: number;
  hidden?: number;
  outputs?: number;
  activations?: [Activation, Activation];
  loss?: LossType;
  learningRate?: number;
}

export function randomSpec(options: RandomModelOptions): Record<string, unknown> {
  const { seed, inputs = 4, hidden = 5, outputs = 3 } = options;
  const next = mulberry32(seed ^ 0x5eed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * next();
  return {
    name: `random-${seed}`,
    inputs,
    layers: [
      { units: hidden, activation: options.activations?.[0] ?? "tanh" },
      { units: outputs, activation: options.activations?.[1] ?? "sigmoid" },
    ],
    loss: { type: options.loss ?? "l2" },
    optimizer: { type: "sgd", learningRate: options.learningRate ?? 0.1 },
    init: { seed },
    sample: {
      input: Array.from({ length: inputs }, () => uniform(-2, 2)),
      target: Array.from({ length: outputs }, () => uniform(0.1, 0.9)),
    },
  };
}

export function randomModel(options: RandomModelOptions): Model {
  return parseSpec(randomSpec(options));
}
