// Training (src/train/train.ts) and `qfirm train`: the fixed-point module against the
// float64 reference on Iris, the trained spec, the loss-curve SVG, and the CLI's
// failure contract.
//
// bin/qfirm.js runs dist/, which `npm test` builds first (pretest). Run directly,
// `npx vitest run test/train.test.ts` needs `npm run build` before it.

import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { Firmware } from "../src/run/driver.js";
import { fromQ, toQ } from "../src/spec/format.js";
import type { LayerWeights } from "../src/spec/model.js";
import { loadIris, loadMnist } from "../src/train/datasets.js";
import { parseSpec, parseSpecText } from "../src/spec/spec.js";
import { lossCurveSvg, niceScale } from "../src/train/svg.js";
import { predictFixed, renderSpec, train, trainedSpec, type TrainResult } from "../src/train/train.js";
import { ROOT, runQfirm, type Run } from "./support/cli.js";

const IRIS_SPEC = join(ROOT, "examples", "iris.json");

/**
 * Training tolerances, in one place.
 *
 * lossRelative: |module − reference| / reference for each epoch's mean training loss.
 * Both start from the same weights and see the same rows in the same order; the
 * module's per-step differences are a few LSBs of q8.24 (6e-8 each: rounding, the
 * table tanh, the exp of the softmax), and on Iris they stay that small: measured
 * 3e-7 over 10 epochs and at most 4.6e-6 over 50 epochs for seeds 1–5. 1e-4 leaves
 * 20× margin over the worst of those while still catching a systematic error (a
 * learning rate or a gradient off by one part in a thousand shows as ≥ 1e-3).
 *
 * accuracyGapPp: held-out accuracy, module minus reference, in percentage points. 30
 * held-out rows make one row 3.3 pp, so this says both classify every held-out row
 * alike.
 */
const TOLERANCE = { lossRelative: 1e-4, accuracyGapPp: 1 } as const;
const EPOCHS = 10;
/** Iris with examples/iris.json learns well within 10 epochs (measured: 96.7–100% on seeds 1–5). */
const MIN_ACCURACY = 0.9;

/** The epoch whose loss differs most, relative to the reference's. */
function worstEpoch(result: TrainResult): { epoch: number; fixed: number; float: number; relative: number } {
  return result.epochs
    .map((e) => ({ epoch: e.epoch, fixed: e.fixedLoss, float: e.floatLoss, relative: Math.abs(e.fixedLoss - e.floatLoss) / e.floatLoss }))
    .reduce((worst, e) => (e.relative > worst.relative ? e : worst));
}

/**
 * Well-formedness of an XML document as this project writes it: one root element,
 * every tag closed in order, attributes quoted, only the five predefined entities
 * and numeric references. Returns the elements' names in document order.
 */
function parseXmlElements(text: string): { name: string; attributes: Record<string, string> }[] {
  const elements: { name: string; attributes: Record<string, string> }[] = [];
  const stack: string[] = [];
  let roots = 0;
  const checkText = (s: string, where: string) => {
    if (/[<]/.test(s)) throw new Error(`"<" in ${where}`);
    for (const m of s.matchAll(/&([^;]*);?/g)) {
      if (!/^&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);$/.test(m[0])) throw new Error(`bad entity ${m[0]} in ${where}`);
    }
  };
  let i = text.startsWith("<?xml") ? text.indexOf("?>") + 2 : 0;
  while (i < text.length) {
    const open = text.indexOf("<", i);
    const chunk = open === -1 ? text.slice(i) : text.slice(i, open);
    if (stack.length === 0 && chunk.trim() !== "") throw new Error(`text outside the root: ${chunk.trim().slice(0, 20)}`);
    checkText(chunk, "text");
    if (open === -1) break;
    const close = text.indexOf(">", open);
    if (close === -1) throw new Error("unclosed tag");
    const tag = text.slice(open + 1, close);
    i = close + 1;
    if (tag.startsWith("!--")) continue;
    if (tag.startsWith("/")) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) throw new Error(`</${name}> closes nothing open`);
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const match = /^([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*"[^"]*")*)\s*$/.exec(body);
    if (!match) throw new Error(`malformed tag <${tag.slice(0, 40)}>`);
    const attributes: Record<string, string> = {};
    for (const a of match[2].matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*"([^"]*)"/g)) {
      if (a[1] in attributes) throw new Error(`duplicate attribute ${a[1]}`);
      checkText(a[2], `attribute ${a[1]}`);
      attributes[a[1]] = a[2];
    }
    if (stack.length === 0) roots++;
    elements.push({ name: match[1], attributes });
    if (!selfClosing) stack.push(match[1]);
  }
  if (stack.length > 0) throw new Error(`<${stack.at(-1)}> is never closed`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return elements;
}

