// The float64 references of every activation and loss, on seeded two-layer nets:
// against central differences of the reference's own loss, against TensorFlow.js
// (an independent autodiff engine), at their edges, and row by row against the
// derivative table of the notes (shared/documented-example.md), where a test shows
// that the notes' wrong formula disagrees with finite differences and the reference
// does not.
//
// TensorFlow.js has no float64: its DataType is float32 | int32 | bool | complex64 |
// string, and the CPU backend computes in Float32Array. So the comparison with it is at
// float32 precision (TOLERANCES.tfjs); float64 agreement needs a float64 engine.

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core's Node build has no gradients; they are registered by its ESM build, which
// vitest.config.ts has vite transform (Node cannot load its extensionless imports). The
// registry and the engine live on globalThis, so both builds share them.
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { beforeAll, describe, expect, test } from "vitest";
import { flattenParams, unflattenParams } from "../src/build/layout.js";
import type { Activation, LayerWeights, Loss, LossType, Model } from "../src/spec/model.js";
import { loss_cosine, loss_cosine_backward } from "../src/reference/loss_cosine.js";
import {
  loss_cross_entropy,
  loss_cross_entropy_backward,
  loss_cross_entropy_backward_logits,
  loss_cross_entropy_logits,
} from "../src/reference/loss_cross_entropy.js";
import { loss_hinge, loss_hinge_backward } from "../src/reference/loss_hinge.js";
import { loss_huber, loss_huber_backward } from "../src/reference/loss_huber.js";
import { loss_l1, loss_l1_backward } from "../src/reference/loss_l1.js";
import { loss_l2, loss_l2_backward } from "../src/reference/loss_l2.js";
import { forward, trace } from "../src/reference/network.js";
import { relu_backward, relu_forward } from "../src/reference/relu.js";
import { sigmoid_backward, sigmoid_forward } from "../src/reference/sigmoid.js";
import { softmax_backward, softmax_forward } from "../src/reference/softmax.js";
import { tanh_backward, tanh_forward } from "../src/reference/tanh.js";
import { mulberry32, parseSpec } from "../src/spec/spec.js";
import { centralDifferences, expectClose, expectMatchesDifferences } from "./support/differences.js";
import { randomSpec } from "./support/models.js";
import { CASES, drawNet, HUBER_DELTA, KINK_MARGIN, kinkDistance, type Case, type Net } from "./support/nets.js";

/** Every tolerance and margin of this file. */
const TOLERANCES = {
  /** Step of the central differences. */
  finiteDifferenceStep: 1e-6,
  /**
   * |analytic − central difference| ≤ this · max(|analytic|, |difference|) + the absolute floor below.
   * The truncation error of a central difference is h²·f'''/6 ≈ 1e-12 relative here.
   */
  finiteDifferenceRelative: 1e-6,
  /**
   * The absolute floor, for gradients near zero: the rounding noise of the difference,
   * this many ulps (2^−52) of |f(p + h)| + |f(p − h)|, divided by 2h. With |L| ≲ 10 that is
   * ≲ 1e-8: a few ulps of exp/tanh/log plus the short sums of a two-layer net.
   */
  evaluationUlps: 8,
  /**
   * TensorFlow.js CPU (float32) against the reference evaluated at the same float32-rounded
   * params, input and target: |tf − reference| ≤ relative · |reference| + absolute · max_k |reference_k|,
   * the floor scaled by the largest gradient of the same net: float32 rounds relative to the
   * magnitudes in play, and a gradient much smaller than them comes out of a cancellation
   * (ŷ − y near 0 under L2, say) that float32 resolves only absolutely.
   * Measured over the 84 nets below: worst |difference| / max_k |gradient_k| 4.3e-7; relative
   * error up to 5.6e-5 on gradients above 1e-3 · max (l2 with ŷ ≈ y), and below 1e-5 on all
   * but three nets. The loss: worst relative 9.4e-7 (1 − cos θ, a cancellation itself).
   */
  tfjs: { relative: 1e-5, absolute: 2e-6, loss: 1e-5 },
  /**
   * A wrong formula from the notes must miss the finite differences by at least this much
   * (relative, at its worst point): far above the 1e-6 the reference is held to.
   */
  notesWrongAtLeast: 0.05,
} as const;

