// The float64 reference against the notes' worked example, against finite
// differences, and the SGD step against its definition.
//
// The expected figures come from src/check/notes.ts, typed from the transcription of the
// notes (shared/documented-example.md), never from running this code.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { flattenParams, unflattenParams } from "../src/build/layout.js";
import type { Activation, LayerWeights, LossType, Model } from "../src/spec/model.js";
import { GRADIENT_KEYS, NOTE_FIGURES, PARAMETER_GRADIENT_KEYS } from "../src/check/notes.js";
import { dense_backward, dense_forward } from "../src/reference/dense.js";
import { linear_backward, linear_forward } from "../src/reference/linear.js";
import { loss_l2, loss_l2_backward } from "../src/reference/loss_l2.js";
import { forward, trace, trainStep } from "../src/reference/network.js";
import { relu_backward, relu_forward } from "../src/reference/relu.js";
import { sgd_step } from "../src/reference/sgd.js";
import { sigmoid_backward, sigmoid_forward } from "../src/reference/sigmoid.js";
import { tanh_backward, tanh_forward } from "../src/reference/tanh.js";
import { expectClose, expectMatchesDifferences } from "./support/differences.js";

/** Every tolerance of this file. The notes' figures carry their own (half a unit in the last printed place). */
const TOLERANCES = {
  /** Step of the central differences. */
  finiteDifferenceStep: 1e-6,
  /**
   * |analytic − central difference| ≤ this · max(|analytic|, |central difference|) + the difference's
   * rounding noise (below), which matters only where f is O(1) but its slope tiny (tanh at −6).
   */
  finiteDifferenceRelative: 1e-6,
  /** Rounding of one evaluation of f, in units of 2^−52 · |f|: a few ulps of Math.exp/tanh plus a short sum. */
  evaluationUlps: 4,
  /** sgd_step against p − lr·g computed here: float64 rounding of one multiply-subtract. */
  sgdRelative: 1e-15,
};


/** A tiny seeded generator (LCG, Numerical Recipes constants) for uniform values in [lo, hi). */
function seeded(seed: number) {
  let state = seed >>> 0;
  return (lo: number, hi: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * state) / 2 ** 32;
  };
}

interface SpecJson {
  name: string;
  inputs: number;
  layers: { units: number; activation: Activation }[];
  loss: { type: LossType; delta?: number };
  optimizer: { type: "sgd"; learningRate: number };
  lut: { entries: number; range: number };
  weights: LayerWeights[];
  sample: { input: number[]; target: number[] };
}

/** The documented example as a Model, built here so this test does not depend on src/spec/spec.ts. */
function loadExample(): Model & { sample: { input: number[]; target: number[] } } {
  const json = JSON.parse(readFileSync(new URL("../examples/documented-example.json", import.meta.url), "utf8")) as SpecJson;
  return {
    name: json.name,
    format: { bits: 32, fracBits: 24 },
    gradFormat: { bits: 32, fracBits: 28 },
    batchCapacity: 1,
    inputs: json.inputs,
    layers: json.layers,
    loss: json.loss,
    learningRate: json.optimizer.learningRate,
    optimizer: { type: "sgd", learningRate: json.optimizer.learningRate, momentum: 0 },
    training: "full",
    lut: json.lut,
    weights: json.weights,
    sample: json.sample,
  };
}

const model = loadExample();
const { input, target } = model.sample;

