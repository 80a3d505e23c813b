// The documented example's module through the driver, against the notes and the
// float64 reference; and ABI v1 as DESIGN.md states it.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import binaryen from "binaryen";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel, type Built } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import { Firmware } from "../src/run/driver.js";
import { flattenParams } from "../src/build/layout.js";
import type { Model } from "../src/spec/model.js";
import { NOTE_FIGURES } from "../src/check/notes.js";
import { allQuantities, compare, TOLERANCES } from "../src/check/parity.js";
import { trace, trainStep } from "../src/reference/network.js";
import { parseSpecText } from "../src/spec/spec.js";
import { randomSpec } from "./support/models.js";

const EXAMPLE = join(ROOT, "examples", "documented-example.json");
const json = JSON.parse(readFileSync(EXAMPLE, "utf8"));

let model: Model;
let built: Built;

beforeAll(async () => {
  model = parseSpecText(readFileSync(EXAMPLE, "utf8"));
  built = await buildModel(model);
});

describe("ABI v1", () => {
  const FUNCTIONS = [
    "input_ptr", "output_ptr", "target_ptr", "params_ptr", "grads_ptr",
    "forward", "loss", "zero_grad", "backward", "step", "set_learning_rate", "train_step",
  ];

  it("instantiates with an empty import object and imports nothing", async () => {
    const module = await WebAssembly.compile(built.wasm);
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    const instance = await WebAssembly.instantiate(module, {});
    expect(instance.exports.memory).toBeInstanceOf(WebAssembly.Memory);
  });

  it("exports memory and the ABI's functions, every parameter and result an i32", () => {
    const module = binaryen.readBinary(built.wasm);
    try {
      const exports = new Map<string, number>();
      for (let i = 0; i < module.getNumExports(); i++) {
        const info = binaryen.getExportInfo(module.getExportByIndex(i));
        exports.set(info.name, info.kind);
      }
      expect(exports.get("memory")).toBe(binaryen.ExternalMemory);
      for (const name of FUNCTIONS) {
        expect(exports.get(name), name).toBe(binaryen.ExternalFunction);
        const fn = binaryen.getFunctionInfo(module.getFunction(binaryen.getExportInfo(module.getExport(name)).value));
        for (const type of [...binaryen.expandType(fn.params), ...binaryen.expandType(fn.results)]) {
          expect(type, name).toBe(binaryen.i32);
        }
      }
    } finally {
      module.dispose();
    }
  });

  it("exports __data_end and __heap_base, immutable i32 globals at the end of the memory the manifest and the layout give", async () => {
    const module = await WebAssembly.compile(built.wasm);
    const globals = WebAssembly.Module.exports(module).filter((e) => e.kind === "global").map((e) => e.name);
    expect(globals.sort()).toEqual(["__data_end", "__heap_base"]);
    const instance = await WebAssembly.instantiate(module, {});
    for (const name of globals) {
      const global = instance.exports[name] as WebAssembly.Global;
      expect(global.value, name).toBe(built.manifest.memory.bytesUsed);
      expect(() => (global.value = 0), `${name} is immutable`).toThrow();
    }
    // The last buffer (the widest layer's i64 accumulators) ends there.
    const { offset, bytes } = built.manifest.accumulators;
    expect(built.manifest.memory.bytesUsed).toBe(Math.ceil((offset + bytes) / 16) * 16);
  });

  it("starts with the spec's weights in params and its sample in input and target", async () => {
    const fw = await Firmware.load(built.wasm, built.manifest);
    const half = 2 ** -25; // half an LSB of q8.24
    const params = flattenParams(fw.params());
    const expected = flattenParams(json.weights);
    params.forEach((p, i) => expect(Math.abs(p - expected[i]), `param ${i}`).toBeLessThanOrEqual(half));
    const memory = new Int32Array(fw.exports.memory.buffer);
    const input = Array.from(memory.subarray(fw.exports.input_ptr() / 4, fw.exports.input_ptr() / 4 + 3), (q) => q / 2 ** 24);
    input.forEach((x, i) => expect(Math.abs(x - json.sample.input[i])).toBeLessThanOrEqual(half));
    const target = memory[fw.exports.target_ptr!() / 4] / 2 ** 24;
    expect(Math.abs(target - json.sample.target[0])).toBeLessThanOrEqual(half);
  });

  it("fits the 4 KiB a small microcontroller flash budget allows (issue #4's bound)", () => {
    expect(built.wasm.length).toBeLessThanOrEqual(4096);
  });

  it("places params and grads where the manifest says, layer by layer, weight then bias", () => {
    const m = built.manifest;
    expect(m.params.map((t) => [t.layer, t.kind, t.shape])).toEqual([
      [0, "weight", [3, 2]], [0, "bias", [2]], [1, "weight", [2, 1]], [1, "bias", [1]],
    ]);
    expect(m.params[0].offset).toBe(m.buffers.params);
    expect(m.params[1].offset).toBe(m.buffers.params + 6 * 4);
    expect(m.params[2].gradOffset).toBe(m.buffers.grads! + 8 * 4);
  });

  it("train_step (fused backward and step) is bit-identical to zero_grad, forward, loss, backward, step", async () => {
    const withSample = (spec: object, target: number[]) => parseSpecText(JSON.stringify({ ...spec, sample: { input: [0.5, 0, -1, 2], target } }));
    const specs = [
      model,
      withSample(randomSpec({ seed: 3, activations: ["relu", "softmax"], loss: "cross_entropy" }), [0, 1, 0]),
      // Over a tanh layer, a step of at most 8 units also gives tanh's dZ (dense_backward_step_tanh_below).
      withSample(JSON.parse(readFileSync(join(ROOT, "examples", "iris.json"), "utf8")), [0, 0, 1]),
      withSample(randomSpec({ seed: 5, activations: ["tanh", "sigmoid"], loss: "l2", outputs: 1 }), [0.3]),
    ];
    for (const m of specs) {
      const { wasm, manifest } = await buildModel(m);
      const fused = await Firmware.load(wasm, manifest);
      const separate = await Firmware.load(wasm, manifest);
      for (let k = 0; k < 5; k++) {
        const loss = fused.exports.train_step!();
        separate.exports.zero_grad!();
        separate.exports.forward();
        expect(separate.exports.loss!(), `step ${k}`).toBe(loss);
        separate.exports.backward!();
        separate.exports.step!();
      }
      // All of memory but the dense kernels' scratch (manifest `accumulators`), which only the fused step uses.
      const withoutScratch = (mem: WebAssembly.Memory) => {
        const words = new Int32Array(mem.buffer.slice(0));
        words.fill(0, manifest.accumulators.offset / 4, (manifest.accumulators.offset + manifest.accumulators.bytes) / 4);
        return words;
      };
      expect(withoutScratch(fused.exports.memory)).toEqual(withoutScratch(separate.exports.memory));
    }
  });

  it("train_step can run again and again from the buffers alone, and the loss falls", async () => {
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(built.wasm), {});
    const trainStepExport = instance.exports.train_step as () => number;
    const losses = Array.from({ length: 20 }, () => trainStepExport());
    expect(losses[19]).toBeLessThan(losses[0]);
  });
});

