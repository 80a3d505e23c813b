// Modules built for each way of training (spec `training`, `layers[i].trainable`,
// `optimizer`): what they export, that frozen layers stay bit for bit through every
// entry, that momentum, Adam and the decay follow the float64 reference over 50 steps,
// that lean training is the full module's train_step bit for bit, and that the memory
// each takes is what the manifest and the README say.

import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryCells, memoryRows, type MemoryRow } from "../bench/memory.js";
import { buildModel, type Built } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import { flattenParams } from "../src/build/layout.js";
import { trainStep } from "../src/reference/network.js";
import { Optimizer } from "../src/reference/optimizer.js";
import { Firmware } from "../src/run/driver.js";
import { footprint } from "../src/run/inspect.js";
import type { LayerWeights, Model } from "../src/spec/model.js";
import { parseSpec } from "../src/spec/spec.js";
import { loadIris } from "../src/train/datasets.js";
import { CASES, drawNet } from "./support/nets.js";
import { runQfirm } from "./support/cli.js";

const qfirm = (...args: string[]) => runQfirm(args);
import { expectWithin } from "./tolerance.js";

/**
 * Module against the float64 reference after each of 50 training steps on one sample
 * (seeded nets of test/support/nets.ts; q8.24 values, q4.28 gradients).
 *
 * params: absolute, 2^−16 = 256 LSBs of q8.24. Each step's update differs from
 * float64's by a few LSBs (the gradient's rounding, the table activations; Adam's
 * ratio is exact to 5·2^−30 relative), and 50 steps accumulate them: measured at most
 * 1.4e-6 (24 LSBs) over the cases below (printed after them). A wrong formula moves a
 * param by a fraction of η ≥ 1e-3 within a step or two: 60× the bound.
 *
 * loss: |module − reference| ≤ relative·|L| + absoluteLsb LSBs of q8.24: the loss
 * falls towards 0 as the sample is learnt, where its own rounding dominates.
 * Measured: at most 1.7e-4 relative or 3 LSBs.
 */
const TRAJECTORY = { steps: 50, paramsAbsolute: 2 ** -16, lossRelative: 1e-4, lossAbsoluteLsb: 16 } as const;
const LSB = 2 ** -24;

const iris = loadIris();

function irisSpec(extra: Record<string, unknown> = {}, trainable: [boolean, boolean] = [true, true]): Record<string, unknown> {
  return {
    name: "iris",
    inputs: 4,
    layers: [
      { units: 8, activation: "tanh", ...(trainable[0] ? {} : { trainable: false }) },
      { units: 3, activation: "softmax", ...(trainable[1] ? {} : { trainable: false }) },
    ],
    loss: { type: "cross_entropy" },
    optimizer: { type: "sgd", learningRate: 0.05 },
    init: { seed: 7 },
    batch: { capacity: 16 },
    sample: { input: iris.inputs[0], target: iris.targets[0] },
    ...extra,
  };
}

async function load(model: Model): Promise<{ built: Built; fw: Firmware }> {
  const built = await buildModel(model);
  return { built, fw: await Firmware.load(built.wasm, built.manifest) };
}

function exportNames(wasm: Uint8Array<ArrayBuffer>): string[] {
  return WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name).sort();
}

/** The words of every param tensor, by layer. */
function paramWords(fw: Firmware): Int32Array[] {
  const memory = new Int32Array(fw.exports.memory.buffer);
  return fw.manifest.params.map((t) => memory.slice(t.offset / 4, t.offset / 4 + t.shape.reduce((a, b) => a * b)));
}

const ADAM = { type: "adam", learningRate: 0.01 };
const MOMENTUM = { type: "sgd", learningRate: 0.05, momentum: 0.9 };

