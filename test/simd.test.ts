// The web target's SIMD kernels (assembly/dense_simd.ts) give the scalar mcu module's
// results bit for bit: on every seeded net of test/support/nets.ts and every example,
// each export is called on both modules in the same state, and each result and the
// whole of linear memory must be equal after every call. The states: the spec's own
// weights and sample, seeded rows of ordinary values, then buffers filled with extreme
// and random words and learning rates from INT32_MIN to INT32_MAX (where the kernels'
// fast rows give way to the plain ones and their wrapped adds saturate). Only the
// dense kernels' scratch (manifest `accumulators`) may differ.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import type { Manifest } from "../src/build/manifest.js";
import type { Model } from "../src/spec/model.js";
import { parseSpec, parseSpecText } from "../src/spec/spec.js";
import { CASES, drawNet } from "./support/nets.js";
import { mulberry32u32 } from "./support/random.js";

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const BATCH = 4;
const ROUNDS = 8;
const LEARNING_RATES = [INT32_MAX, INT32_MIN, -1, 1, 0, 2 ** 20, -(2 ** 26)];

type Exports = Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };

function example(file: string): () => Model {
  return () => ({ ...parseSpecText(readFileSync(join(ROOT, "examples", file), "utf8"), file), batchCapacity: BATCH });
}

/** Formats at both ends: q31.1 (accShift above F), q2.30 (gradFormat = format), q16.16. */
function format(name: string, fmt: string, activations: [string, string]): () => Model {
  return () =>
    parseSpec({
      name, format: fmt, inputs: 9,
      layers: [{ units: 13, activation: activations[0] }, { units: 6, activation: activations[1] }],
      loss: { type: "l2" }, optimizer: { type: "sgd", learningRate: 0.5 }, init: { seed: 5 },
      batch: { capacity: BATCH },
    });
}

const MODELS: [string, () => Model][] = [
  ...CASES.map((c, k): [string, () => Model] => [`net ${c.name}`, () => ({ ...drawNet(c, k).model, batchCapacity: BATCH })]),
  ["the documented example", example("documented-example.json")],
  ["iris", example("iris.json")],
  ["mnist", example("mnist.json")],
  ["q31.1, 9-13-6 sigmoid/relu", format("tiny-format", "q31.1", ["sigmoid", "relu"])],
  ["q2.30, 9-13-6 tanh/linear", format("fine-format", "q2.30", ["tanh", "linear"])],
  ["q16.16, 9-13-6 relu/tanh", format("mid-format", "q16.16", ["relu", "tanh"])],
];

async function instantiate(wasm: Uint8Array<ArrayBuffer>): Promise<Exports> {
  return (await WebAssembly.instantiate(await WebAssembly.compile(wasm), {})).exports as Exports;
}

/** Regions a host may write: input, target, params, grads, the batch rows. */
function fillable(m: Manifest): [number, number][] {
  const regions: [number, number][] = [
    [m.buffers.input, m.inputs],
    [m.buffers.params, m.paramCount],
  ];
  if (m.buffers.target !== null) regions.push([m.buffers.target, m.outputs]);
  if (m.buffers.grads !== null) regions.push([m.buffers.grads, m.trainableParamCount]);
  if (m.batch) regions.push([m.batch.offset, (m.batch.capacity * m.batch.rowBytes) / 4]);
  return regions;
}

/** Ordinary values: inputs and targets in (−2, 2) in the model's format. */
function ordinary(seed: number, fracBits: number): () => number {
  const next = mulberry32u32(seed);
  return () => Math.round(((next() / 2 ** 32) * 4 - 2) * 2 ** fracBits);
}

/** Extreme words: the edges, the whole i32 range, every scale. */
function extreme(seed: number, fracBits: number): () => number {
  const next = mulberry32u32(seed);
  const edges = [INT32_MIN, INT32_MAX, 0, 1, -1, INT32_MIN + 1, INT32_MAX - 1, 2 ** fracBits, -(2 ** fracBits)];
  return () => {
    const pick = next() % 8;
    if (pick < 2) return edges[next() % edges.length];
    if (pick < 5) return next() | 0;
    return (next() | 0) >> next() % 32;
  };
}

describe.each(MODELS)("%s", (_, make) => {
  it("the SIMD (web) and scalar (mcu) modules agree bit for bit on every export, in every state", async () => {
    const model = make();
    const [web, mcu] = await Promise.all([buildModel(model, "web"), buildModel(model, "mcu")]);
    expect(web.manifest.buffers, "one layout for both targets").toEqual(mcu.manifest.buffers);
    const m = mcu.manifest;
    // The dense kernels' scratch (the SIMD ones keep rounding biases there) is no result.
    const scratch = [m.accumulators.offset / 4, (m.accumulators.offset + m.accumulators.bytes) / 4];
    const [a, b] = [await instantiate(web.wasm), await instantiate(mcu.wasm)];
    const problems: string[] = [];
    const same = (what: string, ra: number | undefined, rb: number | undefined) => {
      if (ra !== rb) problems.push(`${what}: returned ${ra} (web) vs ${rb} (mcu)`);
      const wa = new Int32Array(a.memory.buffer);
      const wb = new Int32Array(b.memory.buffer);
      const at = wa.findIndex((v, k) => v !== wb[k] && !(k >= scratch[0] && k < scratch[1]));
      if (at >= 0) problems.push(`${what}: memory word ${at} (byte ${4 * at}) is ${wa[at]} (web) vs ${wb[at]} (mcu)`);
    };
    const both = (name: string, ...args: number[]) => same(`${name}(${args.join(", ")})`, a[name](...args), b[name](...args));
    const fill = (words: () => number) => {
      const values = fillable(m).map(([offset, n]) => [offset, Array.from({ length: n }, words)] as const);
      for (const e of [a, b]) for (const [offset, v] of values) new Int32Array(e.memory.buffer).set(v, offset / 4);
    };
    const everyExport = () => {
      both("forward");
      both("loss");
      both("zero_grad");
      both("backward");
      both("step");
      for (let k = 0; k < 3; k++) both("train_step");
      both("train_samples", BATCH);
      both("train_batch", BATCH);
      both("predict_samples", BATCH);
      both("train_samples", 1);
    };
    // The spec's weights and sample (or zeros), then ordinary rows.
    same("instantiation", 0, 0);
    everyExport();
    fill(ordinary(1, m.format.fracBits));
    everyExport();
    for (let round = 0; round < ROUNDS; round++) {
      fill(extreme(100 + round, m.format.fracBits));
      both("set_learning_rate", LEARNING_RATES[round % LEARNING_RATES.length]);
      everyExport();
    }
    expect(problems.slice(0, 10), problems.slice(0, 10).join("\n")).toEqual([]);
  });
});
