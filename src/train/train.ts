// Training on a data set: the fixed-point module and the float64 reference side by
// side, from the same initial weights, on the same rows in the same order, with the
// same learning rate; so the module's loss curve and accuracy can be read against
// what float64 arithmetic gives.
//
// - Split: one mulberry32(seed) stream. Its first draws shuffle the row indices
//   (Fisher–Yates); the first round(holdout · rows) of them are held out for
//   accuracy, the rest train. Each epoch then draws a fresh Fisher–Yates shuffle of
//   the training rows from the same stream. Same seed, same split, same order.
// - Module: the data set is quantized once (format.ts's rule) into rows laid out as
//   the batch buffer holds them (input then target, one i32 each); each call copies
//   up to `capacity` rows into the buffer with setBatchWords. Batch 1 is per-sample
//   training (train_samples, as many rows per call as the buffer holds); batch N > 1
//   is one optimizer step on the mean gradient of each N rows (train_batch).
// - Reference: src/reference/network.ts, per sample trainStep (batch 1) or the mean
//   of trace's gradients then one optimizer step (batch N), with the spec's optimizer
//   (src/reference/optimizer.ts: SGD, momentum or Adam, the decay, frozen layers), on
//   the data's float values, starting from the module's initial params (the spec's
//   weights rounded to the format, so both start from the very same numbers).

import { buildModel } from "../build/build.js";
import type { Target } from "../build/compile.js";
import type { Dataset } from "./data.js";
import { Firmware } from "../run/driver.js";
import { toQ } from "../spec/format.js";
import { outputsOf, type LayerWeights, type Model } from "../spec/model.js";
import { forward, trace, trainStep } from "../reference/network.js";
import { Optimizer } from "../reference/optimizer.js";
import { mulberry32 } from "../spec/spec.js";

/** Rows of the batch buffer when the spec asks for fewer (or none): enough that a call's overhead vanishes. */
export const DEFAULT_TRAIN_CAPACITY = 64;

export interface TrainOptions {
  epochs: number;
  seed: number;
  /** Fraction of the rows held out for accuracy, in [0, 1). */
  holdout: number;
  /** Rows per SGD step: 1 is per-sample SGD. */
  batch: number;
  /** The module's code target; "web" (optimized for speed) unless told. */
  target?: Target;
  /** After each call into the module (and the reference's matching rows). */
  onProgress?(progress: Progress): void;
  /** After each epoch. */
  onEpoch?(epoch: EpochResult): void;
}

export interface Progress {
  /** 1-based. */
  epoch: number;
  /** Training rows done in this epoch, of `rows`. */
  done: number;
  rows: number;
  /** Mean loss over the rows done so far in this epoch. */
  fixedLoss: number;
  floatLoss: number;
}

export interface EpochResult {
  /** 1-based. */
  epoch: number;
  /** Mean per-sample training loss (before each update) over the epoch: the module's, the reference's. */
  fixedLoss: number;
  floatLoss: number;
  /** Wall time spent in the module (writing rows and training) and in the reference. */
  fixedSeconds: number;
  floatSeconds: number;
}

export type AccuracyRule = "argmax" | "sign" | "threshold";

export interface Accuracy {
  rule: AccuracyRule;
  rows: number;
  /** Fractions in [0, 1]. */
  fixed: number;
  float: number;
}

export interface TrainResult {
  /** The model trained: the input model with a batch buffer. */
  model: Model;
  firmware: Firmware;
  epochs: EpochResult[];
  /** Row indices into the data set. */
  trainRows: number[];
  holdoutRows: number[];
  /** Undefined when nothing is held out or the model has no accuracy rule (one linear output, say). */
  accuracy?: Accuracy;
  /** The module's params after training (exactly its Q values). */
  params: LayerWeights[];
  /** The reference's params after training. */
  referenceParams: LayerWeights[];
  /** The data set quantized, row k at k · (inputs + outputs): the words the module trained on. */
  words: Int32Array;
}

/**
 * How a prediction counts as right: argmax of output against target for several
 * outputs; for one output, its sign against the target's (hinge, targets ±1), or a
 * 0.5 threshold (one sigmoid output); none otherwise.
 */
export function accuracyRule(model: Model): AccuracyRule | undefined {
  if (outputsOf(model) > 1) return "argmax";
  if (model.loss.type === "hinge") return "sign";
  if (model.layers[model.layers.length - 1].activation === "sigmoid") return "threshold";
  return undefined;
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < values.length; j++) if (values[j] > values[best]) best = j;
  return best;
}