let specText: string;
let result: TrainResult;
const iris = loadIris();

beforeAll(async () => {
  specText = await readFile(IRIS_SPEC, "utf8");
  result = await train(parseSpecText(specText), iris, { epochs: EPOCHS, seed: 1, holdout: 0.2, batch: 1 });
});

describe("training on Iris: the module against the float64 reference", () => {
  it("holds out 30 rows, the same for the same seed, and trains on the other 120", async () => {
    expect(result.holdoutRows).toHaveLength(30);
    expect(result.trainRows).toHaveLength(120);
    expect(new Set([...result.holdoutRows, ...result.trainRows]).size).toBe(150);
  });

  it(`follows the reference's per-epoch loss within ${TOLERANCE.lossRelative} relative`, () => {
    expect(result.epochs).toHaveLength(EPOCHS);
    const worst = worstEpoch(result);
    expect(worst.relative, `epoch ${worst.epoch}: module ${worst.fixed}, reference ${worst.float}`).toBeLessThanOrEqual(
      TOLERANCE.lossRelative,
    );
    // And it learns: the loss falls by more than half.
    expect(result.epochs.at(-1)!.floatLoss).toBeLessThan(result.epochs[0].floatLoss / 2);
  });

  it(`reaches ≥ ${MIN_ACCURACY * 100}% held-out accuracy, module and reference within ${TOLERANCE.accuracyGapPp} pp`, () => {
    const a = result.accuracy!;
    expect(a.rule).toBe("argmax");
    expect(a.rows).toBe(30);
    expect(a.fixed).toBeGreaterThanOrEqual(MIN_ACCURACY);
    expect(a.float).toBeGreaterThanOrEqual(MIN_ACCURACY);
    expect(Math.abs(a.fixed - a.float) * 100).toBeLessThanOrEqual(TOLERANCE.accuracyGapPp);
  });

  it("mini-batches (train_batch) follow the reference too", async () => {
    const batched = await train(parseSpecText(specText), iris, { epochs: 5, seed: 2, holdout: 0.2, batch: 8 });
    const worst = worstEpoch(batched);
    expect(worst.relative, `epoch ${worst.epoch}: module ${worst.fixed}, reference ${worst.float}`).toBeLessThanOrEqual(
      TOLERANCE.lossRelative,
    );
  });

  it("the trained spec rebuilds into a module that predicts exactly as the trained one", async () => {
    const spec = trainedSpec(JSON.parse(specText), result.params);
    expect(spec).not.toHaveProperty("init");
    // Every other field as it was, in its place; weights where init was.
    expect(Object.keys(spec)).toEqual(Object.keys(JSON.parse(specText)).map((k) => (k === "init" ? "weights" : k)));
    const model = parseSpecText(renderSpec(spec), "trained.json");
    const built = await buildModel(model, "web");
    const rebuilt = await Firmware.load(built.wasm, built.manifest);
    expect(rebuilt.params()).toEqual(result.params);

    const expected = predictFixed(result.firmware, result.words, result.holdoutRows);
    const width = model.inputs + 3;
    const F = model.format.fracBits;
    result.holdoutRows.forEach((row, k) => {
      // The very input words the trained module saw, as floats that convert back exactly.
      rebuilt.setInput(Array.from(result.words.subarray(row * width, row * width + model.inputs), (q) => fromQ(q, F)));
      rebuilt.forward();
      expect(rebuilt.output(), `held-out row ${row}`).toEqual(expected[k]);
    });
  });
});