/** The Huber delta of the nets below: small enough that both branches occur. */

// ---- Comparison helpers ----


/** A formula the notes get wrong: its worst relative miss of the central differences. */
function worstRelativeMiss(wrong: number[], f: (x: number[]) => number, x: number[]): number {
  const { slope } = centralDifferences(f, x, TOLERANCES);
  return Math.max(...wrong.map((w, i) => Math.abs(w - slope[i]) / Math.max(Math.abs(slope[i]), 1e-12)));
}

/** Both halves of a row of the notes' table: the reference agrees with f's slope, the wrong formula does not. */
function expectNotesWrong(reference: number[], wrong: number[], f: (x: number[]) => number, x: number[], what: string): void {
  expectMatchesDifferences(reference, f, x, `${what}: reference`, TOLERANCES);
  const miss = worstRelativeMiss(wrong, f, x);
  expect(miss, `${what}: the notes' formula misses the finite differences by only ${miss} (relative)`).toBeGreaterThan(
    TOLERANCES.notesWrongAtLeast,
  );
}

// ---- Seeded nets ----


const NETS = CASES.map((c, i) => ({ case: c, net: drawNet(c, i) }));

function referenceLossAt(net: Net): (flat: number[]) => number {
  return (flat) => trace(net.model, unflattenParams(net.model, flat), net.input, net.target).loss;
}

describe("every parameter's gradient against central differences of the reference loss (seeded two-layer nets)", () => {
  test.each(NETS.map((n) => [n.case.name, n.net] as const))("%s", (name, net) => {
    const analytic = flattenParams(trace(net.model, net.params, net.input, net.target).grads);
    expectMatchesDifferences(analytic, referenceLossAt(net), flattenParams(net.params), `${name} (seed ${net.seed}): ∂L/∂params against differences`, TOLERANCES);
  });

  test("the Huber nets exercise both branches, the hinge nets both sides of the margin", () => {
    const outputs = (loss: LossType) =>
      NETS.filter((n) => n.case.loss === loss).flatMap(({ net }) => {
        const { a } = forward(net.model, net.params, net.input);
        return a[a.length - 1].map((p, j) => ({ p, y: net.target[j] }));
      });
    const huber = outputs("huber").map(({ p, y }) => Math.abs(p - y) <= HUBER_DELTA);
    expect(huber).toContain(true);
    expect(huber).toContain(false);
    const hinge = outputs("hinge").map(({ p, y }) => y * p < 1);
    expect(hinge).toContain(true);
    expect(hinge).toContain(false);
  });

  test("softmax under a loss without a fused hook goes through the full Jacobian (l2, l1, cosine: not allowed by the spec, but the reference can)", () => {
    for (const type of ["l2", "l1", "cosine"] as const) {
      const c: Case = { name: `tanh → softmax, ${type}`, activations: ["tanh", "sigmoid"], loss: type };
      const base = drawNet(c, 900);
      const model: Model = { ...base.model, layers: [base.model.layers[0], { units: 3, activation: "softmax" }] };
      const net = { ...base, model };
      expect(kinkDistance(net)).toBeGreaterThan(KINK_MARGIN);
      const analytic = flattenParams(trace(model, net.params, net.input, net.target).grads);
      expectMatchesDifferences(analytic, referenceLossAt(net), flattenParams(net.params), `${c.name}: ∂L/∂params`, TOLERANCES);
    }
  });

  test("cross_entropy with a soft target (a probability vector, not one-hot) and with Σy ≠ 1", () => {
    const base = NETS.find((n) => n.case.loss === "cross_entropy")!.net;
    for (const target of [
      [0.2, 0.5, 0.3],
      [0.7, 0.9, 0.1],
    ]) {
      const net = { ...base, target };
      const analytic = flattenParams(trace(net.model, net.params, net.input, target).grads);
      expectMatchesDifferences(analytic, referenceLossAt(net), flattenParams(net.params), `target ${target}: ∂L/∂params`, TOLERANCES);
    }
  });

  test("an omitted Huber delta is 1", () => {
    const net = NETS.find((n) => n.case.loss === "huber")!.net;
    const withDefault: Model = { ...net.model, loss: { type: "huber" } };
    const withOne: Model = { ...net.model, loss: { type: "huber", delta: 1 } };
    expect(trace(withDefault, net.params, net.input, net.target)).toEqual(trace(withOne, net.params, net.input, net.target));
  });
});

