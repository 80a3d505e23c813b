// The float64 reference (src/reference/network.ts) as an engine: plain JavaScript
// arrays of numbers, one sample at a time.

import type { Dataset } from "../src/train/data.js";
import type { LayerWeights, Model } from "../src/spec/model.js";
import { forward, trace, trainStep } from "../src/reference/network.js";
import { sgd_step } from "../src/reference/sgd.js";
import type { EngineCases } from "./engine.js";
import { MINI_BATCH, type BenchModel } from "./models.js";

/** Rows per call of the per-sample cases: small, so a slow engine still fills a quick run's windows. */
const ROWS_PER_CALL = 16;

/** One SGD step on the mean of rows 0 … n−1's gradients (what train_batch(n) does). */
export function meanGradientStep(model: Model, params: LayerWeights[], data: Dataset, n: number): LayerWeights[] {
  const sum = params.map((p) => ({ weight: p.weight.map((row) => row.map(() => 0)), bias: p.bias.map(() => 0) }));
  for (let k = 0; k < n; k++) {
    trace(model, params, data.inputs[k], data.targets[k]).grads.forEach((g, l) => {
      g.weight.forEach((gRow, i) => gRow.forEach((v, j) => (sum[l].weight[i][j] += v)));
      g.bias.forEach((v, j) => (sum[l].bias[j] += v));
    });
  }
  const mean = sum.map((g) => ({ weight: g.weight.map((row) => row.map((v) => v / n)), bias: g.bias.map((v) => v / n) }));
  return sgd_step(params, mean, model.learningRate);
}

export function referenceCases(bench: BenchModel): EngineCases {
  const { model, data } = bench;
  const rows = data.inputs.length;
  let params = model.weights;
  let cursor = 0;
  const nextRow = () => {
    const row = cursor;
    cursor = (cursor + 1) % rows;
    return row;
  };
  return {
    trainSamples: () => {
      for (let k = 0; k < ROWS_PER_CALL; k++) {
        const row = nextRow();
        params = trainStep(model, params, data.inputs[row], data.targets[row]).params;
      }
      return ROWS_PER_CALL;
    },
    trainBatch: () => {
      params = meanGradientStep(model, params, data, MINI_BATCH);
      return MINI_BATCH;
    },
    predictSamples: () => {
      for (let k = 0; k < ROWS_PER_CALL; k++) forward(model, params, data.inputs[nextRow()]);
      return ROWS_PER_CALL;
    },
    dispose() {},
  };
}
