// What `qfirm import` keeps of how a model trains: frozen layers, momentum, Adam and
// Keras' ExponentialDecay, and what it names and drops.
//
// - TF.js writes and trains: a model compiled with tf.train.momentum or tf.train.adam,
//   its first layer frozen, saved before any step; imported; then TF.js trains it on 30
//   rows one at a time while the float64 reference trains the imported spec on the
//   same rows. The two agree to float32's precision, which only holds if momentum,
//   Adam's constants, the loss's scale and the frozen layer all came across.
// - Keras' compile configs (as Keras 3 and tf.keras serialize them) give the spec's
//   optimizer by the frameworks' documented formulas; what qfirm lacks is named.

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import * as tfl from "@tensorflow/tfjs-layers";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { flattenParams } from "../src/build/layout.js";
import { foldChain } from "../src/import/chain.js";
import { importModel } from "../src/import/import.js";
import type { Step } from "../src/import/steps.js";
import { chooseTraining } from "../src/import/training.js";
import { Optimizer } from "../src/reference/optimizer.js";
import { trainStep } from "../src/reference/network.js";
import type { LayerWeights, Model } from "../src/spec/model.js";
import { parseSpec } from "../src/spec/spec.js";
import { seededInputs } from "./support/imported.js";
import { savedArtifacts, writeTfjs } from "./support/tfjs_files.js";
import { expectWithin } from "./tolerance.js";

const STEPS = 30;
/**
 * |TF.js − float64 reference| per param after 30 steps, absolute. Both start from the
 * same weights up to q8.24's rounding (≤ 3e-8); TF.js computes in float32 (each step a
 * few roundings of 2^−24 relative on values ≤ 2). Measured: 1.8e-7 (momentum), 2.0e-7
 * (Adam), printed.
 */
const TRAJECTORY_TOLERANCE = 1e-5;

let dir: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = await mkdtemp(join(tmpdir(), "qfirm-import-training-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A 3-5-3 model (tanh, frozen; then `last`), compiled and saved by TF.js before any step. */
async function tfjsModel(name: string, optimizer: tf.Optimizer, loss: string, last: string): Promise<{ model: tfl.Sequential; path: string }> {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ units: 5, activation: "tanh", inputShape: [3], trainable: false, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  model.add(tfl.layers.dense({ units: 3, activation: last as "linear", kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }), biasInitializer: "ones" }));
  model.compile({ optimizer, loss });
  const folder = await mkdtemp(join(dir, `${name}-`));
  return { model, path: await writeTfjs(folder, await savedArtifacts(model)) };
}

function rows(): { x: number[][]; y: number[][] } {
  const x = seededInputs(31, STEPS, 3, 1.5);
  const y = seededInputs(32, STEPS, 3, 1).map((t) => {
    const k = t.indexOf(Math.max(...t));
    return t.map((_, j) => (j === k ? 1 : 0));
  });
  return { x, y };
}

async function tfjsTrained(model: tfl.Sequential, x: number[][], y: number[][]): Promise<number[]> {
  for (let k = 0; k < x.length; k++) await model.trainOnBatch(tf.tensor2d([x[k]]), tf.tensor2d([y[k]]));
  return weightsOf(model);
}

/** Layer by layer, kernel then bias: qfirm's order (model.getWeights() puts frozen layers last). */
function weightsOf(model: tfl.Sequential): number[] {
  return model.layers.flatMap((layer) => layer.getWeights().flatMap((w) => Array.from(w.dataSync())));
}

function referenceTrained(model: Model, x: number[][], y: number[][]): LayerWeights[] {
  const optimizer = new Optimizer(model);
  let params = model.weights;
  for (let k = 0; k < x.length; k++) params = trainStep(model, params, x[k], y[k], optimizer).params;
  return params;
}

