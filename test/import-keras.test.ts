// Keras import: files laid out as Keras 3 (.keras) and Keras 2 (.h5 full model, and an
// architecture .json with a weights-only .h5) write them, with seeded float32
// weights; the module's outputs on 20 inputs against a float64 forward pass of those
// weights in Keras' own terms (test/support/model_files.ts), which folds nothing.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { importModel } from "../src/import/import.js";
import { mulberry32 } from "../src/spec/spec.js";
import { flat, moduleOutputs, seededInputs } from "./support/imported.js";
import { draws, forward64, matrix, writeKeras2H5, writeKeras2WeightsH5, writeKeras3, type RefStep } from "./support/model_files.js";
import { expectWithin, IMPORT_AGREEMENT } from "./tolerance.js";

let dir: string;
const next = mulberry32(2024);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qfirm-keras-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const dtypePolicy = { module: "keras", class_name: "DTypePolicy", config: { name: "float32" }, registered_name: null };

function dense3(name: string, units: number, activation: string) {
  return {
    module: "keras.layers",
    class_name: "Dense",
    config: { name, trainable: true, dtype: dtypePolicy, units, activation, use_bias: true, kernel_initializer: { module: "keras.initializers", class_name: "GlorotUniform", config: { seed: null }, registered_name: null } },
    registered_name: null,
  };
}

async function agree(spec: Record<string, unknown>, reference: RefStep[], width: number, label: string): Promise<void> {
  const inputs = seededInputs(7, 20, width);
  const actual = await moduleOutputs(spec, inputs);
  const expected = inputs.map((x) => forward64(reference, x));
  const worst = expectWithin(flat(actual), flat(expected), IMPORT_AGREEMENT.absolute, `module vs float64 (${label})`);
  console.log(`agreement, ${label}: worst ${worst.error.toExponential(2)} = ${(worst.error * 2 ** 24).toFixed(1)} LSB of q8.24`);
}