export function isCorrect(rule: AccuracyRule, output: ArrayLike<number>, target: ArrayLike<number>): boolean {
  switch (rule) {
    case "argmax":
      return argmax(output) === argmax(target);
    case "sign":
      return output[0] >= 0 === target[0] >= 0;
    case "threshold":
      return output[0] >= 0.5 === target[0] >= 0.5;
  }
}

/** In place, from `next` (uniform [0, 1)). */
function shuffle(values: number[], next: () => number): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
}

/** The held-out and training rows of a data set of `count` rows (see the header). */
export function splitRows(count: number, holdout: number, next: () => number): { trainRows: number[]; holdoutRows: number[] } {
  const order = Array.from({ length: count }, (_, k) => k);
  shuffle(order, next);
  const held = Math.round(count * holdout);
  return { holdoutRows: order.slice(0, held), trainRows: order.slice(held) };
}

/** Every row as the batch buffer holds it: inputs, then targets, in the model's format. */
export function quantizeRows(data: Dataset, model: Model): Int32Array {
  const width = model.inputs + outputsOf(model);
  const F = model.format.fracBits;
  const words = new Int32Array(data.inputs.length * width);
  data.inputs.forEach((input, k) => {
    input.forEach((v, i) => (words[k * width + i] = toQ(v, F, `row ${k + 1} input ${i + 1}`)));
    data.targets[k].forEach((v, j) => (words[k * width + model.inputs + j] = toQ(v, F, `row ${k + 1} target ${j + 1}`)));
  });
  return words;
}

/** The module's outputs for `rows` (indices into `words`), a buffer-full at a time. */
export function predictFixed(firmware: Firmware, words: Int32Array, rows: number[]): number[][] {
  const m = firmware.manifest;
  const width = m.inputs + m.outputs;
  const staging = new Int32Array(firmware.batchCapacity * width);
  const outputs: number[][] = [];
  for (let start = 0; start < rows.length; start += firmware.batchCapacity) {
    const chunk = rows.slice(start, start + firmware.batchCapacity);
    chunk.forEach((row, k) => staging.set(words.subarray(row * width, (row + 1) * width), k * width));
    firmware.setBatchWords(staging, chunk.length);
    outputs.push(...firmware.predictSamples(chunk.length));
  }
  return outputs;
}

export function predictFloat(model: Model, params: LayerWeights[], inputs: number[][]): number[][] {
  return inputs.map((input) => forward(model, params, input).a[model.layers.length - 1]);
}

/** The mean over `rows` of the per-sample gradients, then one optimizer step; the rows' mean loss before it. */
function referenceBatchStep(
  model: Model, params: LayerWeights[], data: Dataset, rows: number[], optimizer: Optimizer,
): { loss: number; params: LayerWeights[] } {
  let loss = 0;
  const sum = params.map((p) => ({ weight: p.weight.map((row) => row.map(() => 0)), bias: p.bias.map(() => 0) }));
  for (const row of rows) {
    const t = trace(model, params, data.inputs[row], data.targets[row]);
    loss += t.loss;
    t.grads.forEach((g, l) => {
      g.weight.forEach((gRow, i) => gRow.forEach((v, j) => (sum[l].weight[i][j] += v)));
      g.bias.forEach((v, j) => (sum[l].bias[j] += v));
    });
  }
  const mean = sum.map((g) => ({ weight: g.weight.map((row) => row.map((v) => v / rows.length)), bias: g.bias.map((v) => v / rows.length) }));
  return { loss: loss / rows.length, params: optimizer.step(params, mean) };
}

/** The model to train: `model` with a batch buffer of at least `batch` rows (DEFAULT_TRAIN_CAPACITY if the spec has fewer). */
export function trainingModel(model: Model, batch: number): Model {
  return { ...model, batchCapacity: Math.max(model.batchCapacity, batch, DEFAULT_TRAIN_CAPACITY) };
}