describe("TF.js: the optimizer and the frozen layer come across, step for step", () => {
  test("tf.train.momentum(0.05, 0.9) with mean squared error, first layer frozen", async () => {
    const { model, path } = await tfjsModel("momentum", tf.train.momentum(0.05, 0.9), "meanSquaredError", "linear");
    const before = weightsOf(model);
    const { spec, lines } = await importModel(path, {});
    const text = lines.join("\n");
    expect(text).toMatch(/not trainable: the spec's layers\[0\] is frozen/);
    // mse is the mean over 3 outputs where qfirm's l2 is ½ Σ: η × 2/3.
    expect(text).toMatch(/optimizer: sgd, learning rate 0\.05 × 2\/outputs \(mean of squares → ½ sum\) = 0\.0333\d*, momentum 0\.9 \(the TF\.js trainingConfig records Momentum at 0\.05, momentum 0\.9\)/);
    expect(spec.layers).toEqual([{ units: 5, activation: "tanh", trainable: false }, { units: 3, activation: "linear" }]);
    expect(spec.optimizer).toEqual({ type: "sgd", learningRate: (0.05 * 2) / 3, momentum: 0.9 });

    const { x, y } = rows();
    const fromTfjs = await tfjsTrained(model, x, y);
    const imported = parseSpec(spec);
    const fromReference = referenceTrained(imported, x, y);
    expect(fromReference[0]).toEqual(imported.weights[0]); // frozen: untouched
    expect(fromTfjs.slice(0, 20)).toEqual(before.slice(0, 20)); // and in TF.js too
    const worst = expectWithin(flattenParams(fromReference), fromTfjs, TRAJECTORY_TOLERANCE, "reference vs TF.js, momentum");
    console.log(`import, TF.js momentum: worst |reference − TF.js| after ${STEPS} steps ${worst.error.toExponential(2)}`);
    // The check can tell: dropping the momentum, as import did before, moves the weights far off.
    const plain = referenceTrained(parseSpec({ ...spec, optimizer: { type: "sgd", learningRate: (0.05 * 2) / 3 } }), x, y);
    expect(Math.max(...flattenParams(plain).map((v, k) => Math.abs(v - fromTfjs[k])))).toBeGreaterThan(100 * TRAJECTORY_TOLERANCE);
  });

  test("tf.train.adam(0.02, 0.8, 0.99, 0.01) with mean squared error: epsilon takes the loss's scale", async () => {
    const { model, path } = await tfjsModel("adam", tf.train.adam(0.02, 0.8, 0.99, 0.01), "meanSquaredError", "sigmoid");
    const { spec, lines } = await importModel(path, {});
    const text = lines.join("\n");
    expect(text).toMatch(/optimizer: adam, learning rate 0\.02, beta1 0\.8, beta2 0\.99, epsilon 0\.01 ÷ 2\/outputs \(mean of squares → ½ sum\) = 0\.015/);
    expect(text).not.toMatch(/Keras adds epsilon/); // TF.js adds it to √v̂, as qfirm does
    expect(spec.optimizer).toEqual({ type: "adam", learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 0.01 / (2 / 3) });

    const { x, y } = rows();
    const fromTfjs = await tfjsTrained(model, x, y);
    const imported = parseSpec(spec);
    const fromReference = referenceTrained(imported, x, y);
    expect(fromReference[0]).toEqual(imported.weights[0]);
    const worst = expectWithin(flattenParams(fromReference), fromTfjs, TRAJECTORY_TOLERANCE, "reference vs TF.js, adam");
    console.log(`import, TF.js adam: worst |reference − TF.js| after ${STEPS} steps ${worst.error.toExponential(2)}`);
    // An epsilon not rescaled would train visibly differently.
    const unscaled = referenceTrained(parseSpec({ ...spec, optimizer: { ...(spec.optimizer as object), epsilon: 0.01 } }), x, y);
    expect(Math.max(...flattenParams(unscaled).map((v, k) => Math.abs(v - fromTfjs[k])))).toBeGreaterThan(10 * TRAJECTORY_TOLERANCE);
  });
});

/** A one-layer chain with `outputs` linear units, as foldChain gives it. */
function chain(outputs: number, activation = "linear") {
  const kernel = { name: "k", shape: [2, outputs], values: new Float64Array(2 * outputs) };
  return foldChain([{ kind: "dense", where: "layers[0]", kernel, activation }]);
}

const keras = (optimizer: unknown, loss = "mean_squared_error") => ({
  source: "the Keras compile config",
  framework: "keras" as const,
  loss: { name: loss, config: {} },
  optimizer: optimizer as { name: string; config: Record<string, unknown> },
});

/** Keras 3's serialized ExponentialDecay. */
const exponentialDecay = (staircase: boolean) => ({
  module: "keras.optimizers.schedules",
  class_name: "ExponentialDecay",
  config: { initial_learning_rate: 0.1, decay_steps: 50, decay_rate: 0.5, staircase, name: "ExponentialDecay" },
  registered_name: null,
});

describe("Keras compile configs", () => {
  test("SGD with momentum and a staircase ExponentialDecay: momentum and a step decay, with the note on decaying momentum", () => {
    const choice = chooseTraining(keras({ name: "SGD", config: { name: "SGD", learning_rate: exponentialDecay(true), momentum: 0.9, nesterov: false } }), chain(4));
    // ExponentialDecay: η·rate^(t/steps), floored with staircase; mse over 4 outputs: η × 2/4.
    expect(choice.optimizer).toEqual({ type: "sgd", learningRate: 0.05, momentum: 0.9, decay: { type: "step", rate: 0.5, steps: 50 } });
    expect(choice.lines.join("\n")).toMatch(/Keras weighs each gradient by its own step's rate/);
  });

  test("Adam with an ExponentialDecay (no staircase), clipnorm and weight decay: Adam and an exponential decay; clipnorm and weight decay named", () => {
    const config = { name: "adam", learning_rate: exponentialDecay(false), beta_1: 0.85, beta_2: 0.995, epsilon: 1e-6, amsgrad: false, clipnorm: 1, weight_decay: 0.004, use_ema: false };
    const choice = chooseTraining(keras({ name: "Adam", config }, "categorical_crossentropy"), chain(3, "softmax"));
    expect(choice.optimizer).toEqual({ type: "adam", learningRate: 0.1, beta1: 0.85, beta2: 0.995, epsilon: 1e-6, decay: { type: "exponential", rate: 0.5, steps: 50 } });
    expect(choice.lines.join("\n")).toMatch(/dropped \(qfirm has no such setting\): clipnorm 1; weight_decay 0\.004/);
  });

  test("rules qfirm lacks fall back to plain SGD at the learning rate, named: Nesterov, AMSGrad, RMSprop", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: "SGD", config: { learning_rate: 0.2, momentum: 0.9, nesterov: true } }, /plain SGD; dropped: Nesterov momentum 0\.9 \(qfirm's momentum is not Nesterov's\)/],
      [{ name: "Adam", config: { learning_rate: 0.2, amsgrad: true } }, /plain SGD; dropped: AMSGrad/],
      [{ name: "RMSprop", config: { learning_rate: 0.2, rho: 0.9 } }, /plain SGD; dropped: RMSprop's own update rule/],
    ];
    for (const [optimizer, line] of cases) {
      const choice = chooseTraining(keras(optimizer), chain(2));
      expect(choice.optimizer).toEqual({ type: "sgd", learningRate: 0.2 }); // mse over 2 outputs: × 2/2
      expect(choice.lines.join("\n")).toMatch(line);
    }
  });

  test("a schedule qfirm lacks is dropped, named, and its initial rate used; Keras 2's inverse-time decay too", () => {
    const cosine = { class_name: "CosineDecay", config: { initial_learning_rate: 0.3, decay_steps: 100, alpha: 0 } };
    const choice = chooseTraining(keras({ name: "SGD", config: { learning_rate: cosine, momentum: 0.5 } }), chain(2));
    expect(choice.optimizer).toEqual({ type: "sgd", learningRate: 0.3, momentum: 0.5 });
    expect(choice.lines.join("\n")).toMatch(/dropped \(qfirm has no such setting\): the schedule CosineDecay\(initial_learning_rate 0\.3, decay_steps 100, alpha 0\)/);
    const legacy = chooseTraining(keras({ name: "SGD", config: { lr: 0.3, decay: 1e-4 } }), chain(2));
    expect(legacy.optimizer).toEqual({ type: "sgd", learningRate: 0.3 });
    expect(legacy.lines.join("\n")).toMatch(/decay 0\.0001 \(Keras 2's inverse-time decay\)/);
  });
});

describe("frozen layers and what folds into them", () => {
  const dense = (where: string, trainable?: boolean): Step => ({
    kind: "dense",
    where,
    kernel: { name: `${where}/kernel`, shape: [2, 2], values: new Float64Array(4) },
    activation: "linear",
    trainable,
  });
  const bn = (trainable?: boolean): Step => {
    const t = (name: string, v: number) => ({ name, shape: [2], values: new Float64Array(2).fill(v) });
    return { kind: "batchnorm", where: "bn", mean: t("mean", 0), variance: t("variance", 1), epsilon: 1e-3, trainable };
  };

  test("a layer takes its Dense layer's flag; a BatchNormalization whose flag differs is named; an activation changes nothing", () => {
    const folded = foldChain([dense("d0", false), bn(), { kind: "activation", where: "act", activation: "tanh" }, dense("d1")]);
    expect(folded.layers.map((l) => l.trainable)).toEqual([false, true]);
    expect(folded.lines.join("\n")).toMatch(/bn: trainable, but folded into d0, which is frozen: the folded layer stays frozen/);
    const other = foldChain([dense("d0"), bn(false), dense("d1", false)]);
    expect(other.layers.map((l) => l.trainable)).toEqual([true, false]);
    expect(other.lines.join("\n")).toMatch(/bn: not trainable, but folded into d0, which trains: the folded layer trains whole/);
  });

  test("every layer frozen: all written trainable, with a line (a spec that trains needs one)", () => {
    const folded = foldChain([dense("d0", false), dense("d1", false)]);
    expect(folded.layers.map((l) => l.trainable)).toEqual([true, true]);
    expect(folded.lines.join("\n")).toMatch(/every dense layer is marked not trainable/);
  });
});