// ---- TensorFlow.js ----

type TfActivation = (z: tf.Tensor) => tf.Tensor;
const TF_ACTIVATIONS: Record<Activation, TfActivation> = {
  sigmoid: (z) => tf.sigmoid(z),
  tanh: (z) => tf.tanh(z),
  relu: (z) => tf.relu(z),
  linear: (z) => z,
  softmax: (z) => tf.softmax(z),
};

/** The per-sample losses written with tf ops, summed over the outputs (tf.losses' helpers reduce differently). */
function tfLoss(loss: Loss, yHat: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const d = tf.sub(yHat, y);
  switch (loss.type) {
    case "l2":
      return tf.mul(0.5, tf.sum(tf.square(d)));
    case "l1":
      return tf.sum(tf.abs(d));
    case "huber": {
      // TensorFlow's own form (tf.losses.huberLoss): q = min(|d|, δ), ½q² + δ(|d| − q). tf.where
      // would need a gradient through tf.lessEqual, which tfjs does not register.
      const delta = loss.delta ?? 1;
      const absD = tf.abs(d);
      const q = tf.minimum(absD, delta);
      return tf.sum(tf.add(tf.mul(0.5, tf.square(q)), tf.mul(delta, tf.sub(absD, q))));
    }
    case "hinge":
      return tf.sum(tf.relu(tf.sub(1, tf.mul(y, yHat))));
    case "cross_entropy":
      // Through tf.softmax's own gradient and tf.log: nothing fused, nothing shared with the reference.
      return tf.sum(tf.mul(tf.neg(y), tf.log(yHat)));
    case "cosine":
      return tf.sub(1, tf.div(tf.sum(tf.mul(y, yHat)), tf.mul(tf.norm(y), tf.norm(yHat))));
  }
}

/** The loss and every parameter's gradient (in flattenParams order) from TensorFlow.js. */
function tfLossAndGrads(net: Net): { loss: number; grads: number[] } {
  const { model, params, input, target } = net;
  let result = { loss: NaN, grads: [] as number[] };
  tf.tidy(() => {
    const x = tf.tensor2d([input]);
    const y = tf.tensor2d([target]);
    const tensors = params.flatMap((p) => [tf.tensor2d(p.weight), tf.tensor1d(p.bias)]);
    const lossOf = (...ps: tf.Tensor[]): tf.Scalar => {
      let a: tf.Tensor = x;
      model.layers.forEach((layer, l) => {
        a = TF_ACTIVATIONS[layer.activation](tf.add(tf.matMul(a as tf.Tensor2D, ps[2 * l] as tf.Tensor2D), ps[2 * l + 1]));
      });
      return tfLoss(model.loss, a, y);
    };
    const { value, grads } = tf.valueAndGrads(lossOf)(tensors);
    result = { loss: value.dataSync()[0], grads: grads.flatMap((g) => Array.from(g.dataSync())) };
  });
  return result;
}

/** The net with params, input and target rounded to float32, so both engines start from the same numbers. */
function toFloat32(net: Net): Net {
  const round = (v: number[]) => v.map(Math.fround);
  return {
    ...net,
    params: net.params.map((p) => ({ weight: p.weight.map(round), bias: round(p.bias) })),
    input: round(net.input),
    target: round(net.target),
  };
}

