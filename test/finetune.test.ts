// Fine-tuning on the device: an Iris model trained elsewhere (by TensorFlow.js, here in
// the test, in float32) keeps its hidden layer frozen, and only a fresh output layer
// trains, in the fixed-point module and in the float64 reference side by side
// (src/train/train.ts). The module's accuracy must be the reference's within 1 pp,
// and the frozen layer must come out bit for bit as it went in.

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// Gradients for tf.train's minimize (see test/losses.test.ts on why the ESM build).
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { beforeAll, describe, expect, it } from "vitest";
import type { LayerWeights } from "../src/spec/model.js";
import { initWeights, mulberry32, parseSpec } from "../src/spec/spec.js";
import { loadIris } from "../src/train/datasets.js";
import { splitRows, train } from "../src/train/train.js";

const SEED = 1;
const HOLDOUT = 0.2;
/** Held-out accuracy, module minus reference, in percentage points (30 rows: one row is 3.3 pp). */
const ACCURACY_GAP_PP = 1;
/** What a fine-tuned head reaches on Iris from TF.js's features (measured 96.7–100%, printed). */
const MIN_ACCURACY = 0.9;

const iris = loadIris();

/**
 * 4-8-3 tanh → softmax trained by TF.js (Adam, full batch, 300 steps) on the rows that
 * train() will train on, so the held-out rows stay unseen. Returns its float32 weights.
 */
function trainedByTfjs(): LayerWeights[] {
  const { trainRows } = splitRows(iris.inputs.length, HOLDOUT, mulberry32(SEED));
  const start = initWeights({ inputs: 4, layers: [{ units: 8 }, { units: 3 }] }, 42);
  const variables = start.flatMap((w) => [tf.variable(tf.tensor2d(w.weight)), tf.variable(tf.tensor1d(w.bias))]);
  const x = tf.tensor2d(trainRows.map((r) => iris.inputs[r]));
  const y = tf.tensor2d(trainRows.map((r) => iris.targets[r]));
  const optimizer = tf.train.adam(0.05);
  for (let step = 0; step < 300; step++) {
    optimizer.minimize(() => {
      const hidden = tf.tanh(tf.add(tf.matMul(x, variables[0] as tf.Tensor2D), variables[1]));
      const logits = tf.add(tf.matMul(hidden, variables[2] as tf.Tensor2D), variables[3]);
      return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    });
  }
  const values = variables.map((v) => v.arraySync());
  optimizer.dispose();
  tf.dispose([x, y, ...variables]);
  return [
    { weight: values[0] as number[][], bias: values[1] as number[] },
    { weight: values[2] as number[][], bias: values[3] as number[] },
  ];
}

let pretrained: LayerWeights[];
beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
  pretrained = trainedByTfjs();
});

describe("fine-tuning the last layer of an Iris model trained by TensorFlow.js", () => {
  it.each([
    ["sgd", { type: "sgd", learningRate: 0.05 }, "full"],
    ["lean sgd", { type: "sgd", learningRate: 0.05 }, "lean"],
    ["momentum", { type: "sgd", learningRate: 0.02, momentum: 0.9 }, "full"],
    ["adam", { type: "adam", learningRate: 0.02 }, "full"],
  ])("%s: held-out accuracy within 1 pp of the float64 reference's; the frozen layer bit for bit", async (name, optimizer, training) => {
    // A fresh head: seeded Glorot weights, zero biases.
    const head = initWeights({ inputs: 8, layers: [{ units: 3 }] }, 7)[0];
    const model = parseSpec({
      name: "iris-finetune",
      inputs: 4,
      layers: [
        { units: 8, activation: "tanh", trainable: false },
        { units: 3, activation: "softmax" },
      ],
      loss: { type: "cross_entropy" },
      optimizer,
      training,
      weights: [pretrained[0], head],
    });
    const result = await train(model, iris, { epochs: 10, seed: SEED, holdout: HOLDOUT, batch: 1 });
    const a = result.accuracy!;
    expect(a.rows).toBe(30);
    console.log(`${name}: held-out accuracy module ${(a.fixed * 100).toFixed(2)}%, reference ${(a.float * 100).toFixed(2)}%`);
    expect(a.float, "the reference's fine-tuned head").toBeGreaterThanOrEqual(MIN_ACCURACY);
    expect(Math.abs(a.fixed - a.float) * 100, `module ${a.fixed}, reference ${a.float}`).toBeLessThanOrEqual(ACCURACY_GAP_PP);
    // The frozen layer: exactly TF.js's weights rounded to q8.24 (half away from zero), untouched since.
    const F = 2 ** model.format.fracBits;
    const quantize = (w: number) => (Math.sign(w) * Math.round(Math.abs(w) * F)) / F || 0;
    expect(result.params[0].weight.flat()).toEqual(pretrained[0].weight.flat().map(quantize));
    expect(result.params[0].bias).toEqual(pretrained[0].bias.map(quantize));
    expect(result.referenceParams[0]).toEqual(result.params[0]);
    // And the head learnt: not where it started.
    expect(result.params[1].weight.flat()).not.toEqual(head.weight.flat());
  });
});
