// "Nothing wraps and nothing traps, whatever the buffers hold" (DESIGN.md, ABI v1),
// and nothing writes where it should not.
//
// For models covering every activation and every loss, in formats from q31.1 to
// q2.30, every optimizer (SGD, momentum, Adam, with and without a learning-rate
// decay), frozen layers, and the lean and inference-only modules, the buffers a host
// may write (input, target, params, grads, the optimizer state and step counter, the
// per-layer scratch, the loss scratch, the batch rows and outputs) are filled with
// seeded random i32 values, INT32_MIN and INT32_MAX included, and with uniform fills
// (all INT32_MIN, all INT32_MAX, all zero: zero vectors for the cosine loss, equal
// logits for softmax, a step count of INT32_MAX or negative). Then every export the
// module has is called, the learning rate set to extreme values, and the batched
// entries called with row counts from INT32_MIN to INT32_MAX. Each call must return
// (a trap is a WebAssembly.RuntimeError), and the whole of linear memory is compared
// before and after it: a word may change only inside the regions the call may write,
// from the manifest (strictly the tensors' lengths, not their alignment padding):
//
//   forward          z and a of every layer, the dense kernels' scratch
//   loss             lossScratch
//   backward         dA and dZ of every layer, grads, lossScratch
//   zero_grad        grads
//   step             the trainable params, the optimizer state and step counter
//   train_step       all of the above
//   train_samples,   as train_step
//   train_batch
//   predict_samples  z and a of every layer, the accumulators, the batch outputs
//   the rest         nothing
//
// Never a frozen layer's params, the tables, the input, the target or the batch rows.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import type { Manifest } from "../src/build/manifest.js";
import { parseSpec, parseSpecText } from "../src/spec/spec.js";
import type { Model } from "../src/spec/model.js";
import { mulberry32u32 as mulberry32 } from "./support/random.js";

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** Fills per model; each is followed by every call. The first ones are the uniform fills. */
const ROUNDS = 24;
const SEED = 0x7e57;
/** Row counts for the batched entries: negative, zero, inside, at and past the capacity of 4. */
const BATCH_ROWS = [-1, 0, 2, 4, 5, INT32_MAX, INT32_MIN];
const LEARNING_RATES = [INT32_MIN, INT32_MAX, 0, -1, 1, INT32_MIN + 1];

interface Case {
  name: string;
  model: () => Model;
}

function spec(
  name: string,
  format: string,
  layers: [number, string, boolean?][],
  loss: Record<string, unknown> | undefined,
  extra: Record<string, unknown> = {},
): () => Model {
  return () =>
    parseSpec({
      name,
      format,
      inputs: 4,
      layers: layers.map(([units, activation, trainable]) => ({ units, activation, ...(trainable === false ? { trainable } : {}) })),
      ...(loss ? { loss, optimizer: { type: "sgd", learningRate: 0.5 } } : {}),
      init: { seed: name.length },
      batch: { capacity: 4 },
      ...extra,
    });
}

const ADAM = { type: "adam", learningRate: 0.01 };