describe("what each training mode exports", () => {
  const ABI = ["memory", "__data_end", "__heap_base", "input_ptr", "output_ptr", "params_ptr", "forward"];
  const LOSS = ["target_ptr", "loss", "set_learning_rate", "train_step"];
  const GRADS = ["grads_ptr", "zero_grad", "backward", "step"];
  const BATCH = ["batch_ptr", "batch_output_ptr", "batch_capacity", "predict_samples"];
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["full (SGD)", {}, [...ABI, ...LOSS, ...GRADS, ...BATCH, "train_samples", "train_batch"]],
    ["full (Adam)", { optimizer: ADAM }, [...ABI, ...LOSS, ...GRADS, ...BATCH, "train_samples", "train_batch"]],
    ["full (momentum), no batch buffer", { optimizer: MOMENTUM, batch: undefined }, [...ABI, ...LOSS, ...GRADS]],
    ["lean", { training: "lean" }, [...ABI, ...LOSS, ...BATCH, "train_samples"]],
    ["lean, no batch buffer", { training: "lean", batch: undefined }, [...ABI, ...LOSS]],
    ["inference only", { training: "none", loss: undefined, optimizer: undefined }, [...ABI, ...BATCH]],
    ["inference only, no batch buffer", { training: "none", loss: undefined, optimizer: undefined, batch: undefined }, ABI],
  ];
  it.each(cases)("%s", async (_, extra, expected) => {
    const spec = irisSpec(extra);
    for (const [key, value] of Object.entries(extra)) if (value === undefined) delete spec[key];
    const built = await buildModel(parseSpec(spec));
    expect(exportNames(built.wasm)).toEqual([...expected].sort());
    const m = built.manifest;
    expect(m.buffers.grads === null).toBe(spec.training === "lean" || spec.training === "none");
    expect(m.buffers.target === null).toBe(spec.training === "none");
    if (spec.training === "none") {
      expect([m.loss, m.optimizer, m.learningRate, m.lossScratch]).toEqual([null, null, null, null]);
      expect(m.scratch.every((s) => s.dA === null && s.dZ === null)).toBe(true);
      expect(m.params.every((t) => !t.trainable && t.gradOffset === undefined)).toBe(true);
      if (m.batch) expect([m.batch.rowBytes, m.batch.targetInRow]).toEqual([4 * m.inputs, null]);
    }
  });

  it("inference only carries no backward code: its code section is the smallest, then lean, then full", async () => {
    const sizes = [];
    for (const extra of [{ training: "none", loss: undefined, optimizer: undefined }, { training: "lean" }, {}]) {
      const spec = irisSpec(extra);
      for (const [key, value] of Object.entries(extra)) if (value === undefined) delete spec[key];
      const built = await buildModel(parseSpec(spec));
      sizes.push(footprint(built.wasm, built.manifest).code);
    }
    expect(sizes[0]).toBeLessThan(sizes[1]);
    expect(sizes[1]).toBeLessThan(sizes[2]);
  });

  it("momentum 0 is plain SGD: the very module of a spec without the field", async () => {
    const plain = await buildModel(parseSpec(irisSpec()));
    const zero = await buildModel(parseSpec(irisSpec({ optimizer: { type: "sgd", learningRate: 0.05, momentum: 0 } })));
    expect(zero.wasm).toEqual(plain.wasm);
    expect(zero.manifest).toEqual(plain.manifest);
  });

  it("an inference-only module predicts as the training module does, from the same weights", async () => {
    const spec = irisSpec({ training: "none" });
    delete spec.loss;
    delete spec.optimizer;
    const [inference, full] = await Promise.all([load(parseSpec(spec)), load(parseSpec(irisSpec()))]);
    const rows = iris.inputs.slice(0, 16);
    inference.fw.setBatch(rows);
    full.fw.setBatch(rows, iris.targets.slice(0, 16));
    expect(inference.fw.predictSamples(16)).toEqual(full.fw.predictSamples(16));
  });
});