describe("the notes' figures (documented example)", () => {
  const t = trace(model, model.weights, input, target);

  test("are the 23 rows of the notes, in their order", () => {
    expect(NOTE_FIGURES.map((f) => f.key)).toEqual([
      "z1-1", "z2-1", "y1-1", "y2-1", "z1-2", "yhat", "L",
      "dL/dyhat", "dyhat/dz1-2", "dL/dz1-2", "dL/dW11-2", "dL/dW21-2",
      "dL/dy2-1", "dy1-1/dz1-1", "dy2-1/dz2-1", "dL/dz1-1", "dL/dz2-1",
      "dL/dW11-1", "dL/dW21-1", "dL/dW31-1", "dL/dW12-1", "dL/dW22-1", "dL/dW32-1",
    ]);
    expect(GRADIENT_KEYS).toHaveLength(13);
    expect(Object.keys(PARAMETER_GRADIENT_KEYS).sort()).toEqual(
      ["B1-1", "B2-1", "B1-2", "W11-1", "W21-1", "W31-1", "W12-1", "W22-1", "W32-1", "W11-2", "W21-2"].sort(),
    );
  });

  test.each(NOTE_FIGURES.map((f) => [f.label, f] as const))("%s", (_, f) => {
    const value = f.pick(t);
    expect(
      Math.abs(value - f.expected) <= f.tolerance,
      `${f.label}: reference ${value}, notes (checked) ${f.expected} ± ${f.tolerance}`,
    ).toBe(true);
  });

  test("the rows flagged unrounded are exactly those where the printed figure is off by more than the last place", () => {
    const off = NOTE_FIGURES.filter((f) => Math.abs(f.pick(t) - f.printed) > f.tolerance).map((f) => f.key);
    expect(off).toEqual(NOTE_FIGURES.filter((f) => f.unrounded).map((f) => f.key));
    expect(off).toEqual(["dL/dW21-1", "dL/dW31-1", "dL/dW32-1"]);
    for (const f of NOTE_FIGURES) if (!f.unrounded) expect(f.expected).toBe(f.printed);
  });
});

describe("gradients against central differences", () => {
  test("every parameter of the documented example (l2 loss)", () => {
    const lossAt = (flat: number[]) => {
      const { a } = forward(model, unflattenParams(model, flat), input);
      return loss_l2(a[a.length - 1], target);
    };
    const flat = flattenParams(model.weights);
    const analytic = flattenParams(trace(model, model.weights, input, target).grads);
    expectMatchesDifferences(analytic, lossAt, flat, "∂L/∂params", TOLERANCES);
  });

  test("every parameter of a deeper model with each activation (seeded)", () => {
    const random = seeded(7);
    const activations: Activation[] = ["tanh", "relu", "sigmoid", "linear"];
    const deep: Model = { ...model, inputs: 3, layers: activations.map((activation) => ({ units: 3, activation })) };
    const params = unflattenParams(deep, Array.from({ length: 4 * 3 * 4 }, () => random(-1, 1)));
    const x = [0.5, -0.3, 0.8];
    const y = [0.1, -0.2, 0.3];
    // No ReLU unit may sit within a step of its kink, where the difference straddles it.
    forward(deep, params, x).z[1].forEach((z) => expect(Math.abs(z)).toBeGreaterThan(1e-3));
    const lossAt = (flat: number[]) => {
      const { a } = forward(deep, unflattenParams(deep, flat), x);
      return loss_l2(a[a.length - 1], y);
    };
    const analytic = flattenParams(trace(deep, params, x, y).grads);
    expectMatchesDifferences(analytic, lossAt, flattenParams(params), "∂L/∂params", TOLERANCES);
  });

  const points = [-6, -2.5, -0.5, -1e-2, 0.3, 1, 4.5];
  const ops = [
    { name: "sigmoid", forward: sigmoid_forward, backward: sigmoid_backward },
    { name: "tanh", forward: tanh_forward, backward: tanh_backward },
    { name: "relu", forward: relu_forward, backward: relu_backward },
    { name: "linear", forward: linear_forward, backward: linear_backward },
  ];
  test.each(ops.map((op) => [op.name, op] as const))("%s_backward", (_, op) => {
    const dA = points.map((_, i) => 0.25 + 0.5 * i);
    const dZ = op.backward(op.forward(points), dA);
    // dZ_j = dA_j · f'(z_j): one unit at a time, so the rounding noise is that of f(z_j) alone.
    points.forEach((z, j) => {
      expectMatchesDifferences([dZ[j]], ([v]) => dA[j] * op.forward([v])[0], [z], `${op.name}_backward at z = ${z}`, TOLERANCES);
    });
  });

  test("loss_l2_backward", () => {
    const yHat = [0.7, -1.2, 0.05];
    const y = [0.61, 0.4, -0.3];
    expectMatchesDifferences(loss_l2_backward(yHat, y), (p) => loss_l2(p, y), yHat, "∂L/∂ŷ", TOLERANCES);
  });

  test("dense_backward: dW, dB and dX", () => {
    const random = seeded(3);
    const x = Array.from({ length: 4 }, () => random(-2, 2));
    const w: LayerWeights = {
      weight: Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => random(-1, 1))),
      bias: Array.from({ length: 3 }, () => random(-1, 1)),
    };
    const dZ = [0.3, -0.7, 1.1];
    const weighted = (x: number[], w: LayerWeights) => dense_forward(x, w).reduce((s, z, j) => s + dZ[j] * z, 0);
    const grads = dense_backward(x, w, dZ);
    expectMatchesDifferences(grads.dX, (x) => weighted(x, w), x, "dX", TOLERANCES);
    const shape: Model = { ...model, inputs: 4, layers: [{ units: 3, activation: "linear" }] };
    const weightedAt = (flat: number[]) => weighted(x, unflattenParams(shape, flat)[0]);
    expectMatchesDifferences([...grads.dW.flat(), ...grads.dB], weightedAt, flattenParams([w]), "dW, dB", TOLERANCES);
  });
});