// Every activation (sigmoid, tanh, relu, linear, softmax) and every loss; formats
// from q31.1 (accShift above F in the dense sums) to q2.30 (gradFormat = format).
const CASES: Case[] = [
  { name: "tanh → sigmoid, l2, q8.24", model: spec("tanh-sigmoid-l2", "q8.24", [[5, "tanh"], [3, "sigmoid"]], { type: "l2" }) },
  { name: "relu → linear, l1, q16.16", model: spec("relu-linear-l1", "q16.16", [[5, "relu"], [3, "linear"]], { type: "l1" }) },
  { name: "sigmoid → tanh, huber, q2.30", model: spec("sigmoid-tanh-huber", "q2.30", [[5, "sigmoid"], [3, "tanh"]], { type: "huber", delta: 0.5 }) },
  { name: "tanh → tanh, hinge, q8.24", model: spec("tanh-tanh-hinge", "q8.24", [[5, "tanh"], [3, "tanh"]], { type: "hinge" }) },
  { name: "relu → softmax, cross_entropy, q4.28", model: spec("relu-softmax-ce", "q4.28", [[5, "relu"], [4, "softmax"]], { type: "cross_entropy" }) },
  { name: "sigmoid → linear, cosine, q12.20", model: spec("sigmoid-linear-cosine", "q12.20", [[5, "sigmoid"], [3, "linear"]], { type: "cosine" }) },
  { name: "sigmoid → relu, l2, q31.1", model: spec("sigmoid-relu-tiny", "q31.1", [[5, "sigmoid"], [3, "relu"]], { type: "l2" }) },
  {
    name: "the documented example (no batch buffer)",
    model: () => parseSpecText(readFileSync(join(ROOT, "examples", "documented-example.json"), "utf8")),
  },
  // Optimizers, decays, frozen layers, lean and inference-only modules.
  {
    name: "momentum 0.9 with exponential decay, tanh → softmax, q8.24",
    model: spec("momentum-ce", "q8.24", [[5, "tanh"], [4, "softmax"]], { type: "cross_entropy" }, {
      optimizer: { type: "sgd", learningRate: 0.5, momentum: 0.9, decay: { type: "exponential", rate: 0.5, steps: 3 } },
    }),
  },
  {
    name: "momentum 0.999 (10 bits of headroom), relu → linear, l2, q16.16",
    model: spec("momentum-high", "q16.16", [[5, "relu"], [3, "linear"]], { type: "l2" }, {
      optimizer: { type: "sgd", learningRate: 0.5, momentum: 0.999 },
    }),
  },
  {
    name: "adam, sigmoid → tanh, huber, q2.30 (gradFormat q2.30: ε in q.62)",
    model: spec("adam-huber", "q2.30", [[5, "sigmoid"], [3, "tanh"]], { type: "huber", delta: 0.5 }, { optimizer: { ...ADAM, epsilon: 1 } }),
  },
  {
    name: "adam with step decay, layer 0 frozen, relu → softmax, q12.20",
    model: spec("adam-frozen", "q12.20", [[5, "relu", false], [4, "softmax"]], { type: "cross_entropy" }, {
      optimizer: { ...ADAM, beta1: 0, beta2: 0.99999, decay: { type: "step", rate: 0.5, steps: 2 } },
    }),
  },
  {
    name: "plain SGD with the last layer frozen, tanh → sigmoid, cosine, q8.24",
    model: spec("sgd-last-frozen", "q8.24", [[5, "tanh"], [3, "sigmoid", false]], { type: "cosine" }),
  },
  {
    name: "lean, with exponential decay, relu → linear, l1, q12.20",
    model: spec("lean-l1", "q12.20", [[5, "relu"], [3, "linear"]], { type: "l1" }, {
      training: "lean",
      optimizer: { type: "sgd", learningRate: 0.5, decay: { type: "exponential", rate: 0.9, steps: 1 } },
    }),
  },
  {
    name: "lean, layer 0 frozen, tanh → softmax, q8.24",
    model: spec("lean-frozen", "q8.24", [[5, "tanh", false], [4, "softmax"]], { type: "cross_entropy" }, { training: "lean" }),
  },
  {
    name: "inference only, tanh → softmax, q8.24",
    model: spec("inference-softmax", "q8.24", [[5, "tanh"], [4, "softmax"]], undefined, { training: "none" }),
  },
  {
    name: "inference only, sigmoid → relu, q31.1",
    model: spec("inference-tiny", "q31.1", [[5, "sigmoid"], [3, "relu"]], undefined, { training: "none" }),
  },
];

// ---------------------------------------------------------------------------------


/** A word generator for one round: uniform fills first, then random words weighted to the edges. */
function wordsFor(round: number, fracBits: number): () => number {
  const uniform = [INT32_MIN, INT32_MAX, 0];
  if (round < uniform.length) return () => uniform[round];
  if (round === uniform.length) {
    let k = 0;
    return () => (k++ % 2 ? INT32_MAX : INT32_MIN);
  }
  const next = mulberry32(SEED * 1000 + round);
  const edges = [INT32_MIN, INT32_MAX, 0, 1, -1, INT32_MIN + 1, INT32_MAX - 1, 2 ** fracBits, -(2 ** fracBits)];
  return () => {
    const pick = next() % 8;
    if (pick < 2) return edges[next() % edges.length];
    if (pick < 5) return next() | 0; // anywhere in the i32 range
    return (next() | 0) >> (next() % 32); // every scale
  };
}

type Region = { name: string; offset: number; words: number };

interface Regions {
  /** What a host may fill. */
  fillable: Region[];
  /** What each call may write. */
  writes: Record<string, Region[]>;
}

const present = (name: string, offset: number | null | undefined, words: number): Region[] =>
  offset === null || offset === undefined ? [] : [{ name, offset, words }];