describe("frozen layers", () => {
  const optimizers: [string, Record<string, unknown>][] = [
    ["sgd", {}],
    ["sgd with exponential decay", { optimizer: { type: "sgd", learningRate: 0.05, decay: { type: "exponential", rate: 0.5, steps: 50 } } }],
    ["momentum", { optimizer: MOMENTUM }],
    ["adam with step decay", { optimizer: { ...ADAM, decay: { type: "step", rate: 0.5, steps: 30 } } }],
    ["lean sgd", { training: "lean" }],
  ];

  it.each(optimizers)("%s: a frozen layer stays bit for bit through every entry; it has no grads and backward stops above it", async (_, extra) => {
    const model = parseSpec(irisSpec(extra, [false, true]));
    const { built, fw } = await load(model);
    const m = built.manifest;
    expect(m.params.map((t) => t.trainable)).toEqual([false, false, true, true]);
    expect(m.params.map((t) => t.gradOffset !== undefined)).toEqual([false, false, m.training === "full", m.training === "full"]);
    expect(m.trainableParamCount).toBe(8 * 3 + 3);
    expect(m.scratch[0].dA).toBeNull();
    expect(m.scratch[0].dZ).toBeNull();
    const before = paramWords(fw);
    const e = fw.exports;
    fw.setBatch(iris.inputs.slice(0, 16), iris.targets.slice(0, 16));
    for (let k = 0; k < 5; k++) e.train_step!();
    e.train_samples!(16);
    if (e.train_batch) e.train_batch(8);
    if (e.backward) {
      e.zero_grad!();
      e.forward();
      e.backward();
      e.backward();
      e.step!();
    }
    e.set_learning_rate!(1 << 24);
    e.train_samples!(16);
    e.predict_samples!(16);
    const after = paramWords(fw);
    expect(after[0]).toEqual(before[0]);
    expect(after[1]).toEqual(before[1]);
    expect(after[2]).not.toEqual(before[2]);
    expect(after[3]).not.toEqual(before[3]);
  });

  it.each(optimizers)("%s: the trainable layer follows the float64 reference over 120 Iris rows, the frozen one stays as it was", async (_, extra) => {
    for (const trainable of [[false, true], [true, false]] as [boolean, boolean][]) {
      const model = parseSpec(irisSpec(extra, trainable));
      const { fw } = await load(model);
      let params = fw.params();
      const start = params;
      const optimizer = new Optimizer(model);
      const losses: [number, number][] = [];
      for (let start = 0; start < 120; start += 16) {
        const rows = Array.from({ length: 16 }, (_, k) => start + k);
        fw.setBatch(rows.map((r) => iris.inputs[r]), rows.map((r) => iris.targets[r]));
        const fixed = fw.trainSamples(16);
        let float = 0;
        for (const r of rows) {
          const step = trainStep(model, params, iris.inputs[r], iris.targets[r], optimizer);
          float += step.loss / 16;
          params = step.params;
        }
        losses.push([fixed, float]);
      }
      const got = fw.params();
      const frozen = trainable.indexOf(false);
      expect(got[frozen], `layer ${frozen} frozen`).toEqual(start[frozen]);
      expect(params[frozen]).toEqual(start[frozen]);
      expectWithin(flattenParams(got), flattenParams(params), TRAJECTORY.paramsAbsolute, `${trainable}: params after 128 rows`);
      for (const [fixed, float] of losses) {
        expect(Math.abs(fixed - float)).toBeLessThanOrEqual(TRAJECTORY.lossRelative * float + TRAJECTORY.lossAbsoluteLsb * LSB);
      }
    }
  });
});

describe(`momentum, Adam and the decay follow the float64 reference for ${TRAJECTORY.steps} steps`, () => {
  // One net per loss, with every hidden activation among them.
  const NETS = ["sigmoid → sigmoid, l2", "tanh → sigmoid, l1", "relu → sigmoid, huber", "linear → sigmoid, hinge", "tanh → sigmoid, cosine", "relu → softmax, cross_entropy"];
  const OPTIMIZERS = [
    { type: "sgd", learningRate: 0.1, momentum: 0.9 },
    { type: "sgd", learningRate: 0.1, momentum: 0.5, decay: { type: "step", rate: 0.5, steps: 10 } },
    { type: "adam", learningRate: 0.01 },
    { type: "adam", learningRate: 0.01, beta1: 0.5, beta2: 0.99, epsilon: 1e-4, decay: { type: "exponential", rate: 0.5, steps: 20 } },
  ];
  const cases = NETS.flatMap((name) => OPTIMIZERS.map((optimizer) => [name, JSON.stringify(optimizer), optimizer] as const));
  let worst = { error: 0, where: "" };
  afterAll(() => console.log(`trajectories: worst |module − reference| param ${worst.error.toExponential(2)} (${worst.where}); bound ${TRAJECTORY.paramsAbsolute.toExponential(2)}`));

  it.each(cases)("%s, %s", async (name, _, optimizer) => {
    const index = CASES.findIndex((c) => c.name === name);
    const net = drawNet(CASES[index], index);
    const model = parseSpec({
      name: "trajectory",
      inputs: 4,
      layers: net.model.layers.map(({ units, activation }) => ({ units, activation })),
      loss: net.model.loss,
      optimizer,
      weights: net.params,
      sample: { input: net.input, target: net.target },
    });
    const { fw } = await load(model);
    let params: LayerWeights[] = fw.params();
    const reference = new Optimizer(model);
    for (let k = 1; k <= TRAJECTORY.steps; k++) {
      const fixed = fw.trainStep();
      const step = trainStep(model, params, net.input, net.target, reference);
      params = step.params;
      const lossBound = TRAJECTORY.lossRelative * Math.abs(step.loss) + TRAJECTORY.lossAbsoluteLsb * LSB;
      expect(Math.abs(fixed - step.loss), `step ${k}: loss ${fixed} vs ${step.loss}`).toBeLessThanOrEqual(lossBound);
      const w = expectWithin(flattenParams(fw.params()), flattenParams(params), TRAJECTORY.paramsAbsolute, `step ${k}: params`);
      if (w.error > worst.error) worst = { error: w.error, where: `${name}, ${JSON.stringify(optimizer)}, step ${k}` };
    }
    expect(fw.stepCount()).toBe(model.optimizer.type === "adam" || model.optimizer.decay ? TRAJECTORY.steps : null);
    // The module's state tracks the reference's too (velocity, or Adam's first moment).
    if (model.optimizer.type === "adam") expectWithin(flattenParams(fw.state("m")), flattenParams(reference.m), 1e-6, "m");
    else expectWithin(flattenParams(fw.state("velocity")), flattenParams(reference.velocity), 1e-5, "velocity");
  });
});

