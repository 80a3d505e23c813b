// The fixed-point losses and softmax at their edges: extreme logits, a zero vector,
// exactly at a kink. Each model is one linear (or softmax) layer whose zero weights
// and chosen biases put the output exactly where the edge is.

import { describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { Firmware } from "../src/run/driver.js";
import type { Activation, LossType } from "../src/spec/model.js";
import { parseSpec } from "../src/spec/spec.js";

const LSB = 2 ** -24; // q8.24
const GRAD_LSB = 2 ** -28; // q4.28

async function firmwareWithOutput(
  bias: number[], activation: Activation, loss: { type: LossType; delta?: number }, target: number[],
): Promise<Firmware> {
  const n = bias.length;
  const model = parseSpec({
    name: "edge",
    inputs: 1,
    layers: [{ units: n, activation }],
    loss,
    weights: [{ weight: [Array(n).fill(0)], bias }],
    sample: { input: [0], target },
  });
  const { wasm, manifest } = await buildModel(model);
  const fw = await Firmware.load(wasm, manifest);
  fw.forward();
  return fw;
}

function gradients(fw: Firmware): number[] {
  fw.zeroGrad();
  fw.backward();
  return fw.grads()[0].bias; // ∂L/∂b = ∂L/∂z of the only layer
}

describe("softmax with cross-entropy", () => {
  it.each([
    ["huge", [127, -128, 0]],
    ["very negative", [-100, -127.5, -128]],
    ["equal", [-3, -3, -3, -3]],
    ["one far ahead", [100, 0, 0, 0, 0, 0, 0, 0]],
  ])("%s logits: probabilities in [0, 1] summing to 1 within n/2 LSBs, a finite loss", async (_, logits) => {
    const n = logits.length;
    const target = Array.from({ length: n }, (_, j) => (j === 1 ? 1 : 0));
    const fw = await firmwareWithOutput(logits, "softmax", { type: "cross_entropy" }, target);
    const p = fw.output();
    for (const pj of p) expect(pj).toBeGreaterThanOrEqual(0), expect(pj).toBeLessThanOrEqual(1);
    const sum = p.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - 1)).toBeLessThanOrEqual((n / 2) * LSB);
    // Exact log-sum-exp in float64 from the logits: the loss is −log p_1.
    const max = Math.max(...logits);
    const expected = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0)) - logits[1];
    const loss = fw.loss();
    expect(Number.isFinite(loss)).toBe(true);
    expect(Math.abs(loss - Math.min(expected, 128 - LSB))).toBeLessThanOrEqual(Math.max(1e-6, 1e-6 * expected));
    // ∂L/∂z = p − y.
    gradients(fw).forEach((g, j) => expect(Math.abs(g - (p[j] - target[j]))).toBeLessThanOrEqual(GRAD_LSB * 16));
  });
});

describe("cosine", () => {
  it("a zero output has no direction: loss 1, gradient 0", async () => {
    const fw = await firmwareWithOutput([0, 0, 0], "linear", { type: "cosine" }, [0.5, -0.25, 1]);
    expect(fw.loss()).toBe(1);
    expect(gradients(fw)).toEqual([0, 0, 0]);
  });

  it("a zero target likewise", async () => {
    const fw = await firmwareWithOutput([0.5, -0.25, 1], "linear", { type: "cosine" }, [0, 0, 0]);
    expect(fw.loss()).toBe(1);
    expect(gradients(fw)).toEqual([0, 0, 0]);
  });

  it("parallel vectors: loss 0 and gradient 0; opposite: loss 2", async () => {
    const parallel = await firmwareWithOutput([1, 2, -2], "linear", { type: "cosine" }, [0.5, 1, -1]);
    expect(Math.abs(parallel.loss())).toBeLessThanOrEqual(2 * LSB);
    for (const g of gradients(parallel)) expect(Math.abs(g)).toBeLessThanOrEqual(8 * GRAD_LSB);
    const opposite = await firmwareWithOutput([1, 2, -2], "linear", { type: "cosine" }, [-0.5, -1, 1]);
    expect(Math.abs(opposite.loss() - 2)).toBeLessThanOrEqual(2 * LSB);
  });
});

describe("hinge at the margin", () => {
  it("y·ŷ = 1 exactly: gradient 0 (the flat side); one LSB inside: −y", async () => {
    const at = await firmwareWithOutput([1, -1], "linear", { type: "hinge" }, [1, -1]);
    expect(at.loss()).toBe(0);
    expect(gradients(at)).toEqual([0, 0]);
    const inside = await firmwareWithOutput([1 - LSB, -1 + LSB], "linear", { type: "hinge" }, [1, -1]);
    expect(gradients(inside)).toEqual([-1, 1]);
    expect(inside.loss()).toBe(2 * LSB);
  });
});

describe("Huber at δ", () => {
  it("|ŷ − y| = δ exactly: gradient ±δ, loss ½δ² from either branch", async () => {
    const delta = 0.5;
    const fw = await firmwareWithOutput([0.75, -0.25], "linear", { type: "huber", delta }, [0.25, 0.25]);
    expect(gradients(fw)).toEqual([delta, -delta]);
    expect(fw.loss()).toBe(2 * 0.5 * delta * delta);
  });

  it("beyond δ the gradient is clipped to ±δ and the loss is linear", async () => {
    const fw = await firmwareWithOutput([3.25], "linear", { type: "huber", delta: 0.5 }, [0.25]);
    expect(gradients(fw)).toEqual([0.5]);
    expect(fw.loss()).toBe(0.5 * (3 - 0.25));
  });
});

describe("L1 at equality", () => {
  it("ŷ = y: gradient 0; above and below: ±1", async () => {
    const fw = await firmwareWithOutput([0.25, 0.5, -0.5], "linear", { type: "l1" }, [0.25, 0.25, 0.25]);
    expect(gradients(fw)).toEqual([0, 1, -1]);
    expect(fw.loss()).toBe(0.25 + 0.75);
  });
});