describe("every optimizer, module against the float64 reference", () => {
  const OPTIMIZERS: [string, Record<string, unknown>][] = [
    ["momentum", { type: "sgd", learningRate: 0.02, momentum: 0.9 }],
    ["adam", { type: "adam", learningRate: 0.01 }],
    ["adam with exponential decay", { type: "adam", learningRate: 0.01, decay: { type: "exponential", rate: 0.5, steps: 600 } }],
  ];

  it.each(OPTIMIZERS)(`Iris, %s: per-sample and batches of 8 follow the reference within ${TOLERANCE.lossRelative}, accuracy within ${TOLERANCE.accuracyGapPp} pp`, async (_, optimizer) => {
    const model = parseSpec({ ...JSON.parse(specText), optimizer });
    for (const batch of [1, 8]) {
      const r = await train(model, iris, { epochs: EPOCHS, seed: 1, holdout: 0.2, batch });
      const worst = worstEpoch(r);
      expect(worst.relative, `batch ${batch}, epoch ${worst.epoch}: module ${worst.fixed}, reference ${worst.float}`).toBeLessThanOrEqual(TOLERANCE.lossRelative);
      const a = r.accuracy!;
      expect(a.fixed, `batch ${batch}`).toBeGreaterThanOrEqual(MIN_ACCURACY);
      expect(Math.abs(a.fixed - a.float) * 100, `batch ${batch}`).toBeLessThanOrEqual(TOLERANCE.accuracyGapPp);
    }
  });

  // MNIST kept small for the test run (400 rows to train, 100 held out, one epoch);
  // the README's figures come from `qfirm train` on 4,000 rows.
  const mnist = loadMnist(500);
  const MNIST_SPEC = JSON.parse(readFileSync(join(ROOT, "examples", "mnist.json"), "utf8")) as Record<string, unknown>;
  const MNIST_OPTIMIZERS: [string, Record<string, unknown>][] = [
    ["sgd", { type: "sgd", learningRate: 0.02 }],
    // η/(1 − μ) = 0.02, examples/mnist.json's rate. At 0.05 per-sample training on MNIST turns
    // chaotic (plain SGD at 0.05 too): rounding-sized differences grow until the runs separate.
    ["momentum", { type: "sgd", learningRate: 0.002, momentum: 0.9 }],
    ["adam", { type: "adam", learningRate: 0.001 }],
  ];
  it.each(MNIST_OPTIMIZERS)(
    `MNIST (784-32-10), %s: accuracy within ${TOLERANCE.accuracyGapPp} pp of the reference's`,
    async (_, optimizer) => {
      const model = parseSpec({ ...MNIST_SPEC, optimizer });
      const r = await train(model, mnist, { epochs: 1, seed: 1, holdout: 0.2, batch: 1 });
      const a = r.accuracy!;
      expect(a.rows).toBe(100);
      expect(a.float, "the reference learns").toBeGreaterThanOrEqual(0.6);
      expect(Math.abs(a.fixed - a.float) * 100).toBeLessThanOrEqual(TOLERANCE.accuracyGapPp);
      expect(worstEpoch(r).relative).toBeLessThanOrEqual(TOLERANCE.lossRelative);
    },
  );
});

describe("the loss curve", () => {
  it("is well-formed SVG with two polylines of one point per epoch, axes with ticks and a legend", () => {
    const svg = lossCurveSvg("iris", result.epochs.map((e) => e.fixedLoss), result.epochs.map((e) => e.floatLoss));
    const elements = parseXmlElements(svg);
    expect(elements[0].name).toBe("svg");
    expect(elements[0].attributes.xmlns).toBe("http://www.w3.org/2000/svg");
    const polylines = elements.filter((e) => e.name === "polyline");
    expect(polylines).toHaveLength(2);
    for (const p of polylines) {
      const points = p.attributes.points.trim().split(/\s+/);
      expect(points).toHaveLength(EPOCHS);
      for (const point of points) expect(point).toMatch(/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/);
    }
    const texts = svg.match(/<text[^>]*>[^<]*<\/text>/g) ?? [];
    expect(texts.some((t) => t.includes(">fixed-point module<"))).toBe(true);
    expect(texts.some((t) => t.includes(">float64 reference<"))).toBe(true);
    expect(texts.some((t) => t.includes(">epoch<"))).toBe(true);
    expect(elements.filter((e) => e.name === "line").length).toBeGreaterThan(6); // two axes and their ticks
  });

  it("escapes names and picks ticks at 1, 2 or 5 × 10^k", () => {
    const svg = lossCurveSvg('a<b & "c"', [1], [1]);
    expect(() => parseXmlElements(svg)).not.toThrow();
    expect(niceScale(0, 0.483).ticks).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(niceScale(0, 7).ticks).toEqual([0, 2, 4, 6, 8]);
  });
});

// ---- qfirm train, through the real binary ----