function regionsOf(m: Manifest): Regions {
  const units = m.scratch.map((_, l) => m.params[2 * l].shape[1]); // layer l's weight is tensor 2l
  const za = [
    ...m.scratch.flatMap((s, l) => [
      { name: `scratch[${l}].z`, offset: s.z, words: units[l] },
      { name: `scratch[${l}].a`, offset: s.a, words: units[l] },
    ]),
    { name: "accumulators", offset: m.accumulators.offset, words: m.accumulators.bytes / 4 },
  ];
  const deltas = m.scratch.flatMap((s, l) => [
    ...present(`scratch[${l}].dA`, s.dA, units[l]),
    ...present(`scratch[${l}].dZ`, s.dZ, units[l]),
  ]);
  const tensorWords = (t: { shape: number[] }) => t.shape.reduce((a, b) => a * b);
  const params = m.params.map((t) => ({ name: `params L${t.layer} ${t.kind}${t.trainable ? "" : " (frozen)"}`, offset: t.offset, words: tensorWords(t) }));
  const trainable = params.filter((_, k) => m.params[k].trainable);
  const grads = present("grads", m.buffers.grads, m.trainableParamCount);
  const state = [
    ...(m.optimizer?.buffers ?? []).map((b) => ({ name: `optimizer ${b.name}`, offset: b.offset, words: b.bytes / 4 })),
    ...present("step counter", m.optimizer?.step?.offset, 1),
  ];
  const lossScratch = present("lossScratch", m.lossScratch, 4);
  const batchRows = m.batch ? [{ name: "batch rows", offset: m.batch.offset, words: (m.batch.capacity * m.batch.rowBytes) / 4 }] : [];
  const batchOutput = m.batch ? [{ name: "batch outputs", offset: m.batch.outputOffset, words: m.batch.capacity * m.outputs }] : [];
  const training = [...za, ...deltas, ...grads, ...lossScratch, ...trainable, ...state];
  return {
    fillable: [
      { name: "input", offset: m.buffers.input, words: m.inputs },
      ...present("target", m.buffers.target, m.outputs),
      ...params, ...grads, ...state, ...za, ...deltas, ...lossScratch, ...batchRows, ...batchOutput,
    ],
    writes: {
      forward: za,
      loss: lossScratch,
      backward: [...deltas, ...grads, ...lossScratch],
      zero_grad: grads,
      step: [...trainable, ...state],
      set_learning_rate: [],
      train_step: training,
      train_samples: training,
      train_batch: training,
      predict_samples: [...za, ...batchOutput],
      input_ptr: [], output_ptr: [], target_ptr: [], params_ptr: [], grads_ptr: [],
    },
  };
}

/** Every named region of the manifest, to say where a stray write landed. */
function whereIs(m: Manifest, regions: Regions, byte: number): string {
  const known: Region[] = [...regions.fillable];
  if (m.lut.offset !== null) known.push({ name: "tanh table", offset: m.lut.offset, words: m.lut.entries });
  if (m.expTable) known.push({ name: "exp table", offset: m.expTable.offset, words: m.expTable.entries });
  const hit = known.find((r) => byte >= r.offset && byte < r.offset + 4 * r.words);
  return hit ? `${hit.name}[${(byte - hit.offset) / 4}]` : byte >= m.memory.bytesUsed ? "past the buffers" : "padding between buffers";
}

// ---------------------------------------------------------------------------------