describe("Keras import", () => {
  test("Keras 3 .keras (Sequential, SGD with momentum, mse): agrees with float64 on 20 inputs", async () => {
    const k1 = draws(next, 5 * 6, -1, 1);
    const b1 = draws(next, 6, -0.5, 0.5);
    const k2 = draws(next, 6 * 4, -1.5, 1.5);
    const b2 = draws(next, 4, -0.5, 0.5);
    const config = {
      module: "keras",
      class_name: "Sequential",
      config: {
        name: "sequential",
        trainable: true,
        dtype: dtypePolicy,
        layers: [
          { module: "keras.layers", class_name: "InputLayer", config: { batch_shape: [null, 5], dtype: "float32", sparse: false, name: "input_layer" }, registered_name: null },
          dense3("dense", 6, "relu"),
          dense3("dense_1", 4, "linear"),
        ],
        build_input_shape: [null, 5],
      },
      registered_name: null,
      build_config: { input_shape: [null, 5] },
      compile_config: {
        optimizer: {
          module: "keras.optimizers",
          class_name: "SGD",
          config: { name: "SGD", learning_rate: 0.05, weight_decay: null, clipnorm: null, global_clipnorm: null, clipvalue: null, use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null, gradient_accumulation_steps: null, momentum: 0.9, nesterov: false },
          registered_name: null,
        },
        loss: "mean_squared_error",
        loss_weights: null,
        metrics: null,
        weighted_metrics: null,
        run_eagerly: false,
        steps_per_execution: 1,
        jit_compile: false,
      },
    };
    const path = join(dir, "model.keras");
    await writeKeras3(path, config, [
      { path: "layers/dense", vars: [{ name: "0", shape: [5, 6], values: k1 }, { name: "1", shape: [6], values: b1 }] },
      { path: "layers/dense_1", vars: [{ name: "0", shape: [6, 4], values: k2 }, { name: "1", shape: [4], values: b2 }] },
      { path: "optimizer", vars: [{ name: "0", shape: [], values: [40] }, { name: "1", shape: [5, 6], values: k1.map(() => 0.01) }] },
    ]);
    const { spec, lines } = await importModel(path, {});
    const text = lines.join("\n");
    expect(lines[0]).toMatch(/Keras 3 \.keras/);
    expect(text).toMatch(/layers\[0\] "input_layer": InputLayer, skipped/);
    expect(text).toMatch(/loss: l2 \(the Keras compile config records "mean_squared_error"\)/);
    // Keras' v ← 0.9·v − 0.05·g; p ← p + v is qfirm's momentum at 0.05 (× 2/4 for mse's mean).
    expect(text).toMatch(/optimizer: sgd, learning rate 0\.05 × 2\/outputs \(mean of squares → ½ sum\) = 0\.025, momentum 0\.9 \(the Keras compile config records SGD at 0\.05, momentum 0\.9\)/);
    expect(text).not.toMatch(/dropped/);
    expect(spec.optimizer).toEqual({ type: "sgd", learningRate: 0.025, momentum: 0.9 });
    await agree(
      spec,
      [
        { kind: "dense", kernel: matrix(k1, 5, 6), bias: b1, activation: "relu" },
        { kind: "dense", kernel: matrix(k2, 6, 4), bias: b2, activation: "linear" },
      ],
      5,
      "Keras 3 .keras",
    );
  });

  test("Keras 2 full-model .h5 (Dropout, BatchNormalization, Activation, Adam, a frozen layer): agrees with float64", async () => {
    const k1 = draws(next, 4 * 5, -1, 1);
    const b1 = draws(next, 5, -0.3, 0.3);
    const k2 = draws(next, 5 * 3, -1, 1);
    const b2 = draws(next, 3, -0.3, 0.3);
    const gamma = draws(next, 3, 0.5, 1.5);
    const beta = draws(next, 3, -0.5, 0.5);
    const mean = draws(next, 3, -0.5, 0.5);
    const variance = draws(next, 3, 0.2, 2);
    const dense2 = (name: string, units: number, activation: string, extra: Record<string, unknown> = {}) => ({
      module: "keras.layers",
      class_name: "Dense",
      config: { name, trainable: true, dtype: "float32", units, activation, use_bias: true, ...extra },
      registered_name: null,
    });
    const modelConfig = {
      class_name: "Sequential",
      config: {
        name: "sequential",
        layers: [
          { module: "keras.layers", class_name: "InputLayer", config: { batch_input_shape: [null, 4], dtype: "float32", sparse: false, ragged: false, name: "dense_input" }, registered_name: null },
          dense2("dense", 5, "tanh", { trainable: false, batch_input_shape: [null, 4] }),
          { module: "keras.layers", class_name: "Dropout", config: { name: "dropout", trainable: true, dtype: "float32", rate: 0.3, noise_shape: null, seed: null }, registered_name: null },
          dense2("dense_1", 3, "linear"),
          { module: "keras.layers", class_name: "BatchNormalization", config: { name: "batch_normalization", trainable: true, dtype: "float32", axis: [1], momentum: 0.99, epsilon: 0.001, center: true, scale: true }, registered_name: null },
          { module: "keras.layers", class_name: "Activation", config: { name: "activation", trainable: true, dtype: "float32", activation: "sigmoid" }, registered_name: null },
        ],
      },
    };
    const trainingConfig = {
      loss: "binary_crossentropy",
      metrics: null,
      weighted_metrics: null,
      loss_weights: null,
      optimizer_config: { class_name: "Custom>Adam", config: { name: "Adam", weight_decay: null, clipnorm: null, global_clipnorm: null, clipvalue: null, use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, jit_compile: false, is_legacy_optimizer: false, learning_rate: 0.0010000000474974513, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false } },
    };
    const path = join(dir, "full.h5");
    await writeKeras2H5(path, modelConfig, trainingConfig, [
      { name: "dense", weights: [{ name: "dense/kernel:0", shape: [4, 5], values: k1 }, { name: "dense/bias:0", shape: [5], values: b1 }] },
      { name: "dropout", weights: [] },
      { name: "dense_1", weights: [{ name: "dense_1/kernel:0", shape: [5, 3], values: k2 }, { name: "dense_1/bias:0", shape: [3], values: b2 }] },
      {
        name: "batch_normalization",
        weights: [
          { name: "batch_normalization/gamma:0", shape: [3], values: gamma },
          { name: "batch_normalization/beta:0", shape: [3], values: beta },
          { name: "batch_normalization/moving_mean:0", shape: [3], values: mean },
          { name: "batch_normalization/moving_variance:0", shape: [3], values: variance },
        ],
      },
      { name: "activation", weights: [] },
    ]);
    const { spec, lines } = await importModel(path, {});
    const text = lines.join("\n");
    expect(lines[0]).toMatch(/Keras 2 full-model \.h5/);
    expect(text).toMatch(/layers\[1\] "dense": not trainable: the spec's layers\[0\] is frozen \("trainable": false\)/);
    expect(text).toMatch(/layers\[4\] "batch_normalization": BatchNormalization \(inference statistics, epsilon 0\.001\), folded into layers\[3\] "dense_1"/);
    expect(text).toMatch(/layers\[5\] "activation": sigmoid, folded into layers\[3\] "dense_1"/);
    expect(text).toMatch(/loss: l2 \(default: the last layer is not softmax\); the Keras training_config records "binary_crossentropy", which qfirm does not have/);
    expect(text).toMatch(/optimizer: adam, learning rate 0\.0010000000474974513, beta1 0\.9, beta2 0\.999, epsilon 1e-7 \(the Keras training_config records Adam at 0\.0010000000474974513\)/);
    expect(text).toMatch(/Keras adds epsilon to √v, not to √v̂/);
    expect(spec.optimizer).toEqual({ type: "adam", learningRate: 0.0010000000474974513, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(spec.layers).toEqual([
      { units: 5, activation: "tanh", trainable: false },
      { units: 3, activation: "sigmoid" },
    ]);
    await agree(
      spec,
      [
        { kind: "dense", kernel: matrix(k1, 4, 5), bias: b1, activation: "tanh" },
        { kind: "dense", kernel: matrix(k2, 5, 3), bias: b2, activation: "linear" },
        { kind: "bn", gamma, beta, mean, variance, epsilon: 0.001 },
        { kind: "act", activation: "sigmoid" },
      ],
      4,
      "Keras 2 .h5",
    );
  });

  test("Keras architecture .json (Functional) with --weights .h5: agrees with float64", async () => {
    const k1 = draws(next, 3 * 4, -2, 2);
    const b1 = draws(next, 4, -0.5, 0.5);
    const k2 = draws(next, 4 * 3, -2, 2);
    const b2 = draws(next, 3, -0.5, 0.5);
    const architecture = {
      class_name: "Functional",
      config: {
        name: "model",
        trainable: true,
        layers: [
          { class_name: "InputLayer", config: { batch_input_shape: [null, 3], dtype: "float32", sparse: false, ragged: false, name: "input_1" }, name: "input_1", inbound_nodes: [] },
          { class_name: "Dense", config: { name: "dense", trainable: true, dtype: "float32", units: 4, activation: "sigmoid", use_bias: true }, name: "dense", inbound_nodes: [[["input_1", 0, 0, {}]]] },
          { class_name: "Dense", config: { name: "dense_1", trainable: true, dtype: "float32", units: 3, activation: "softmax", use_bias: true }, name: "dense_1", inbound_nodes: [[["dense", 0, 0, {}]]] },
        ],
        input_layers: [["input_1", 0, 0]],
        output_layers: [["dense_1", 0, 0]],
      },
      keras_version: "2.15.0",
      backend: "tensorflow",
    };
    const jsonPath = join(dir, "arch.json");
    const weightsPath = join(dir, "weights.h5");
    await writeFile(jsonPath, JSON.stringify(architecture));
    await writeKeras2WeightsH5(weightsPath, [
      { name: "input_1", weights: [] },
      { name: "dense", weights: [{ name: "dense/kernel:0", shape: [3, 4], values: k1 }, { name: "dense/bias:0", shape: [4], values: b1 }] },
      { name: "dense_1", weights: [{ name: "dense_1/kernel:0", shape: [4, 3], values: k2 }, { name: "dense_1/bias:0", shape: [3], values: b2 }] },
    ]);
    const { spec, lines } = await importModel(jsonPath, { weights: weightsPath, name: "functional-net" });
    expect(lines[0]).toMatch(/Keras architecture \.json with .*weights\.h5 \(Keras 2 weights\)/);
    expect(lines.join("\n")).toMatch(/loss: cross_entropy \(default: the last layer is softmax; the file records no loss\)/);
    expect(spec.name).toBe("functional-net");
    await agree(
      spec,
      [
        { kind: "dense", kernel: matrix(k1, 3, 4), bias: b1, activation: "sigmoid" },
        { kind: "dense", kernel: matrix(k2, 4, 3), bias: b2, activation: "softmax" },
      ],
      3,
      "Keras .json + weights .h5",
    );
  });
});