describe("every parameter's gradient against TensorFlow.js (CPU backend: float32)", () => {
  beforeAll(async () => {
    // IS_TEST silences tfjs's advert for its node backend (and has tfjs check its kernels for leaks).
    tf.env().set("IS_TEST", true);
    await tf.setBackend("cpu");
  });

  test("TensorFlow.js has no float64 tensors: this comparison is at float32 precision", () => {
    expect(tf.getBackend()).toBe("cpu");
    expect(tf.tensor([1 / 3]).dtype).toBe("float32");
    expect(tf.tensor([1 / 3]).dataSync()).toBeInstanceOf(Float32Array);
    expect(() => tf.tensor([1 / 3], [1], "float64" as tf.DataType)).toThrow(/float64/);
  });

  test.each(NETS.map((n) => [n.case.name, n.net] as const))("%s", (name, net) => {
    const rounded = toFloat32(net);
    const reference = trace(rounded.model, rounded.params, rounded.input, rounded.target);
    const expected = flattenParams(reference.grads);
    const engine = tfLossAndGrads(rounded);
    const { relative, absolute, loss } = TOLERANCES.tfjs;
    expectClose([engine.loss], [reference.loss], loss, `${name} (seed ${net.seed}): loss against TensorFlow.js`);
    const scale = Math.max(...expected.map(Math.abs));
    expectClose(engine.grads, expected, relative, `${name} (seed ${net.seed}): ∂L/∂params against TensorFlow.js`, absolute * scale);
  });
});

// ---- Edges ----

