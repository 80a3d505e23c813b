// The modules outside V8: wabt's interpreter must reproduce V8's results bit for
// bit (the mcu module, and the web one with its SIMD kernels), and wasm-validate must
// accept the mcu module without the features microcontroller runtimes lack.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import type { Model } from "../src/spec/model.js";
import { parseSpecText } from "../src/spec/spec.js";
import { randomModel } from "./support/models.js";
import { MCU_ONLY, tempFile, wabt, wastModule } from "./support/wabt.js";

const STEPS = 50;

const models: [string, () => Model][] = [
  ["the documented example", () => parseSpecText(readFileSync(join(ROOT, "examples", "documented-example.json"), "utf8"))],
  ["a seeded 4-5-3 tanh/sigmoid model", () => randomModel({ seed: 7 })],
  ["a seeded 4-5-3 relu/linear model", () => randomModel({ seed: 11, activations: ["relu", "linear"] })],
];

describe.each(models)("%s", (_, make) => {
  it.each(["mcu", "web"] as const)(`the %s module gives V8's ${STEPS} consecutive train_step results in wabt's interpreter, bit for bit`, async (target) => {
    const { wasm } = await buildModel(make(), target);
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
    const trainStep = instance.exports.train_step as () => number;
    const v8 = Array.from({ length: STEPS }, () => trainStep());
    expect(new Set(v8).size, "the loss should change from step to step").toBeGreaterThan(1);

    const wast = [wastModule(wasm), ...v8.map((loss) => `(assert_return (invoke "train_step") (i32.const ${loss}))`)].join("\n");
    const wastPath = await tempFile("steps.wast", wast);
    const jsonPath = wastPath.replace(/\.wast$/, ".json");
    expect((await wabt("wast2json", [wastPath, "-o", jsonPath])).code).toBe(0);
    const result = await wabt("spectest-interp", [jsonPath]);
    // spectest-interp counts loading the module as one more test.
    expect(result.stdout + result.stderr).toContain(`${STEPS + 1}/${STEPS + 1} tests passed`);
    expect(result.code).toBe(0);
  });

  it("passes wasm-validate with bulk memory, SIMD, reference types and multi-value disabled", async () => {
    const { wasm } = await buildModel(make());
    const result = await wabt("wasm-validate", [...MCU_ONLY, await tempFile("model.wasm", wasm)]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});
