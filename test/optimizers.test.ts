// The float64 optimizers (src/reference/momentum.ts, adam.ts, decay.ts, optimizer.ts)
// against TensorFlow.js's tf.train.momentum and tf.train.adam, an independent
// implementation, fed the very same gradients for 50 steps; and the reference
// optimizer's handling of frozen layers and the decay.
//
// TensorFlow.js computes in float32, so both start from float32-rounded params and
// take float32-rounded gradients, and the comparison is at float32 precision
// (TOLERANCE below).

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, test } from "vitest";
import { flattenParams } from "../src/build/layout.js";
import { adam_step } from "../src/reference/adam.js";
import { decayed_rate } from "../src/reference/decay.js";
import { momentum_step } from "../src/reference/momentum.js";
import { mapValues, Optimizer } from "../src/reference/optimizer.js";
import type { LayerWeights } from "../src/spec/model.js";
import { mulberry32, parseSpec } from "../src/spec/spec.js";
import { expectWithin } from "./tolerance.js";

const STEPS = 50;

/**
 * |TF.js − reference| per param after each step, absolute. float32 rounds each value to
 * 2^−24 relative: a param |p| ≤ 2 carries ≤ 2^−23 per step from its own rounding, and
 * an update (η ≤ 0.05 times a ratio ≤ 4 for Adam, a velocity ≤ 10·max|g| ≤ 10 for
 * momentum) a few float32 roundings of ≤ 0.5·2^−24 relative each, ≤ 2^−20 absolute:
 * over 50 steps at most 50·(2^−23 + 2^−20) ≈ 5.4e-5. Measured: at most 1.4e-6 (printed per case).
 */
const TOLERANCE = { adam: 5.4e-5, momentum: 5.4e-5 } as const;

/** Two layers shaped like a 3-4-2 net: weights and biases. */
function shapedLike(draw: () => number): LayerWeights[] {
  const layer = (fanIn: number, units: number) => ({
    weight: Array.from({ length: fanIn }, () => Array.from({ length: units }, draw)),
    bias: Array.from({ length: units }, draw),
  });
  return [layer(3, 4), layer(4, 2)];
}

const fround = (layers: LayerWeights[]) => mapValues(layers, Math.fround);

/**
 * Seeded gradients over every scale: most within ±1, some tiny (1e-7 to 1e-5, where
 * Adam's ε matters), some zero, and signs that flip from step to step.
 */
function gradientSequence(seed: number): LayerWeights[][] {
  const next = mulberry32(seed);
  return Array.from({ length: STEPS }, () =>
    fround(
      shapedLike(() => {
        const u = next();
        if (u < 0.1) return 0;
        const scale = u < 0.3 ? 10 ** -(5 + 2 * next()) : 1;
        return (2 * next() - 1) * scale;
      }),
    ),
  );
}

/** TF.js's optimizer on variables holding `start`, applied to each gradient in turn; the params after each step. */
function tfTrajectory(optimizer: tf.Optimizer, start: LayerWeights[], gradients: LayerWeights[][]): number[][] {
  const variables = start.flatMap((p, l) => [
    tf.variable(tf.tensor2d(p.weight), true, `w${l}-${Math.random()}`),
    tf.variable(tf.tensor1d(p.bias), true, `b${l}-${Math.random()}`),
  ]);
  const trajectory: number[][] = [];
  for (const g of gradients) {
    tf.tidy(() => {
      const named: Record<string, tf.Tensor> = {};
      g.forEach((layer, l) => {
        named[variables[2 * l].name] = tf.tensor2d(layer.weight);
        named[variables[2 * l + 1].name] = tf.tensor1d(layer.bias);
      });
      optimizer.applyGradients(named as tf.NamedTensorMap);
    });
    trajectory.push(variables.flatMap((v) => Array.from(v.dataSync())));
  }
  optimizer.dispose();
  variables.forEach((v) => v.dispose());
  return trajectory;
}

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