describe("edges of the float64 references", () => {
  test("softmax of huge (±1000) and very negative logits: finite probabilities summing to 1, a finite cross-entropy", () => {
    for (const z of [
      [1000, -1000, 0],
      [-1000, -1000.5, -1001],
      [1000, 999, 998],
      [-1e6, 0, 1e6],
    ]) {
      const y = softmax_forward(z);
      expect(y.every(Number.isFinite), `softmax(${z}) = ${y}`).toBe(true);
      expect(Math.abs(y.reduce((s, v) => s + v, 0) - 1)).toBeLessThanOrEqual(2 * 2 ** -52);
      for (const hot of [0, 1, 2]) {
        const target = [0, 1, 2].map((j) => (j === hot ? 1 : 0));
        const L = loss_cross_entropy_logits(z, target);
        expect(Number.isFinite(L), `CE(${z}, one-hot ${hot}) = ${L}`).toBe(true);
        // L = LSE(z) − z_hot ≥ 0, and exactly max(z) − z_hot to float64 precision when one logit dominates.
        expect(L).toBeGreaterThanOrEqual(0);
        expect(loss_cross_entropy_backward_logits(y, target).every(Number.isFinite)).toBe(true);
      }
    }
    // e^−1000 underflows: from the probabilities alone the loss is infinite, from the logits 2000.
    expect(softmax_forward([1000, -1000, 0])[1]).toBe(0);
    expect(loss_cross_entropy(softmax_forward([1000, -1000, 0]), [0, 1, 0])).toBe(Infinity);
    expect(loss_cross_entropy_logits([1000, -1000, 0], [0, 1, 0])).toBe(2000);
    // Shifting every logit by a constant changes nothing.
    expect(softmax_forward([1000, 999, 998])).toEqual(softmax_forward([2, 1, 0]));
  });

  test("a net whose logits reach ±1000: the trace's loss and gradients are finite; dA of the output is −Infinity only where documented", () => {
    const model = parseSpec(randomSpec({ seed: 5, activations: ["linear", "softmax"], loss: "cross_entropy", inputs: 1, hidden: 1, outputs: 3 }));
    const params: LayerWeights[] = [
      { weight: [[1]], bias: [0] },
      { weight: [[1000, -1000, 0]], bias: [0, 0, 0] },
    ];
    const t = trace(model, params, [1], [0, 1, 0]);
    expect(t.output[1]).toBe(0);
    expect(t.loss).toBe(2000);
    expect(flattenParams(t.grads).every(Number.isFinite)).toBe(true);
    expect(t.dZ[1]).toEqual([1, -1, 0]);
    expect(t.dA[1]).toEqual([0, -Infinity, 0]);
  });

  test("cosine with a zero vector: L = 1, gradient 0", () => {
    expect(loss_cosine([0, 0, 0], [0.3, -0.2, 0.5])).toBe(1);
    expect(loss_cosine_backward([0, 0, 0], [0.3, -0.2, 0.5])).toEqual([0, 0, 0]);
    expect(loss_cosine([0.3, -0.2, 0.5], [0, 0, 0])).toBe(1);
    expect(loss_cosine_backward([0.3, -0.2, 0.5], [0, 0, 0])).toEqual([0, 0, 0]);
    // Scale does not matter: cos θ of parallel vectors is 1 for tiny and huge norms alike.
    expect(Math.abs(loss_cosine([1e-200, 2e-200], [1e200, 2e200]))).toBeLessThanOrEqual(2 ** -52);
    expect(loss_cosine_backward([1e-200, 2e-200], [1e200, 2e200]).every(Number.isFinite)).toBe(true);
  });

  test("hinge exactly at the margin: gradient 0 (the flat side); just inside: −y", () => {
    expect(loss_hinge_backward([1, -1, 0.5, -2], [1, -1, 2, -0.5])).toEqual([0, 0, 0, 0]);
    const inside = 1 - 2 ** -40;
    expect(loss_hinge_backward([inside, -inside], [1, -1])).toEqual([-1, 1]);
    expect(loss_hinge_backward([1.5, -1.5], [1, -1])).toEqual([0, 0]);
    // At the margin the right-hand difference (into the flat side) is 0, the left-hand one −y: 0 is the flat side's.
    const h = 1e-6;
    expect((loss_hinge([1 + h], [1]) - loss_hinge([1], [1])) / h).toBe(0);
  });

  test("Huber exactly at δ: the gradient is ±δ from both branches, and the loss is continuous", () => {
    const delta = 0.5;
    const yHat = [0.75, -0.25];
    const y = [0.25, 0.25];
    const d = yHat.map((p, j) => p - y[j]);
    expect(d).toEqual([delta, -delta]);
    const quadraticBranch = d;
    const linearBranch = d.map((v) => delta * Math.sign(v));
    expect(quadraticBranch).toEqual(linearBranch);
    expect(loss_huber_backward(yHat, y, delta)).toEqual([delta, -delta]);
    expect(loss_huber(yHat, y, delta)).toBe(2 * 0.5 * delta * delta);
    expect(loss_huber(yHat, y, delta)).toBe(2 * delta * (delta - 0.5 * delta));
    // Differentiable there: the central difference agrees.
    expectMatchesDifferences(loss_huber_backward(yHat, y, delta), (p) => loss_huber(p, y, delta), yHat, "Huber at δ", TOLERANCES);
    expect(() => loss_huber(yHat, y, 0)).toThrow("delta must be positive");
  });

  test("L1 at equality: gradient 0 (never −0); away from it ±1", () => {
    const g = loss_l1_backward([0.5, -0, 0.25, 0.75], [0.5, 0, 0.5, 0.5]);
    expect(g).toEqual([0, 0, -1, 1]);
    expect(Object.is(g[1], 0)).toBe(true);
    expect(loss_l1([0.5, 0.25], [0.5, 0.5])).toBe(0.25);
  });

  test("the fused softmax + cross-entropy gradient equals the full Jacobian chain, for Σy = 1 and for Σy ≠ 1", () => {
    const z = [0.3, -1.2, 2.1, 0.05];
    const yHat = softmax_forward(z);
    for (const y of [
      [0, 0, 1, 0],
      [0.1, 0.2, 0.3, 0.4],
      [0.5, 0, 1, 0.25],
    ]) {
      const chained = softmax_backward(yHat, loss_cross_entropy_backward(yHat, y));
      expectClose(loss_cross_entropy_backward_logits(yHat, y), chained, 1e-14, `y = ${y}`, 1e-16);
    }
  });
});

