// What every engine offers the benchmark: one runner per task, over a BenchModel's
// rows, each starting from the model's initial weights.

import type { Runner } from "./measure.js";

export const ENGINES = ["qfirm-node", "qfirm-mcu", "native-c", "float64-js", "reference", "tfjs-wasm", "tfjs-cpu"] as const;
/** The --target mcu module in the microcontroller interpreters, on this machine (per-sample training only). */
export const INTERPRETERS = ["wasm3", "wamr-fast", "wamr-classic"] as const;
export type EngineName = (typeof ENGINES)[number] | (typeof INTERPRETERS)[number];

export const TASKS = ["train", "infer"] as const;
export type Task = (typeof TASKS)[number];

export interface EngineCases {
  /** Per-sample SGD (batch 1, as on a device): one update per row. */
  trainSamples: Runner;
  /** Batched training: one SGD step on the mean gradient of MINI_BATCH rows. */
  trainBatch: Runner;
  /** Inference, one row at a time. */
  predictSamples: Runner;
  /** Frees what the engine holds for this model (TF.js tensors). */
  dispose(): void;
}