export async function train(model: Model, data: Dataset, options: TrainOptions): Promise<TrainResult> {
  const { epochs, seed, holdout, batch } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs: ${epochs} is not an integer ≥ 1`);
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch: ${batch} is not an integer ≥ 1`);
  if (!(holdout >= 0 && holdout < 1)) throw new RangeError(`holdout: ${holdout} is not in [0, 1)`);
  if (data.inputs.length !== data.targets.length) throw new RangeError(`data: ${data.inputs.length} inputs, ${data.targets.length} targets`);
  if (model.training === "none") throw new RangeError('training: an inference-only model ("training": "none") cannot train');
  if (model.training === "lean" && batch > 1) {
    throw new RangeError(`batch: ${batch} rows per step needs train_batch, which a "lean" module has not (it trains per sample); use batch 1`);
  }

  const next = mulberry32(seed);
  const { trainRows, holdoutRows } = splitRows(data.inputs.length, holdout, next);
  if (trainRows.length === 0) throw new RangeError(`holdout ${holdout} of ${data.inputs.length} rows leaves none to train on`);

  const trained = trainingModel(model, batch);
  const built = await buildModel(trained, options.target ?? "web");
  const firmware = await Firmware.load(built.wasm, built.manifest);
  const words = quantizeRows(data, trained);
  const width = trained.inputs + outputsOf(trained);
  const capacity = firmware.batchCapacity;
  const staging = new Int32Array(capacity * width);
  const rowsPerCall = batch === 1 ? capacity : batch;

  let params = firmware.params(); // the spec's weights as the module holds them
  const optimizer = new Optimizer(trained);
  const results: EpochResult[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = trainRows.slice();
    shuffle(order, next);
    let fixedSum = 0;
    let floatSum = 0;
    let fixedMs = 0;
    let floatMs = 0;
    for (let start = 0; start < order.length; start += rowsPerCall) {
      const chunk = order.slice(start, start + rowsPerCall);

      let t0 = performance.now();
      chunk.forEach((row, k) => staging.set(words.subarray(row * width, (row + 1) * width), k * width));
      firmware.setBatchWords(staging, chunk.length);
      const chunkLoss = batch === 1 ? firmware.trainSamples(chunk.length) : firmware.trainBatch(chunk.length);
      fixedSum += chunkLoss * chunk.length;
      fixedMs += performance.now() - t0;

      t0 = performance.now();
      if (batch === 1) {
        for (const row of chunk) {
          const step = trainStep(trained, params, data.inputs[row], data.targets[row], optimizer);
          floatSum += step.loss;
          params = step.params;
        }
      } else {
        const step = referenceBatchStep(trained, params, data, chunk, optimizer);
        floatSum += step.loss * chunk.length;
        params = step.params;
      }
      floatMs += performance.now() - t0;

      const done = start + chunk.length;
      options.onProgress?.({ epoch, done, rows: order.length, fixedLoss: fixedSum / done, floatLoss: floatSum / done });
    }
    const result: EpochResult = {
      epoch,
      fixedLoss: fixedSum / order.length,
      floatLoss: floatSum / order.length,
      fixedSeconds: fixedMs / 1000,
      floatSeconds: floatMs / 1000,
    };
    results.push(result);
    options.onEpoch?.(result);
  }

  const rule = accuracyRule(trained);
  let accuracy: Accuracy | undefined;
  if (rule && holdoutRows.length > 0) {
    const fixedOutputs = predictFixed(firmware, words, holdoutRows);
    const floatOutputs = predictFloat(trained, params, holdoutRows.map((row) => data.inputs[row]));
    const rate = (outputs: number[][]) =>
      holdoutRows.filter((row, k) => isCorrect(rule, outputs[k], data.targets[row])).length / holdoutRows.length;
    accuracy = { rule, rows: holdoutRows.length, fixed: rate(fixedOutputs), float: rate(floatOutputs) };
  }

  return {
    model: trained,
    firmware,
    epochs: results,
    trainRows,
    holdoutRows,
    accuracy,
    params: firmware.params(),
    referenceParams: params,
    words,
  };
}

// ---- The trained spec ----

/**
 * The input spec (as parsed JSON) with `weights` set to `params` and `init` removed;
 * every other field, and the fields' order, as it was (`weights` takes the place of
 * `init` when the spec had no weights). Built again, it gives a module holding exactly
 * `params`: they are the module's Q values, which JSON numbers carry exactly.
 */
export function trainedSpec(spec: Record<string, unknown>, params: LayerWeights[]): Record<string, unknown> {
  const weights = params.map((p) => ({ weight: p.weight.map((row) => row.slice()), bias: p.bias.slice() }));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === "weights" || (key === "init" && !("weights" in spec))) out.weights = weights;
    else if (key !== "init") out[key] = value;
  }
  out.weights ??= weights;
  return out;
}

/** The trained spec as text: one line per weight row, so a 784-input spec stays readable. */
export function renderSpec(spec: Record<string, unknown>): string {
  const { weights, ...rest } = spec as { weights?: LayerWeights[] } & Record<string, unknown>;
  const placeholder = "\u0000weights\u0000";
  const text = JSON.stringify(weights === undefined ? rest : { ...spec, weights: placeholder }, null, 2);
  if (weights === undefined) return text + "\n";
  const layers = weights.map((w) => {
    const rows = w.weight.map((row) => `        ${JSON.stringify(row)}`).join(",\n");
    return `    {\n      "weight": [\n${rows}\n      ],\n      "bias": ${JSON.stringify(w.bias)}\n    }`;
  });
  return text.replace(JSON.stringify(placeholder), `[\n${layers.join(",\n")}\n  ]`) + "\n";
}