// ---- The notes' derivative table (shared/documented-example.md), row by row ----

describe("the notes' derivative table: the reference agrees with finite differences, the notes' wrong formula does not", () => {
  const points = [-2.5, -0.7, 0.4, 1.3, 3];
  /** dZ_j = dA_j · f'(z_j) for an activation, one unit at a time, against the slope of dA_j · f(z_j). */
  const activationSlope = (f: (z: number[]) => number[], dA: number[]) => (z: number[]) =>
    z.reduce((s, v, j) => s + dA[j] * f([v])[0], 0);
  const dA = points.map((_, i) => 0.5 + 0.25 * i);

  test("sigmoid: σ(1 − σ), not the first line's −σ(1 − σ) (sign slip)", () => {
    const y = sigmoid_forward(points);
    const wrong = y.map((s, j) => dA[j] * -(s * (1 - s)));
    expectNotesWrong(sigmoid_backward(y, dA), wrong, activationSlope(sigmoid_forward, dA), points, "sigmoid");
  });

  test("tanh: 1 − tanh², not the last lines' −tanh² (the '1 −' lost)", () => {
    const y = tanh_forward(points);
    const wrong = y.map((t, j) => dA[j] * -(t * t));
    expectNotesWrong(tanh_backward(y, dA), wrong, activationSlope(tanh_forward, dA), points, "tanh");
    // Nor tanh² with the minus lost as well.
    const alsoWrong = y.map((t, j) => dA[j] * t * t);
    expect(worstRelativeMiss(alsoWrong, activationSlope(tanh_forward, dA), points)).toBeGreaterThan(TOLERANCES.notesWrongAtLeast);
  });

  test("ReLU: dA where f > 0, else 0 (the notes are right; passing dA through where f = 0 is not)", () => {
    const y = relu_forward(points);
    const wrong = [...dA];
    expectNotesWrong(relu_backward(y, dA), wrong, activationSlope(relu_forward, dA), points, "ReLU");
  });

  test("softmax Jacobian: ŷ_j(1 − ŷ_j) on the diagonal (v = j), −ŷ_v ŷ_j off it; not the notes' cases, which put ŷ(1 − ŷ) under v ≠ j", () => {
    const z = [0.3, -1.2, 2.1, 0.05];
    const y = softmax_forward(z);
    const upstream = [0.7, -0.4, 1.1, 0.2];
    // The notes' cases as written: ŷ_v(1 − ŷ_v) for v ≠ j, and −ŷ_v ŷ_j for the rest (v = j).
    const wrongJacobian = (v: number, j: number) => (v !== j ? y[v] * (1 - y[v]) : -y[v] * y[j]);
    const wrong = z.map((_, j) => y.reduce((s, _, v) => s + upstream[v] * wrongJacobian(v, j), 0));
    const f = (zz: number[]) => softmax_forward(zz).reduce((s, p, v) => s + upstream[v] * p, 0);
    expectNotesWrong(softmax_backward(y, upstream), wrong, f, z, "softmax");
  });

  test("softmax + cross-entropy: ∂L/∂z = ŷ − y for one-hot y (as the notes end); ŷ·Σy − y in general, where ŷ − y is wrong", () => {
    const z = [0.3, -1.2, 2.1, 0.05];
    const yHat = softmax_forward(z);
    const oneHot = [0, 0, 1, 0];
    expectMatchesDifferences(loss_cross_entropy_backward_logits(yHat, oneHot), (zz) => loss_cross_entropy_logits(zz, oneHot), z, "one-hot", TOLERANCES);
    expectClose(loss_cross_entropy_backward_logits(yHat, oneHot), yHat.map((p, j) => p - oneHot[j]), 1e-15, "ŷ − y for one-hot");
    const unnormalised = [0.5, 0, 1, 0.25];
    const short = yHat.map((p, j) => p - unnormalised[j]);
    expectNotesWrong(
      loss_cross_entropy_backward_logits(yHat, unnormalised),
      short,
      (zz) => loss_cross_entropy_logits(zz, unnormalised),
      z,
      "Σy ≠ 1",
    );
  });

  test("hinge: −y where yŷ < 1, else 0; not the notes' condition yŷ ≥ 1", () => {
    const yHat = [0.4, -0.3, 1.6, -2.2, 0.9];
    const y = [1, -1, 1, -1, -1];
    const wrong = yHat.map((p, j) => (y[j] * p >= 1 ? -y[j] : 0));
    expectNotesWrong(loss_hinge_backward(yHat, y), wrong, (p) => loss_hinge(p, y), yHat, "hinge");
  });

  test("L1: sign(ŷ − y) (the notes are right; sign(y − ŷ), the inner minus dropped, is not)", () => {
    const yHat = [0.4, -0.3, 1.6, -2.2];
    const y = [0.1, 0.2, 1.7, -2];
    const wrong = yHat.map((p, j) => Math.sign(y[j] - p));
    expectNotesWrong(loss_l1_backward(yHat, y), wrong, (p) => loss_l1(p, y), yHat, "L1");
  });

  test("Huber: ŷ − y inside δ, δ·sign(ŷ − y) outside; not the garbled second branch (read as ŷ − y, or as sign(ŷ − y))", () => {
    const delta = 0.3;
    const yHat = [0.4, -0.3, 1.6, -2.2, 0.35];
    const y = [0.1, 0.2, 1.7, -2, 0.5];
    const f = (p: number[]) => loss_huber(p, y, delta);
    const reference = loss_huber_backward(yHat, y, delta);
    expectNotesWrong(reference, yHat.map((p, j) => p - y[j]), f, yHat, "Huber, unclipped");
    expectNotesWrong(reference, yHat.map((p, j) => Math.sign(p - y[j])), f, yHat, "Huber, δ dropped");
  });

  test("L2: ŷ − y, not the notes' last line (ŷ − y)/y", () => {
    const yHat = [0.7, -1.2, 0.05];
    const y = [0.61, 0.4, -0.3];
    const wrong = yHat.map((p, j) => (p - y[j]) / y[j]);
    expectNotesWrong(loss_l2_backward(yHat, y), wrong, (p) => loss_l2(p, y), yHat, "L2");
  });

  test("cosine: ∂(1 − cos θ)/∂ŷ = −(y/(‖y‖‖ŷ‖) − cos θ·ŷ/‖ŷ‖²); not without the cos θ term, nor with the sign of ∂cos θ", () => {
    const yHat = [0.7, -1.2, 0.05];
    const y = [0.61, 0.4, -0.3];
    const f = (p: number[]) => loss_cosine(p, y);
    const reference = loss_cosine_backward(yHat, y);
    const ny = Math.hypot(...y);
    const nyHat = Math.hypot(...yHat);
    const cos = y.reduce((s, v, i) => s + v * yHat[i], 0) / (ny * nyHat);
    expectNotesWrong(reference, y.map((v) => -v / (ny * nyHat)), f, yHat, "cosine, ‖ŷ‖ taken as constant");
    expectNotesWrong(reference, yHat.map((p, i) => y[i] / (ny * nyHat) - (cos * p) / nyHat ** 2), f, yHat, "cosine, ∂cos θ");
    // And the formula of the table, written out, is the reference's.
    expectClose(reference, yHat.map((p, i) => -(y[i] / (ny * nyHat) - (cos * p) / nyHat ** 2)), 1e-14, "cosine, the table's form", 1e-16);
  });
});