describe("the float64 optimizers against TensorFlow.js (float32), 50 steps on the same gradients", () => {
  const cases = [
    { seed: 1, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    { seed: 2, learningRate: 0.05, beta1: 0.5, beta2: 0.99, epsilon: 1e-3 },
    { seed: 3, learningRate: 0.001, beta1: 0, beta2: 0.9, epsilon: 1e-7 },
  ];
  test.each(cases)("adam: η $learningRate, β1 $beta1, β2 $beta2, ε $epsilon (seed $seed)", (c) => {
    const start = fround(shapedLike(((next) => () => 2 * next() - 1)(mulberry32(c.seed + 100))));
    const gradients = gradientSequence(c.seed);
    const expected = tfTrajectory(tf.train.adam(c.learningRate, c.beta1, c.beta2, c.epsilon), start, gradients);
    let params = start;
    let m = mapValues(start, () => 0);
    let v = mapValues(start, () => 0);
    let worst = 0;
    gradients.forEach((g, k) => {
      ({ params, m, v } = adam_step(params, g, m, v, k + 1, c));
      worst = Math.max(worst, expectWithin(flattenParams(params), expected[k], TOLERANCE.adam, `adam step ${k + 1}`).error);
    });
    console.log(`adam (seed ${c.seed}): worst |TF.js − reference| over ${STEPS} steps ${worst.toExponential(2)}`);
  });

  test.each([
    { seed: 4, learningRate: 0.01, momentum: 0.9 },
    { seed: 5, learningRate: 0.05, momentum: 0.5 },
    { seed: 6, learningRate: 0.002, momentum: 0.99 },
  ])("momentum: η $learningRate, μ $momentum (seed $seed)", (c) => {
    const start = fround(shapedLike(((next) => () => 2 * next() - 1)(mulberry32(c.seed + 100))));
    const gradients = gradientSequence(c.seed);
    const expected = tfTrajectory(tf.train.momentum(c.learningRate, c.momentum), start, gradients);
    let params = start;
    let velocity = mapValues(start, () => 0);
    let worst = 0;
    gradients.forEach((g, k) => {
      ({ params, velocity } = momentum_step(params, g, velocity, c.learningRate, c.momentum));
      worst = Math.max(worst, expectWithin(flattenParams(params), expected[k], TOLERANCE.momentum, `momentum step ${k + 1}`).error);
    });
    console.log(`momentum (seed ${c.seed}): worst |TF.js − reference| over ${STEPS} steps ${worst.toExponential(2)}`);
  });
});

describe("the reference optimizer (src/reference/optimizer.ts)", () => {
  const spec = (optimizer: Record<string, unknown>, trainable = [true, true]) =>
    parseSpec({
      name: "opt",
      inputs: 3,
      layers: [
        { units: 4, activation: "tanh", trainable: trainable[0] },
        { units: 2, activation: "linear", trainable: trainable[1] },
      ],
      optimizer,
      init: { seed: 9 },
    });

  test("leaves a frozen layer's params the very same objects' values and steps the others as the plain optimizer would", () => {
    const gradients = gradientSequence(7);
    for (const optimizer of [{ type: "sgd", learningRate: 0.1 }, { type: "sgd", learningRate: 0.1, momentum: 0.9 }, { type: "adam", learningRate: 0.01 }]) {
      const frozen = new Optimizer(spec(optimizer, [false, true]));
      const full = new Optimizer(spec(optimizer, [true, true]));
      let a = spec(optimizer).weights;
      let b = a;
      for (const g of gradients.slice(0, 10)) {
        a = frozen.step(a, g);
        b = full.step(b, g);
      }
      expect(a[0], JSON.stringify(optimizer)).toEqual(spec(optimizer).weights[0]);
      // Layer 1 follows the same trajectory as when everything trains (its update reads its own gradients only).
      expect(a[1], JSON.stringify(optimizer)).toEqual(b[1]);
      expect(frozen.steps).toBe(10);
    }
  });

  test("decays the learning rate by η·rate^(t/steps) (exponential) and η·rate^⌊t/steps⌋ (step), t counting steps taken", () => {
    const exponential = new Optimizer(spec({ type: "sgd", learningRate: 0.8, decay: { type: "exponential", rate: 0.5, steps: 4 } }));
    const staircase = new Optimizer(spec({ type: "sgd", learningRate: 0.8, decay: { type: "step", rate: 0.5, steps: 4 } }));
    const rates: [number, number][] = [];
    const g = gradientSequence(8)[0];
    for (let t = 0; t < 9; t++) {
      rates.push([exponential.learningRate, staircase.learningRate]);
      exponential.step(exponential.model.weights, g);
      staircase.step(staircase.model.weights, g);
    }
    expect(rates.map(([e]) => e)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((t) => 0.8 * 0.5 ** (t / 4)));
    expect(rates.map(([, s]) => s)).toEqual([0.8, 0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.4, 0.2]);
    expect(decayed_rate(0.8, undefined, 1000)).toBe(0.8);
  });

  test("steps SGD on the mean of a batch exactly as p − η·g, and Adam's first step by η·g/(|g| + ε) per element", () => {
    const g = gradientSequence(9)[0];
    const sgd = new Optimizer(spec({ type: "sgd", learningRate: 0.25 }));
    const p0 = sgd.model.weights;
    expect(flattenParams(sgd.step(p0, g))).toEqual(flattenParams(p0).map((p, i) => p - 0.25 * flattenParams(g)[i]));
    // At t = 1, m̂ = g and v̂ = g²: the step is η·g/(|g| + ε), by hand.
    const adam = new Optimizer(spec({ type: "adam", learningRate: 0.01, epsilon: 1e-3 }));
    const stepped = flattenParams(adam.step(p0, g));
    flattenParams(p0).forEach((p, i) => {
      const gi = flattenParams(g)[i];
      expect(Math.abs(stepped[i] - (p - (0.01 * gi) / (Math.abs(gi) + 1e-3)))).toBeLessThan(1e-15);
    });
  });
});
