// Determinism: a spec builds the same bytes every time, and a module computes the same
// bits on every engine.
//
// - The same spec text, parsed and built twice in one process, gives a byte-identical
//   module, manifest and C header; built once more by the CLI in a separate process
//   (fresh V8 heap, fresh binaryen), the same model.wasm and model.json.
// - A seeded model's 100 consecutive train_step results are bit-identical between two
//   fresh V8 instances (and so is the whole of their memory afterwards), and between V8
//   and wabt's interpreter (spectest-interp, through wast2json, as in
//   test/interpreter.test.ts), for the l2, cross-entropy (exp, ln, division), cosine
//   (integer square root, division) and huber losses.

import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import { renderHeader } from "../src/build/header.js";
import { parseSpec, parseSpecText } from "../src/spec/spec.js";
import type { Model } from "../src/spec/model.js";
import { randomModel, randomSpec } from "./support/models.js";
import { tempFile, wabt, wastModule } from "./support/wabt.js";

const STEPS = 100;
const EXAMPLE = join(ROOT, "examples", "documented-example.json");
const run = promisify(execFile);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "qfirm-determinism-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Spec texts, as a user would keep them in files. */
const SPECS: [string, () => string][] = [
  ["the documented example", () => readFileSync(EXAMPLE, "utf8")],
  ["a seeded 4-5-3 model with a batch buffer", () => JSON.stringify({ ...randomSpec({ seed: 21 }), batch: { capacity: 4 } }, null, 2)],
];

describe.each(SPECS)("%s", (name, specText) => {
  it("builds a byte-identical module, manifest and header twice in one process, mcu and web", async () => {
    for (const target of ["mcu", "web"] as const) {
      const first = await buildModel(parseSpecText(specText()), target);
      const second = await buildModel(parseSpecText(specText()), target);
      expect(first.wasm.length, `${target}: module size`).toBe(second.wasm.length);
      const differ = first.wasm.findIndex((b, k) => b !== second.wasm[k]);
      expect(differ, `${target}: first differing byte`).toBe(-1);
      expect(JSON.stringify(second.manifest, null, 2)).toBe(JSON.stringify(first.manifest, null, 2));
      expect(second.source).toBe(first.source);
      expect(renderHeader(second.manifest, second.wasm)).toBe(renderHeader(first.manifest, first.wasm));
    }
  });

  it("builds the same model.wasm and model.json through the CLI in another process", async () => {
    if (!existsSync(join(ROOT, "dist", "src", "cli", "cli.js"))) throw new Error("dist/src/cli/cli.js is missing: run `npm run build` first (npm test does)");
    const slug = name.replace(/\W+/g, "-");
    const specPath = join(tmp, `${slug}.json`);
    const out = join(tmp, `${slug}-out`);
    await writeFile(specPath, specText());
    const env = { ...process.env };
    delete env.QFIRM_RECORD_MODULES; // the audit records in-process builds; the CLI's module is the same bytes
    await run(process.execPath, [join(ROOT, "bin", "qfirm.js"), "build", specPath, "--out", out], { env, timeout: 90_000 });
    const here = await buildModel(parseSpecText(specText()));
    const wasm = new Uint8Array(await readFile(join(out, "model.wasm")));
    expect(Buffer.from(wasm).equals(Buffer.from(here.wasm)), "model.wasm from the CLI equals the in-process build").toBe(true);
    expect(await readFile(join(out, "model.json"), "utf8")).toBe(JSON.stringify(here.manifest, null, 2) + "\n");
    expect(await readFile(join(out, "model.h"), "utf8")).toBe(renderHeader(here.manifest, here.wasm));
  });
});

// ---------------------------------------------------------------------------------

function seeded(seed: number, layers: [number, string][], loss: Record<string, unknown>, target: number[]): Model {
  const { sample, ...rest } = randomSpec({ seed });
  return parseSpec({
    ...rest,
    name: `determinism-${seed}`,
    layers: layers.map(([units, activation]) => ({ units, activation })),
    loss,
    sample: { input: (sample as { input: number[] }).input, target },
  });
}

const MODELS: [string, () => Model][] = [
  ["a seeded 4-5-3 tanh → sigmoid model, l2", () => randomModel({ seed: 7 })],
  ["a seeded relu → softmax model, cross_entropy", () => seeded(8, [[5, "relu"], [3, "softmax"]], { type: "cross_entropy" }, [0.2, 0.7, 0.1])],
  ["a seeded sigmoid → linear model, cosine", () => seeded(9, [[5, "sigmoid"], [3, "linear"]], { type: "cosine" }, [0.5, -0.25, 1])],
  ["a seeded tanh → tanh model, huber", () => seeded(10, [[5, "tanh"], [3, "tanh"]], { type: "huber", delta: 0.1 }, [0.9, -0.9, 0.3])],
];

async function instantiate(wasm: Uint8Array<ArrayBuffer>): Promise<WebAssembly.Instance> {
  return WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
}

describe.each(MODELS)("%s", (_, make) => {
  it(`gives bit-identical results over ${STEPS} train_steps: two fresh V8 instances, and wabt's interpreter`, async () => {
    const { wasm } = await buildModel(make());
    const [a, b] = [await instantiate(wasm), await instantiate(wasm)];
    const steps = (instance: WebAssembly.Instance) => {
      const trainStep = instance.exports.train_step as () => number;
      return Array.from({ length: STEPS }, () => trainStep());
    };
    const first = steps(a);
    const second = steps(b);
    expect(second).toEqual(first);
    expect(new Set(first).size, "the loss should change from step to step").toBeGreaterThan(STEPS / 4);
    const memory = (instance: WebAssembly.Instance) => Buffer.from((instance.exports.memory as WebAssembly.Memory).buffer);
    expect(memory(b).equals(memory(a)), "memory after the steps").toBe(true);

    const wast = [wastModule(wasm), ...first.map((loss) => `(assert_return (invoke "train_step") (i32.const ${loss}))`)].join("\n");
    const wastPath = await tempFile("steps.wast", wast);
    const jsonPath = wastPath.replace(/\.wast$/, ".json");
    const converted = await wabt("wast2json", [wastPath, "-o", jsonPath]);
    expect(converted.code, converted.stderr).toBe(0);
    const result = await wabt("spectest-interp", [jsonPath]);
    // spectest-interp counts loading the module as one more test.
    expect(result.stdout + result.stderr).toContain(`${STEPS + 1}/${STEPS + 1} tests passed`);
    expect(result.code).toBe(0);
  });
});
