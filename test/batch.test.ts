// The batched entries: train_samples is train_step n times, train_batch is one step
// on the mean gradient, predict_samples is forward per row, and counts clamp.

import { beforeAll, describe, expect, it } from "vitest";
import { buildModel, type Built } from "../src/build/build.js";
import { Firmware } from "../src/run/driver.js";
import { QRangeError } from "../src/spec/format.js";
import { flattenParams } from "../src/build/layout.js";
import type { Model } from "../src/spec/model.js";
import { trace } from "../src/reference/network.js";
import { mulberry32, parseSpec } from "../src/spec/spec.js";
import { randomSpec } from "./support/models.js";

const ROWS = 6;
let model: Model;
let built: Built;
let inputs: number[][];
let targets: number[][];

beforeAll(async () => {
  model = parseSpec({ ...randomSpec({ seed: 21, activations: ["tanh", "sigmoid"] }), batch: { capacity: ROWS } });
  built = await buildModel(model);
  const next = mulberry32(99);
  inputs = Array.from({ length: ROWS }, () => Array.from({ length: model.inputs }, () => 4 * next() - 2));
  targets = Array.from({ length: ROWS }, () => Array.from({ length: 3 }, () => next()));
});

const load = () => Firmware.load(built.wasm, built.manifest);

describe("batched entries", () => {
  it("train_samples(n) leaves the params bit-identical to n train_step calls", async () => {
    const batched = await load();
    batched.setBatch(inputs, targets);
    batched.trainSamples(ROWS);
    const stepped = await load();
    for (let k = 0; k < ROWS; k++) {
      stepped.setInput(inputs[k]);
      stepped.setTarget(targets[k]);
      stepped.trainStep();
    }
    expect(new Int32Array(batched.exports.memory.buffer, built.manifest.buffers.params, built.manifest.paramCount)).toEqual(
      new Int32Array(stepped.exports.memory.buffer, built.manifest.buffers.params, built.manifest.paramCount),
    );
  });

  it("train_batch(n) takes one step on the mean gradient, as the float64 reference does", async () => {
    const fw = await load();
    fw.setBatch(inputs, targets);
    const meanLoss = fw.trainBatch(ROWS);
    const traces = inputs.map((x, k) => trace(model, model.weights, x, targets[k]));
    const expectedLoss = traces.reduce((s, t) => s + t.loss, 0) / ROWS;
    expect(Math.abs(meanLoss - expectedLoss)).toBeLessThanOrEqual(0.01 * expectedLoss);
    const grads = flattenParams(model.weights).map((_, i) => traces.reduce((s, t) => s + flattenParams(t.grads)[i], 0) / ROWS);
    const expected = flattenParams(model.weights).map((p, i) => p - model.learningRate * grads[i]);
    flattenParams(fw.params()).forEach((p, i) => expect(Math.abs(p - expected[i]), `param ${i}`).toBeLessThan(1e-6));
  });

  it("predict_samples(n) gives each row's forward output", async () => {
    const fw = await load();
    fw.setBatch(inputs, targets);
    const outputs = fw.predictSamples(ROWS);
    const single = await load();
    outputs.forEach((out, k) => {
      single.setInput(inputs[k]);
      single.forward();
      expect(out).toEqual(single.output());
    });
  });

  it("clamps counts to [0, capacity] in the module and the driver refuses them", async () => {
    const fw = await load();
    fw.setBatch(inputs, targets);
    const before = flattenParams(fw.params());
    expect(fw.exports.train_samples!(-1)).toBe(0);
    expect(fw.exports.train_batch!(0)).toBe(0);
    expect(flattenParams(fw.params())).toEqual(before);
    expect(() => fw.exports.train_samples!(2 ** 31 - 1)).not.toThrow();
    expect(() => fw.trainSamples(ROWS + 1)).toThrow(QRangeError);
    expect(() => fw.setBatch([[Number.NaN, 0, 0, 0]], [[0, 0, 0]])).toThrow(/batch\[0\]\.input\[0\]/);
  });

  it("a module built without a batch buffer has no batched entries, and the driver says so", async () => {
    const plain = await buildModel(parseSpec(randomSpec({ seed: 21 })));
    const fw = await Firmware.load(plain.wasm, plain.manifest);
    expect(fw.exports.train_samples).toBeUndefined();
    expect(() => fw.trainSamples(1)).toThrow(/no batch buffer/);
  });
});
