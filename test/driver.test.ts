// The driver's checks on what a host writes (src/run/driver.ts): wrong lengths, NaN,
// ±Infinity and values beyond the format's range are QRangeErrors whose message names
// the buffer and, for a bad value, its index (input[i], target[i]); and a rejected call
// writes nothing: the whole of linear memory is compared before and after.
//
// Accepted values land as round(v · 2^F), half away from zero, computed here
// independently of src/spec/format.ts.

import { fc, test } from "@fast-check/vitest";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel, type Built } from "../src/build/build.js";
import { Firmware } from "../src/run/driver.js";
import { QRangeError } from "../src/spec/format.js";
import { parseSpec } from "../src/spec/spec.js";

const F = 24;
const SCALE = 2 ** F;
const INPUTS = 3;
const OUTPUTS = 2;
const CAPACITY = 4;
const SEED = 0xd41e;

/** The largest and smallest values q8.24 holds, and the first ones beyond, as doubles. */
const EDGES = {
  max: (2 ** 31 - 1) / SCALE, // 127.99999994…
  min: -128,
  /** Rounds (half away from zero) to 2^31: beyond. */
  aboveMax: 128 - 2 ** -25,
  /** −2^31 − 0.5 LSB rounds away from zero to −2^31 − 1: beyond. */
  belowMin: -128 - 2 ** -25,
  /** −2^31 − 0.25 LSB rounds to −2^31: inside. */
  justBelowMin: -128 - 2 ** -26,
};

/** round(v · 2^F) half away from zero, or null when v is not finite or the result is beyond i32. */
function expectedQ(v: unknown): number | null {
  if (typeof v !== "number" || !Number.isFinite(v)) return null;
  const scaled = Math.abs(v * SCALE); // a power-of-two scaling: exact unless it overflows
  const whole = Math.floor(scaled);
  const q = Math.sign(v) * (scaled - whole >= 0.5 ? whole + 1 : whole); // scaled − whole is exact
  if (!Number.isFinite(q) || q > 2 ** 31 - 1 || q < -(2 ** 31)) return null;
  return q === 0 ? 0 : q;
}

let built: Built;

beforeAll(async () => {
  const model = parseSpec({
    name: "driver-checks",
    inputs: INPUTS,
    layers: [{ units: 4, activation: "tanh" }, { units: OUTPUTS, activation: "sigmoid" }],
    optimizer: { type: "sgd", learningRate: 0.25 },
    init: { seed: 3 },
    batch: { capacity: CAPACITY },
  });
  built = await buildModel(model);
});

async function fresh(): Promise<Firmware> {
  return Firmware.load(built.wasm, built.manifest);
}

function snapshot(fw: Firmware): Uint8Array {
  return new Uint8Array(fw.exports.memory.buffer).slice();
}

/** Runs `call`, which must throw a QRangeError whose message matches `names`, and leave memory as it was. */
function expectRejected(fw: Firmware, call: () => unknown, names: RegExp): QRangeError {
  const before = snapshot(fw);
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error, "expected a QRangeError").toBeInstanceOf(QRangeError);
  const message = (error as Error).message;
  expect(message).toMatch(names);
  expect(message).not.toMatch(/\n/);
  const after = new Uint8Array(fw.exports.memory.buffer);
  const changed = after.findIndex((b, k) => b !== before[k]);
  expect(changed, changed >= 0 ? `byte ${changed} changed (${before[changed]} → ${after[changed]})` : "").toBe(-1);
  return error as QRangeError;
}

