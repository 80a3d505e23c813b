// TensorFlow.js (tfjs-core 4.22.0) as an engine, with its wasm backend (XNNPACK,
// SIMD when the runtime has it) or its plain-JavaScript cpu backend.
//
// The network is written with core ops (tfjs-layers is not a dependency): per layer
// z = x·W + b, then the activation; training is an SGD optimizer's minimize() on
// the same loss the module computes (softmax + cross-entropy from the logits, fused;
// L2 as ½ Σ (ŷ − y)²), averaged over the rows of a batch. Every input is a tensor made
// before timing; each step runs inside tf.tidy, so nothing leaks.

import { createRequire, register } from "node:module";
import { dirname } from "node:path";
import type * as TF from "@tensorflow/tfjs-core";
import type { Activation } from "../src/spec/model.js";
import type { EngineCases } from "./engine.js";
import { MINI_BATCH, type BenchModel } from "./models.js";

export type Tfjs = typeof TF;

export const TFJS_BACKENDS = ["wasm", "cpu"] as const;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];

/** Rows per call of the per-sample cases (as for the reference). */
const ROWS_PER_CALL = 16;

const require = createRequire(import.meta.url);

/** The folder holding tfjs-backend-wasm's .wasm binaries (they ship in the npm package). */
export function tfjsWasmFolder(): string {
  return dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
}

/**
 * Loads tfjs-core, both backends and every op's gradient. Prod mode turns off the
 * debug checks and the console hint to install tfjs-node, as in a deployment.
 */
export async function loadTfjs(): Promise<Tfjs> {
  register(new URL("./tfjs-esm-hook.js", import.meta.url));
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-cpu");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  wasm.setWasmPaths(`${tfjsWasmFolder()}/`);
  tf.enableProdMode();
  return tf;
}

export async function useBackend(tf: Tfjs, backend: TfjsBackend): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js: backend "${backend}" failed to initialise`);
  await tf.ready();
}

/** Which of the package's three wasm binaries the wasm backend loaded (after useBackend(tf, "wasm")). */
export function wasmBinaryInUse(tf: Tfjs): string {
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
  const threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");
  if (simd && threads) return "tfjs-backend-wasm-threaded-simd.wasm";
  return simd ? "tfjs-backend-wasm-simd.wasm" : "tfjs-backend-wasm.wasm";
}

function activate(tf: Tfjs, activation: Activation, z: TF.Tensor2D): TF.Tensor2D {
  switch (activation) {
    case "sigmoid":
      return tf.sigmoid(z);
    case "tanh":
      return tf.tanh(z);
    case "relu":
      return tf.relu(z);
    case "linear":
      return z;
    case "softmax":
      return tf.softmax(z);
  }
}

/** The model on the current backend, from its initial weights. */
export function tfjsCases(tf: Tfjs, bench: BenchModel): EngineCases {
  const { model, data } = bench;
  const last = model.layers.length - 1;
  const fusedSoftmax = model.layers[last].activation === "softmax" && model.loss.type === "cross_entropy";
  if (!fusedSoftmax && model.loss.type !== "l2") {
    throw new Error(`${bench.name}: the TF.js engine has softmax + cross_entropy and l2 only, not ${model.loss.type}`);
  }

  // Inside tidy, so the tensors the variables are made from do not outlive them.
  const weights = model.weights.map((w) => tf.tidy(() => tf.variable(tf.tensor2d(w.weight))));
  const biases = model.weights.map((w) => tf.tidy(() => tf.variable(tf.tensor1d(w.bias))));
  const variables = [...weights, ...biases];
  const optimizer = tf.train.sgd(model.learningRate);

  const logits = (x: TF.Tensor2D): TF.Tensor2D => {
    let a = x;
    for (let l = 0; l < last; l++) a = activate(tf, model.layers[l].activation, tf.add(tf.matMul(a, weights[l]), biases[l]));
    return tf.add(tf.matMul(a, weights[last]), biases[last]);
  };
  const output = (x: TF.Tensor2D) => activate(tf, model.layers[last].activation, logits(x));
  /** Per-row loss (summed over the outputs), averaged over the rows. */
  const loss = (x: TF.Tensor2D, y: TF.Tensor2D): TF.Scalar =>
    fusedSoftmax
      ? tf.losses.softmaxCrossEntropy(y, logits(x))
      : tf.div(tf.mul(0.5, tf.sum(tf.squaredDifference(output(x), y))), x.shape[0]);

  const xs = data.inputs.map((row) => tf.tensor2d([row]));
  const ys = data.targets.map((row) => tf.tensor2d([row]));
  const xBatch = tf.tensor2d(data.inputs.slice(0, MINI_BATCH));
  const yBatch = tf.tensor2d(data.targets.slice(0, MINI_BATCH));

  const rows = data.inputs.length;
  let cursor = 0;
  const nextRow = () => {
    const row = cursor;
    cursor = (cursor + 1) % rows;
    return row;
  };
  const step = (x: TF.Tensor2D, y: TF.Tensor2D) =>
    tf.tidy(() => {
      optimizer.minimize(() => loss(x, y), false, variables);
    });
  // Both backends run ops synchronously; reading one value back is a guard that every
  // update has landed before the clock stops.
  const settle = () => biases[last].dataSync();

  return {
    trainSamples: () => {
      for (let k = 0; k < ROWS_PER_CALL; k++) {
        const row = nextRow();
        step(xs[row], ys[row]);
      }
      settle();
      return ROWS_PER_CALL;
    },
    trainBatch: () => {
      step(xBatch, yBatch);
      settle();
      return MINI_BATCH;
    },
    // Each prediction is read back (dataSync), as a caller needs it.
    predictSamples: () => {
      for (let k = 0; k < ROWS_PER_CALL; k++) {
        const y = tf.tidy(() => output(xs[nextRow()]));
        y.dataSync();
        y.dispose();
      }
      return ROWS_PER_CALL;
    },
    dispose() {
      tf.dispose([...variables, ...xs, ...ys, xBatch, yBatch]);
      optimizer.dispose();
    },
  };
}