describe("ops at their edges", () => {
  test("sigmoid_forward neither overflows nor loses the left tail", () => {
    expect(sigmoid_forward([-1000, 1000, 0])).toEqual([0, 1, 0.5]);
    // σ(−700) = e^−700 / (1 + e^−700) = e^−700 to float64 precision; the naive 1/(1 + e^700) is also fine
    // there, but σ(−745) is subnormal and must not come out as 0 from an Infinity.
    expectClose(sigmoid_forward([-700, -745]), [Math.exp(-700), Math.exp(-745)], 1e-15, "σ left tail");
  });

  test("relu_backward is 0 at the kink (z = 0) and for negative z", () => {
    expect(relu_backward(relu_forward([-1, 0, -0, 2]), [5, 5, 5, 5])).toEqual([0, 0, 0, 5]);
  });

  test("ops without a reference say so (every op of model.ts has one; an unknown name, as from untyped JSON, has not)", () => {
    const unknownLoss = { ...model, loss: { type: "squared_hinge" as LossType } };
    expect(() => trace(unknownLoss, model.weights, input, target)).toThrow('loss "squared_hinge" has no reference yet');
    const swish: Model = { ...model, layers: [model.layers[0], { units: 1, activation: "swish" as Activation }] };
    expect(() => forward(swish, model.weights, input)).toThrow('activation "swish" has no reference yet');
    // Not even names an object inherits.
    expect(() => forward({ ...model, layers: [{ units: 2, activation: "toString" as Activation }, model.layers[1]] }, model.weights, input)).toThrow(
      'activation "toString" has no reference yet',
    );
  });
});

describe("SGD", () => {
  test("sgd_step moves every parameter by −learningRate · g and leaves its arguments alone", () => {
    const t = trace(model, model.weights, input, target);
    const before = structuredClone(model.weights);
    const lr = 0.37;
    const stepped = flattenParams(sgd_step(model.weights, t.grads, lr));
    const expected = flattenParams(model.weights).map((p, i) => p - lr * flattenParams(t.grads)[i]);
    expectClose(stepped, expected, TOLERANCES.sgdRelative, "sgd_step");
    expect(model.weights).toEqual(before);
    // The step is not a no-op: each parameter moved by its own gradient.
    const moved = flattenParams(model.weights).map((p, i) => (p - stepped[i]) / lr);
    expectClose(moved, flattenParams(t.grads), 1e-9, "(p − p') / lr");
  });

  test("trainStep returns the loss before the update and the SGD-stepped params; the loss goes down", () => {
    const t = trace(model, model.weights, input, target);
    const step = trainStep(model, model.weights, input, target);
    expect(step.loss).toBe(t.loss);
    expect(step.params).toEqual(sgd_step(model.weights, t.grads, model.learningRate));
    expect(trace(model, step.params, input, target).loss).toBeLessThan(t.loss);
  });
});