const BAD_VALUES: [string, number][] = [
  ["NaN", NaN],
  ["+Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["128 − ½ LSB (rounds to 2^31)", EDGES.aboveMax],
  ["−128 − ½ LSB (rounds to −2^31 − 1)", EDGES.belowMin],
  ["1e10", 1e10],
  ["−1e300", -1e300],
  ["Number.MAX_VALUE", Number.MAX_VALUE],
];

describe.each([
  { buffer: "input", length: INPUTS, set: (fw: Firmware, v: ArrayLike<number>) => fw.setInput(v), offset: () => built.manifest.buffers.input },
  { buffer: "target", length: OUTPUTS, set: (fw: Firmware, v: ArrayLike<number>) => fw.setTarget(v), offset: () => built.manifest.buffers.target! },
])("set$buffer", ({ buffer, length, set, offset }) => {
  it("turns away a wrong length (short, long, empty) naming the buffer, writing nothing", async () => {
    const fw = await fresh();
    for (const n of [length - 1, length + 1, 0, 1000]) {
      expectRejected(fw, () => set(fw, new Array(n).fill(0.5)), new RegExp(`^${buffer}: has ${n} values`));
    }
  });

  it.each(BAD_VALUES)("turns away %s at every index, naming it, writing nothing", async (_, bad) => {
    const fw = await fresh();
    for (let i = 0; i < length; i++) {
      const values = Array.from({ length }, (_, k) => (k === i ? bad : 0.25 * (k + 1)));
      expectRejected(fw, () => set(fw, values), new RegExp(`^${buffer}\\[${i}\\]: `));
      expectRejected(fw, () => set(fw, Float64Array.from(values)), new RegExp(`^${buffer}\\[${i}\\]: `));
    }
  });

  it("turns away what is not a number (a string, null, undefined), naming the index", async () => {
    const fw = await fresh();
    for (const bad of ["0.5", null, undefined, {}, [0.5]]) {
      const values = Array.from({ length }, (_, k) => (k === length - 1 ? bad : 0.5)) as unknown as number[];
      expectRejected(fw, () => set(fw, values), new RegExp(`^${buffer}\\[${length - 1}\\]: `));
    }
  });

  it("accepts the range's edges exactly: max, min, and −128 − ¼ LSB (which rounds to min)", async () => {
    const fw = await fresh();
    for (const edge of [EDGES.max, EDGES.min, EDGES.justBelowMin]) {
      set(fw, new Array(length).fill(edge));
      const words = new Int32Array(fw.exports.memory.buffer, offset(), length);
      expect(Array.from(words)).toEqual(new Array(length).fill(expectedQ(edge)));
    }
  });

  const anyDouble = fc.oneof(
    fc.double(), // NaN, ±Infinity, ±0, subnormals, huge
    fc.double({ min: -130, max: 130 }),
    fc.constantFrom(EDGES.max, EDGES.min, EDGES.aboveMax, EDGES.belowMin, EDGES.justBelowMin, 0.5 / SCALE, -0.5 / SCALE, 1.5 / SCALE, -0),
  );

  test.prop([fc.array(anyDouble, { minLength: length, maxLength: length })], { seed: SEED + length, numRuns: 400 })(
    "writes round(v·2^F) half away from zero for every value, or throws naming the first bad one and writes nothing",
    async (values) => {
      const fw = await fresh();
      const expected = values.map(expectedQ);
      const firstBad = expected.indexOf(null);
      if (firstBad >= 0) {
        expectRejected(fw, () => set(fw, values), new RegExp(`^${buffer}\\[${firstBad}\\]: `));
        return;
      }
      const before = snapshot(fw);
      set(fw, values);
      const after = new Uint8Array(fw.exports.memory.buffer);
      const at = offset();
      expect(Array.from(new Int32Array(fw.exports.memory.buffer, at, length))).toEqual(expected);
      const stray = after.findIndex((b, k) => (k < at || k >= at + 4 * length) && b !== before[k]);
      expect(stray, `byte ${stray} outside ${buffer} changed`).toBe(-1);
    },
  );
});

describe("the other writes", () => {
  it("setLearningRate turns away NaN, ±Infinity and values beyond the format, naming learningRate, leaving the rate as it was", async () => {
    const fw = await fresh();
    for (const bad of [NaN, Infinity, -Infinity, 1e10, EDGES.aboveMax]) {
      expectRejected(fw, () => fw.setLearningRate(bad), /^learningRate: /);
    }
    // The rate is still the spec's: one step moves params exactly as on a fresh module.
    const control = await fresh();
    for (const f of [fw, control]) {
      f.setInput([0.5, -0.25, 1]);
      f.setTarget([0.9, 0.1]);
      f.trainStep();
    }
    expect(fw.params()).toEqual(control.params());
  });

  it("the batched calls turn away row counts outside 0 to capacity before calling the module", async () => {
    const fw = await fresh();
    for (const rows of [-1, CAPACITY + 1, 1.5, NaN, Infinity, 2 ** 31 - 1, -(2 ** 31)]) {
      expectRejected(fw, () => fw.trainSamples(rows), /^batch: /);
      expectRejected(fw, () => fw.trainBatch(rows), /^batch: /);
      expectRejected(fw, () => fw.predictSamples(rows), /^batch: /);
      expectRejected(fw, () => fw.setBatchWords(new Int32Array(64), rows), /^batch: /);
    }
  });

  it("setBatch turns away too many rows and unequal inputs and targets before writing", async () => {
    const fw = await fresh();
    const row = () => [0.1, 0.2, 0.3];
    const target = () => [0.5, 0.5];
    expectRejected(fw, () => fw.setBatch(Array.from({ length: CAPACITY + 1 }, row), Array.from({ length: CAPACITY + 1 }, target)), /^batch: /);
    expectRejected(fw, () => fw.setBatch([row(), row()], [target()]), /^batch: /);
    expectRejected(fw, () => fw.setBatchWords(new Int32Array(3), 2), /^batch: /);
  });

  it("setBatch turns away a bad value in the first row, naming batch[0].input[i], writing nothing", async () => {
    const fw = await fresh();
    expectRejected(fw, () => fw.setBatch([[0.1, NaN, 0.3]], [[0.5, 0.5]]), /^batch\[0\]\.input\[1\]: /);
  });

  // Every row is checked before any is written.
  it("setBatch with a bad value in row 1 writes nothing", async () => {
    const fw = await fresh();
    const good = [0.1, 0.2, 0.3];
    expectRejected(fw, () => fw.setBatch([good, [0.1, NaN, 0.3]], [[0.5, 0.5], [0.5, 0.5]]), /^batch\[1\]\.input\[1\]: /);
  });

  it("setBatch with a bad target in row 0 writes nothing", async () => {
    const fw = await fresh();
    expectRejected(fw, () => fw.setBatch([[0.1, 0.2, 0.3]], [[0.5, Infinity]]), /^batch\[0\]\.target\[1\]: /);
  });

  it("setParams turns away a bad value in the first tensor, naming it, writing nothing", async () => {
    const fw = await fresh();
    const weights = fw.params();
    weights[0].weight[1][2] = NaN;
    expectRejected(fw, () => fw.setParams(weights), /^params\[0\]\.weight\[6\]: /);
  });

  // Every tensor is checked before any is written.
  it("setParams with a bad value in the last tensor writes nothing", async () => {
    const fw = await fresh();
    const weights = fw.params().map((layer) => ({
      weight: layer.weight.map((row) => row.map(() => 0.125)),
      bias: layer.bias.map(() => 0.125),
    }));
    weights[1].bias[0] = NaN;
    expectRejected(fw, () => fw.setParams(weights), /^params\[1\]\.bias\[0\]: /);
  });

  it("setParams with a layer missing writes nothing", async () => {
    const fw = await fresh();
    const weights = fw.params().map((layer) => ({
      weight: layer.weight.map((row) => row.map(() => 0.125)),
      bias: layer.bias.map(() => 0.125),
    }));
    expectRejected(fw, () => fw.setParams([weights[0]]), /^params\[1\]\.weight: /);
  });
});