describe("lean training", () => {
  const specs: [string, Record<string, unknown>, [boolean, boolean]][] = [
    ["sgd", {}, [true, true]],
    ["sgd with exponential decay", { optimizer: { type: "sgd", learningRate: 0.05, decay: { type: "exponential", rate: 0.9, steps: 7 } } }, [true, true]],
    ["sgd, layer 0 frozen", {}, [false, true]],
    ["sgd, the last layer frozen", {}, [true, false]],
  ];

  it.each(specs)("%s: params bit for bit those of the full module's train_step on the same rows", async (_, extra, trainable) => {
    const [lean, full] = await Promise.all([
      load(parseSpec(irisSpec({ ...extra, training: "lean" }, trainable))),
      load(parseSpec(irisSpec(extra, trainable))),
    ]);
    expect(lean.built.manifest.memory.bytesUsed).toBeLessThan(full.built.manifest.memory.bytesUsed);
    // Row by row through train_step …
    for (let r = 0; r < 40; r++) {
      for (const { fw } of [lean, full]) {
        fw.setInput(iris.inputs[r]);
        fw.setTarget(iris.targets[r]);
      }
      expect(lean.fw.trainStep(), `row ${r}`).toBe(full.fw.trainStep());
    }
    // … then 16 rows per call through train_samples on the lean side, train_step on the full one.
    for (let start = 40; start < 150; start += 16) {
      const rows = Array.from({ length: Math.min(16, 150 - start) }, (_, k) => start + k);
      lean.fw.setBatch(rows.map((r) => iris.inputs[r]), rows.map((r) => iris.targets[r]));
      lean.fw.trainSamples(rows.length);
      for (const r of rows) {
        full.fw.setInput(iris.inputs[r]);
        full.fw.setTarget(iris.targets[r]);
        full.fw.trainStep();
      }
    }
    const [a, b] = [paramWords(lean.fw), paramWords(full.fw)];
    a.forEach((words, k) => expect(words, `tensor ${k}`).toEqual(b[k]));
    expect(lean.fw.stepCount()).toBe(full.fw.stepCount());
  });
});