describe.each(CASES)("$name", ({ model: make }) => {
  const training = make().training;
  let wasm: Uint8Array<ArrayBuffer>;
  let manifest: Manifest;
  beforeAll(async () => {
    const built = await buildModel(make());
    wasm = built.wasm;
    manifest = built.manifest;
  });

  it(`no export traps and none writes outside its regions, over ${ROUNDS} fills of the buffers`, async () => {
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
    const exports = instance.exports as Record<string, (...args: number[]) => number | void> & { memory: WebAssembly.Memory };
    const memory = exports.memory;
    const bytes = memory.buffer.byteLength;
    expect(bytes, "memory pages").toBe(manifest.memory.pages * 65536);
    const regions = regionsOf(manifest);
    const F = manifest.format.fracBits;

    /** Per call kind, a mask of the words it may write. */
    const masks = new Map<string, Uint8Array>();
    for (const [call, allowed] of Object.entries(regions.writes)) {
      const mask = new Uint8Array(bytes / 4);
      for (const r of allowed) mask.fill(1, r.offset / 4, r.offset / 4 + r.words);
      masks.set(call, mask);
    }

    const problems: string[] = [];
    let calls = 0;
    const call = (round: number, name: string, ...args: number[]) => {
      const fn = exports[name];
      if (typeof fn !== "function") throw new Error(`the module does not export ${name}`);
      const what = `round ${round}: ${name}(${args.join(", ")})`;
      const before = new Int32Array(memory.buffer).slice();
      calls++;
      try {
        fn(...args);
      } catch (error) {
        problems.push(`${what} trapped: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      if (memory.buffer.byteLength !== bytes) problems.push(`${what} grew memory to ${memory.buffer.byteLength} bytes`);
      const after = new Int32Array(memory.buffer);
      const mask = masks.get(name)!;
      for (let k = 0; k < before.length; k++) {
        if (before[k] !== after[k] && !mask[k]) {
          problems.push(`${what} wrote ${whereIs(manifest, regions, 4 * k)} (byte ${4 * k}): ${before[k]} → ${after[k]}`);
          if (problems.length > 50) throw new Error(problems.join("\n"));
        }
      }
    };
    const fill = (round: number) => {
      const next = wordsFor(round, F);
      const mem = new Int32Array(memory.buffer);
      for (const r of regions.fillable) for (let k = 0; k < r.words; k++) mem[r.offset / 4 + k] = next();
    };

    const has = (name: string) => typeof exports[name] === "function";
    for (let round = 0; round < ROUNDS; round++) {
      const rate = LEARNING_RATES[round % LEARNING_RATES.length];
      // Calls on whatever the fill left in scratch (garbage activations and deltas) …
      fill(round);
      for (const name of ["backward", "loss"]) if (has(name)) call(round, name);
      if (has("set_learning_rate")) call(round, "set_learning_rate", rate);
      if (has("step")) call(round, "step");
      // … then in the order a host uses them.
      fill(round);
      call(round, "forward");
      if (has("loss")) call(round, "loss");
      if (has("backward")) {
        call(round, "zero_grad");
        call(round, "backward");
        call(round, "backward"); // accumulates into saturated grads
        call(round, "step");
        call(round, "step"); // the step counter and state after a step
      }
      if (has("train_step")) call(round, "train_step");
      for (const name of ["input_ptr", "output_ptr", "target_ptr", "params_ptr", "grads_ptr"]) if (has(name)) call(round, name);
      if (manifest.batch) {
        for (const name of ["train_samples", "train_batch", "predict_samples"].filter(has)) {
          for (const rows of BATCH_ROWS) {
            fill(round);
            if (has("set_learning_rate")) call(round, "set_learning_rate", rate);
            call(round, name, rows);
          }
        }
      }
    }
    expect(problems, problems.slice(0, 20).join("\n")).toEqual([]);
    // Nothing was skipped: every round made every call the module's exports allow.
    const exported = (names: string[]) => names.filter(has).length;
    const batched = manifest.batch ? exported(["train_samples", "train_batch", "predict_samples"]) : 0;
    const setter = has("set_learning_rate") ? 1 : 0;
    const perRound =
      exported(["backward", "loss", "step"]) + setter + 1 + exported(["loss"]) + (has("backward") ? 5 : 0) + exported(["train_step"]) +
      exported(["input_ptr", "output_ptr", "target_ptr", "params_ptr", "grads_ptr"]) + batched * BATCH_ROWS.length * (1 + setter);
    expect(calls).toBe(ROUNDS * perRound);
    // The modes export what they should (test/training.test.ts checks each list exactly).
    expect(has("zero_grad")).toBe(manifest.training === "full");
    expect(has("train_step")).toBe(manifest.training !== "none");
  });

  // Lean and inference-only modules have no zero_grad, backward or step to define them by.
  if (training === "full") it(`train_step and train_samples equal their definitions bit for bit, over ${ROUNDS} fills`, async () => {
    // train_step is zero_grad, forward, backward, step (ABI v1), and train_samples(n) is
    // that for each row; with plain SGD both are generated fused (dense_backward_step).
    // On any buffers (optimizer state and step counter included), the fused and the
    // plain sequence must leave the same result and the same memory.
    const load = async () => {
      const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
      return instance.exports as Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };
    };
    const [fused, plain] = [await load(), await load()];
    const regions = regionsOf(manifest);
    const F = manifest.format.fracBits;
    const fill = (e: { memory: WebAssembly.Memory }, round: number) => {
      const next = wordsFor(round, F);
      const mem = new Int32Array(e.memory.buffer);
      for (const r of regions.fillable) for (let k = 0; k < r.words; k++) mem[r.offset / 4 + k] = next();
    };
    // The dense kernels' scratch is no result: only the fused step uses it.
    const scratch: Region = { name: "accumulators", offset: manifest.accumulators.offset, words: manifest.accumulators.bytes / 4 };
    const differences = (what: string, skip: Region[] = []): string[] => {
      const a = new Int32Array(fused.memory.buffer);
      const b = new Int32Array(plain.memory.buffer);
      const skipped = (k: number) => [scratch, ...skip].some((r) => k >= r.offset / 4 && k < r.offset / 4 + r.words);
      const out: string[] = [];
      for (let k = 0; k < a.length; k++) {
        if (a[k] !== b[k] && !skipped(k)) out.push(`${what}: ${whereIs(manifest, regions, 4 * k)} ${a[k]} (fused) vs ${b[k]} (plain)`);
      }
      return out;
    };
    const problems: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const rate = LEARNING_RATES[round % LEARNING_RATES.length];
      for (const e of [fused, plain]) {
        fill(e, round);
        e.set_learning_rate(rate);
      }
      const lossFused = fused.train_step();
      plain.zero_grad();
      plain.forward();
      const lossPlain = plain.loss();
      plain.backward();
      plain.step();
      if (lossFused !== lossPlain) problems.push(`round ${round} train_step: loss ${lossFused} vs ${lossPlain}`);
      problems.push(...differences(`round ${round} train_step`).slice(0, 5));

      if (!manifest.batch) continue;
      const batch = manifest.batch;
      for (const e of [fused, plain]) {
        fill(e, round);
        e.set_learning_rate(rate);
      }
      const rows = 1 + (round % batch.capacity);
      const meanFused = fused.train_samples(rows);
      let sum = 0n;
      for (let k = 0; k < rows; k++) {
        // Row k into input and target, then the plain sequence.
        const mem = new Int32Array(plain.memory.buffer);
        const row = (batch.offset + k * batch.rowBytes) / 4;
        mem.copyWithin(manifest.buffers.input / 4, row, row + manifest.inputs);
        const targetInRow = batch.targetInRow! / 4;
        mem.copyWithin(manifest.buffers.target! / 4, row + targetInRow, row + targetInRow + manifest.outputs);
        plain.zero_grad();
        plain.forward();
        sum += BigInt(plain.loss());
        plain.backward();
        plain.step();
      }
      // The mean, rounded half away from zero (q.ts div_round_i64).
      const n = BigInt(rows);
      const mean = Number(sum >= 0n ? (sum + n / 2n) / n : -((-sum + n / 2n) / n));
      if (meanFused !== mean) problems.push(`round ${round} train_samples(${rows}): mean loss ${meanFused} vs ${mean}`);
      const io = [
        { name: "input", offset: manifest.buffers.input, words: manifest.inputs },
        { name: "target", offset: manifest.buffers.target!, words: manifest.outputs },
      ];
      problems.push(...differences(`round ${round} train_samples(${rows})`, io).slice(0, 5));
    }
    expect(problems, problems.slice(0, 20).join("\n")).toEqual([]);
  });

  it("no export traps even when every byte of memory, tables included, is random", async () => {
    const next = mulberry32(SEED ^ 0x7ab1e);
    for (let round = 0; round < 8; round++) {
      const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
      const exports = instance.exports as Record<string, (...args: number[]) => number | void> & { memory: WebAssembly.Memory };
      const words = new Int32Array(exports.memory.buffer);
      const fill = round === 0 ? () => 0 : round === 1 ? () => INT32_MIN : round === 2 ? () => INT32_MAX : () => next() | 0;
      for (let i = 0; i < words.length; i++) words[i] = fill();
      for (const name of ["forward", "loss", "zero_grad", "backward", "step", "train_step"]) {
        if (exports[name]) expect(() => exports[name](), `${name}, round ${round}`).not.toThrow();
      }
      for (const name of ["train_samples", "train_batch", "predict_samples"]) {
        if (exports[name]) expect(() => exports[name](4), `${name}, round ${round}`).not.toThrow();
      }
    }
  });

  it("the pointer exports give the manifest's offsets", async () => {
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
    const e = instance.exports as Record<string, () => number>;
    const b = manifest.buffers;
    const pointers: [string, number | null][] = [
      ["input_ptr", b.input], ["output_ptr", b.output], ["target_ptr", b.target], ["params_ptr", b.params], ["grads_ptr", b.grads],
    ];
    for (const [name, offset] of pointers) {
      // A buffer the module does not have has no pointer export.
      if (offset === null) expect(e[name], name).toBeUndefined();
      else expect(e[name](), name).toBe(offset);
    }
  });
});