describe("the documented example against the notes and the float64 reference", () => {
  it("matches the reference on every figure of the notes: output 1e-4, loss and gradients 1%", async () => {
    const fw = await Firmware.load(built.wasm, built.manifest);
    const { input, target } = json.sample;
    const rows = compare(NOTE_FIGURES, trace(model, model.weights, input, target), fw.trace(input, target), built.manifest);
    for (const row of rows) expect(row.ok, `${row.label}: module ${row.module}, reference ${row.reference}`).toBe(true);
    expect(rows.filter((r) => r.kind === "gradient")).toHaveLength(13);
  });

  it("keeps every gradient within 0.01% of float64 (the README's claim)", async () => {
    const fw = await Firmware.load(built.wasm, built.manifest);
    const { input, target } = json.sample;
    const rows = compare(allQuantities(model), trace(model, model.weights, input, target), fw.trace(input, target), built.manifest);
    const gradients = rows.filter((r) => r.kind === "gradient");
    expect(gradients).toHaveLength(1 + 1 + 2 + 1 + (2 + 2 + 6 + 2)); // dA, dZ, W, b of layer 2, then layer 1
    const worst = gradients.reduce((w, r) => (r.relError > w.relError ? r : w));
    expect(worst.relError, worst.label).toBeLessThan(1e-4);
  });

  it("follows the reference's loss trajectory over 50 SGD steps", async () => {
    const fw = await Firmware.load(built.wasm, built.manifest);
    let params = model.weights;
    const { input, target } = json.sample;
    for (let k = 0; k < 50; k++) {
      const reference = trainStep(model, params, input, target);
      params = reference.params;
      const loss = fw.trainStep();
      expect(Math.abs(loss - reference.loss), `step ${k}`).toBeLessThanOrEqual(TOLERANCES.loss.rel * reference.loss + 2 ** -23);
    }
    const moduleParams = flattenParams(fw.params());
    flattenParams(params).forEach((p, i) => expect(Math.abs(moduleParams[i] - p), `param ${i}`).toBeLessThan(1e-5));
  });

  it("set_learning_rate changes the step: a zero rate leaves params untouched", async () => {
    const fw = await Firmware.load(built.wasm, built.manifest);
    const before = flattenParams(fw.params());
    fw.setLearningRate(0);
    fw.trainStep();
    expect(flattenParams(fw.params())).toEqual(before);
  });
});