describe("memory, from the manifest", () => {
  let rows: MemoryRow[];
  beforeAll(async () => {
    rows = await memoryRows();
  });

  it("784-32-10: lean training takes at most 1.1× the linear memory of inference only", () => {
    const [inference, lean] = rows;
    expect([inference.variant, lean.variant]).toEqual(["inference only", "lean SGD"]);
    expect(lean.memoryBytes / inference.memoryBytes).toBeLessThanOrEqual(1.1);
  });

  it("each buffer is the size its definition gives: grads 4 bytes and each state buffer 8 per trainable param", () => {
    const params = 784 * 32 + 32 + 32 * 10 + 10;
    const lastLayer = 32 * 10 + 10;
    const byName = new Map(rows.map((r) => [r.variant, r]));
    const expected: [string, number, number, number][] = [
      // variant, trainable params, grads bytes, state bytes (+ 4 for the step counter)
      ["inference only", 0, 0, 0],
      ["lean SGD", params, 0, 0],
      ["SGD with grads", params, 4 * params, 0],
      ["momentum", params, 4 * params, 8 * params],
      ["Adam", params, 4 * params, 16 * params + 4],
      ["last layer only trainable, SGD", lastLayer, 4 * lastLayer, 0],
      ["last layer only trainable, lean SGD", lastLayer, 0, 0],
      ["last layer only trainable, Adam", lastLayer, 4 * lastLayer, 16 * lastLayer + 4],
    ];
    for (const [variant, trainable, grads, state] of expected) {
      const row = byName.get(variant)!;
      expect([row.trainableParams, row.grads, row.state], variant).toEqual([trainable, grads, state]);
    }
    // The grads and the state are what full training adds to lean training, up to 16-byte alignment.
    for (const variant of ["SGD with grads", "momentum", "Adam"]) {
      const row = byName.get(variant)!;
      const added = row.memoryBytes - byName.get("lean SGD")!.memoryBytes;
      expect(added - row.grads - row.state, variant).toBeGreaterThanOrEqual(0);
      expect(added - row.grads - row.state, variant).toBeLessThan(16 * 4);
    }
  });

  it("the README's memory table has the memory `npm run memory` prints for each variant", () => {
    // The module's own bytes are left out: they follow the kernels' code, not the layout.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    for (const row of rows) expect(readme).toContain(`| ${memoryCells(row).memory.join(" | ")} |`);
  });
});

describe("the CLI", () => {
  it("qfirm build --inference-only: forward and predict only, no grads, less memory; inspect and check agree", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qfirm-training-cli-"));
    try {
      const spec = join(ROOT, "examples", "iris.json");
      const [inference, full] = await Promise.all([
        qfirm("build", spec, "--out", join(dir, "inference"), "--inference-only"),
        qfirm("build", spec, "--out", join(dir, "full")),
      ]);
      expect(inference.code, inference.stderr).toBe(0);
      expect(inference.stdout).toMatch(/; 67 params \(inference only\)$/m);
      expect(full.stdout).toMatch(/; 67 params \(training full, 67 trainable\)$/m);
      const manifest = JSON.parse(await readFile(join(dir, "inference", "model.json"), "utf8"));
      const fullManifest = JSON.parse(await readFile(join(dir, "full", "model.json"), "utf8"));
      expect([manifest.training, manifest.buffers.grads, manifest.buffers.target, manifest.optimizer]).toEqual(["none", null, null, null]);
      expect(manifest.memory.bytesUsed).toBeLessThan(fullManifest.memory.bytesUsed);
      const wasm = new Uint8Array(await readFile(join(dir, "inference", "model.wasm")));
      expect(exportNames(wasm)).toEqual(["__data_end", "__heap_base", "forward", "input_ptr", "memory", "output_ptr", "params_ptr"]);
      const header = await readFile(join(dir, "inference", "model.h"), "utf8");
      expect(header).toContain('#define IRIS_TRAINING "none"');
      expect(header).not.toMatch(/GRADS_OFFSET|TARGET_OFFSET/);
      const inspect = await qfirm("inspect", join(dir, "inference"));
      expect(inspect.stdout).not.toMatch(/^(grads|target)\b/m);
      expect(inspect.stdout).toMatch(/^layer 0 z, a +\d+ +64$/m);

      // qfirm check on a spec with a frozen layer compares no gradient of it.
      const frozen = join(dir, "frozen.json");
      const example = JSON.parse(await readFile(join(ROOT, "examples", "documented-example.json"), "utf8"));
      example.layers[0].trainable = false;
      await writeFile(frozen, JSON.stringify(example));
      const check = await qfirm("check", frozen, "--json");
      expect(check.code, check.stderr).toBe(0);
      const keys = (JSON.parse(check.stdout) as { rows: { key: string }[] }).rows.map((r) => r.key);
      expect(keys.filter((k) => k.startsWith("∂L/∂W[1]") || k.startsWith("∂L/∂b[1]"))).toHaveLength(3);
      expect(keys.filter((k) => /^∂L\/∂(W|b|z|a)\[0\]/.test(k))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