const qfirm = (...args: string[]): Promise<Run> => runQfirm(args);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "qfirm-train-test-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe.concurrent("qfirm train", () => {
  it("exits 2 with one line naming file:line:column on a bad data file, and writes nothing", async ({ expect }) => {
    const dir = await mkdtemp(join(tmp, "bad-"));
    const data = join(dir, "bad.csv");
    await writeFile(data, "a,b,c,d,class\n0.1,0.2,0.3,0.4,0\n0.1,0.2,oops,0.4,1\n");
    const run = await qfirm("train", IRIS_SPEC, "--data", data, "--out", join(dir, "t.json"), "--curve", join(dir, "c.svg"));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`qfirm: ${data}:3:9: "oops" is not a number\n`);
    expect(await readdir(dir)).toEqual(["bad.csv"]);
  });

  it("exits 2 on a bad option or a data set that does not fit the model, and writes nothing", async ({ expect }) => {
    const dir = await mkdtemp(join(tmp, "usage-"));
    const cases = [
      ["--dataset", "iris", "--holdout", "1.5"],
      ["--dataset", "cifar"],
      ["--dataset", "mnist", "--samples", "20"],
      ["--dataset", "iris", "--learning-rate", "1e-12"],
      [],
    ];
    const runs = await Promise.all(cases.map((args) => qfirm("train", IRIS_SPEC, ...args, "--out", join(dir, "t.json"))));
    runs.forEach((run, k) => {
      expect(run.code, `${cases[k].join(" ")}: ${run.stderr}`).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr.trimEnd().split("\n"), run.stderr).toHaveLength(1);
      expect(run.stderr).not.toMatch(/internal error|^\s+at\s/m);
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("says which optimizer runs, keeps the spec's optimizer under --learning-rate, and turns away --batch on a lean spec; --out keeps optimizer, decay, frozen layers and training mode", async ({ expect }) => {
    const dir = await mkdtemp(join(tmp, "optimizers-"));
    const spec = JSON.parse(await readFile(IRIS_SPEC, "utf8"));
    const adam = join(dir, "adam.json");
    await writeFile(adam, JSON.stringify({ ...spec, optimizer: { type: "adam", learningRate: 0.01, decay: { type: "step", rate: 0.5, steps: 100 } } }));
    const lean = join(dir, "lean.json");
    await writeFile(lean, JSON.stringify({ ...spec, training: "lean", layers: [{ ...spec.layers[0], trainable: false }, spec.layers[1]] }));
    const [a, b, c, d] = await Promise.all([
      qfirm("train", adam, "--dataset", "iris", "--epochs", "2"),
      qfirm("train", adam, "--dataset", "iris", "--epochs", "1", "--learning-rate", "0.002", "--out", join(dir, "adam-out.json")),
      qfirm("train", lean, "--dataset", "iris", "--epochs", "1", "--out", join(dir, "lean-out.json")),
      qfirm("train", lean, "--dataset", "iris", "--batch", "8"),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^optimizer: adam \(learning rate 0\.01, beta1 0\.9, beta2 0\.999, epsilon 1e-7\); step decay: rate 0\.5 every 100 steps; training full, all layers train$/m);
    expect(a.stdout.match(/^[12]\/2 /gm)).toHaveLength(2);
    expect(b.stdout).toMatch(/^optimizer: adam \(learning rate 0\.002, /m);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^optimizer: sgd \(learning rate 0\.05\); training lean, layers trained: 1 \(others frozen\)$/m);
    expect(d.code).toBe(2);
    expect(d.stderr).toBe('qfirm: --batch 8: a "lean" module trains per sample (it has no train_batch); use --batch 1\n');
    // The trained specs are their inputs but for the weights (the frozen layer's unchanged).
    for (const [input, output] of [[adam, "adam-out.json"], [lean, "lean-out.json"]]) {
      const before = parseSpecText(await readFile(input, "utf8"));
      const after = parseSpecText(await readFile(join(dir, output), "utf8"));
      expect({ ...after, weights: [] }).toEqual({ ...before, weights: [] });
      expect(after.weights[1]).not.toEqual(before.weights[1]);
      const q = (w: LayerWeights) => [...w.weight.flat(), ...w.bias].map((v) => toQ(v, 24));
      if (input === lean) expect(q(after.weights[0])).toEqual(q(before.weights[0])); // the module's: the spec's rounded to q8.24
    }
    expect(parseSpecText(await readFile(join(dir, "lean-out.json"), "utf8"))).toMatchObject({ training: "lean", layers: [{ trainable: false }, { trainable: true }] });
  });

  it("trains Iris, prints a line per epoch and the accuracies, writes the trained spec and the curve", async ({ expect }) => {
    const dir = await mkdtemp(join(tmp, "ok-"));
    const out = join(dir, "trained.json");
    const curve = join(dir, "loss.svg");
    const run = await qfirm("train", IRIS_SPEC, "--dataset", "iris", "--epochs", "3", "--out", out, "--curve", curve);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(""); // not a TTY: no progress bar
    expect(run.stdout).toMatch(/^epoch +loss fixed +loss float/m);
    expect(run.stdout.match(/^[123]\/3 /gm)).toHaveLength(3);
    expect(run.stdout).toMatch(/^held-out accuracy \(30 rows, argmax\): fixed [\d.]+%, float [\d.]+%, gap [+−][\d.]+ pp$/m);
    expect((await readdir(dir)).sort()).toEqual(["loss.svg", "trained.json"]);
    const trained = JSON.parse(await readFile(out, "utf8"));
    expect(trained.init).toBeUndefined();
    expect(trained.weights).toHaveLength(2);
    expect(parseXmlElements(await readFile(curve, "utf8")).filter((e) => e.name === "polyline")).toHaveLength(2);
  });
});
