// qfirm emulate: firmware for an emulated Cortex-M (arm-none-eabi-gcc, newlib's
// semihosting, qemu-system-arm) trains bit-identically to V8 under wasm3 and WAMR:
// the documented example and an Iris model on the 4 MiB Cortex-M4 board, the
// documented example on the 64 KiB one; counts instructions; and refuses bad usage
// with one line.
//
// The CLI cases run bin/qfirm.js, which runs dist/: `npm run build` first (npm test does).

import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import { exec } from "../src/mcu/exec.js";
import { emulate, EMULATE_RUNTIMES, parseRun } from "../src/mcu/emulate.js";
import type { Model } from "../src/spec/model.js";
import { parseSpecText } from "../src/spec/spec.js";
import { loadIris } from "../src/train/datasets.js";
import { describeWith } from "./support/runtimes.js";

const BIN = join(ROOT, "bin", "qfirm.js");
const EXAMPLE = join(ROOT, "examples", "documented-example.json");
const STEPS = 12;

const readExample = (file: string): Model => parseSpecText(readFileSync(join(ROOT, "examples", file), "utf8"), file);

/** examples/iris.json with the first Iris row (standardized, one-hot) as its sample. */
function irisWithSample(): Model {
  const iris = loadIris();
  return { ...readExample("iris.json"), sample: { input: iris.inputs[0], target: iris.targets[0] } };
}

/** train_step `steps` times in V8: the raw i32 losses. */
async function v8Losses(model: Model, steps: number): Promise<number[]> {
  return (await v8Run(model, steps)).losses;
}

/** train_step `steps` times in V8 (none in an inference-only module), then forward: the raw losses and output. */
async function v8Run(model: Model, steps: number): Promise<{ losses: number[]; output: number[] }> {
  const { wasm, manifest } = await buildModel(model);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
  const trainStep = instance.exports.train_step as (() => number) | undefined;
  const losses = trainStep ? Array.from({ length: steps }, () => trainStep()) : [];
  (instance.exports.forward as () => void)();
  const memory = instance.exports.memory as WebAssembly.Memory;
  return { losses, output: Array.from(new Int32Array(memory.buffer, manifest.buffers.output, manifest.outputs)) };
}

function qfirm(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return exec(process.execPath, [BIN, ...args], { cwd: ROOT, env });
}

function expectOneLine(run: { code: number; stdout: string; stderr: string }, code: number, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe("");
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe("reading the board's output", () => {
  it("turns SysTick ticks into instructions with the measured ratio and skips the first step in the mean", () => {
    const out = ["calibration 400000 10000", "open 1328 9000", "step 0 100 5000", "step 1 90 700", "step 2 80 702", "memory 16000 1500 16384", "done"].join("\n");
    expect(parseRun(out, 3)).toEqual({
      losses: [100, 90, 80], output: [], stepInstructions: [200000, 28000, 28080], instructionsPerStep: 28040, instructionsPerTick: 40,
      heapPeak: 16000, stackPeak: 1500, linearMemory: 1328,
    });
  });

  it("reads the output line an inference-only run prints", () => {
    const out = ["calibration 400000 10000", "open 1168 9000", "step 0 0 5000", "step 1 0 300", "output 7 -8", "memory 9000 1500 16384", "done"].join("\n");
    expect(parseRun(out, 2)).toMatchObject({ output: [7, -8], instructionsPerStep: 12000 });
  });

  it("reports the board's error line, or where the program stopped", () => {
    expect(parseRun("calibration 1 1\nerror 4 wasm3: out of memory\n", 3)).toEqual({ error: "wasm3: out of memory" });
    expect(parseRun("calibration 1 1\nopen 1 1\n", 3)).toEqual({ error: 'the program stopped early after "open 1 1"' });
  });
});

describe("qfirm emulate: bad usage exits 2 with one line", () => {
  it("a spec without a sample", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qfirm-emulate-"));
    const spec = JSON.parse(readFileSync(EXAMPLE, "utf8"));
    delete spec.sample;
    await writeFile(join(dir, "nosample.json"), JSON.stringify(spec));
    expectOneLine(await qfirm(["emulate", join(dir, "nosample.json")]), 2, /nosample\.json: the spec has no "sample"; qfirm emulate trains on it/);
    await rm(dir, { recursive: true, force: true });
  });

  it("an unknown board, runtime or step count", async () => {
    expectOneLine(await qfirm(["emulate", EXAMPLE, "--board", "stm32"]), 2, /"stm32" is not one of mps2-an386, mps2-an385, lm3s6965evb/);
    expectOneLine(await qfirm(["emulate", EXAMPLE, "--runtime", "wasmtime"]), 2, /"wasmtime" is not one of wasm3, wamr/);
    expectOneLine(await qfirm(["emulate", EXAMPLE, "--steps", "0"]), 2, /--steps|"0" is not an integer from 1/);
  });

  it("no QFIRM_RUNTIMES", async () => {
    const env = { ...process.env };
    delete env.QFIRM_RUNTIMES;
    expectOneLine(await qfirm(["emulate", EXAMPLE], env), 2, /QFIRM_RUNTIMES is not set/);
  });

  it("no cross compiler on PATH: names the Debian package", async () => {
    const env = { ...process.env, PATH: "/nonexistent", QFIRM_RUNTIMES: process.env.QFIRM_RUNTIMES ?? tmpdir() };
    const run = await qfirm(["emulate", EXAMPLE], env);
    // Without real runtimes the missing sources are named first; with them, the compiler.
    expectOneLine(run, 2, process.env.QFIRM_RUNTIMES ? /arm-none-eabi-gcc not found: install Debian's gcc-arm-none-eabi/ : /no wasm3 sources/);
  });
});

const NEEDS = {
  runtimes: ["wasm3" as const, "wamr" as const],
  tools: [["arm-none-eabi-gcc", "gcc-arm-none-eabi"], ["qemu-system-arm", "qemu-system-arm"], ["cmake", "cmake"]] as [string, string][],
};

describeWith(NEEDS, "on an emulated Cortex-M", () => {
  it("qfirm emulate --json: the documented example's losses are V8's, with instructions counted", async () => {
    const run = await qfirm(["emulate", EXAMPLE, "--json", "--steps", String(STEPS)]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ board: "mps2-an386", runtime: "wasm3", steps: STEPS });
    expect(result.losses).toEqual(await v8Losses(readExample("documented-example.json"), STEPS));
    expect(result.instructionsPerStep).toBeGreaterThan(1000);
    expect(result.instructionsFirstStep).toBeGreaterThan(result.instructionsPerStep);
    // QEMU clocks the MPS2's SysTick at 25 MHz and -icount shift=0 runs 1 instruction
    // per ns: 40 instructions a tick, when the count is of instructions.
    expect(Math.abs(result.instructionsPerTick - 40)).toBeLessThan(0.01);
    expect(Object.keys(result.ram).sort()).toEqual(["heapPeak", "stackPeak", "static"]);
    // Linear memory is what the module uses, not its 64 KiB page; the heap holds it.
    expect(result.linearMemory).toBe(1360);
    expect(result.ram.heapPeak).toBeGreaterThan(result.linearMemory);
    expect(result.flash).toBeGreaterThan(result.moduleBytes);
  });

  it("the text output names the board and says these are instructions, not cycles", async () => {
    const run = await qfirm(["emulate", EXAMPLE, "--steps", "3"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/mps2-an386 \(ARM MPS2 AN386, Cortex-M4\)/);
    expect(run.stdout).toMatch(/steps 1-3: 90263 81078 72663/); // V8's first three (test/interpreter.test.ts)
    expect(run.stdout).toMatch(/instructions counted with QEMU -icount, not cycles/);
  });

  it.each(EMULATE_RUNTIMES)("%s: an Iris model (4-8-3, tanh, softmax, cross-entropy) on the Cortex-M4: V8's losses", async (runtime) => {
    const model = irisWithSample();
    const result = await emulate(model, { runtime, steps: STEPS });
    expect(result.losses).toEqual(await v8Losses(model, STEPS));
    expect(new Set(result.losses).size).toBeGreaterThan(1);
  });

  it("wamr: the documented example on the Cortex-M4: V8's losses", async () => {
    const model = readExample("documented-example.json");
    const result = await emulate(model, { runtime: "wamr", steps: STEPS });
    expect(result.losses).toEqual(await v8Losses(model, STEPS));
    expect(result.linearMemory).toBe(1360); // WAMR trimmed it to __heap_base
    expect(result.instructionsPerStep).toBeGreaterThan(1000);
  });

  it.each(EMULATE_RUNTIMES)("%s: the documented example on the 64 KiB lm3s6965evb: V8's losses, everything within its RAM", async (runtime) => {
    const model = readExample("documented-example.json");
    const result = await emulate(model, { runtime, board: "lm3s6965evb", steps: STEPS });
    expect(result.losses).toEqual(await v8Losses(model, STEPS));
    expect(result.ram.static + result.ram.heapPeak + result.ram.stackPeak).toBeLessThan(64 * 1024);
  });

  it("a lean module that fine-tunes its last layer (examples/iris-finetune.json, first Iris row): V8's losses", async () => {
    const iris = loadIris();
    const model = { ...readExample("iris-finetune.json"), sample: { input: iris.inputs[0], target: iris.targets[0] } };
    expect(model.training).toBe("lean");
    const result = await emulate(model, { runtime: "wasm3", steps: STEPS });
    expect(result.entry).toBe("train_step");
    expect(result.losses).toEqual((await v8Run(model, STEPS)).losses);
    expect(new Set(result.losses).size).toBeGreaterThan(1);
  });

  it("an inference-only spec runs forward on its sample input: V8's output, no losses, instructions per forward", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qfirm-emulate-"));
    const { loss: _l, optimizer: _o, ...spec } = JSON.parse(readFileSync(EXAMPLE, "utf8"));
    const path = join(dir, "inference.json");
    await writeFile(path, JSON.stringify({ ...spec, training: "none" }));
    const run = await qfirm(["emulate", path, "--json", "--steps", "3"]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ entry: "forward", steps: 3, losses: [] });
    expect(result.output).toEqual((await v8Run(parseSpecText(JSON.stringify({ ...spec, training: "none" })), 0)).output);
    expect(result.instructionsPerStep).toBeGreaterThan(100);
    // Less than a train_step of the same weights (the documented example's: over 30,000).
    expect(result.instructionsPerStep).toBeLessThan(30_000);
    await rm(dir, { recursive: true, force: true });
  });

  it("a model too big for the board: exit 1, one line from the board (wasm3 runs out of heap)", async () => {
    const run = await qfirm(["emulate", await mnistSpecFile(), "--board", "lm3s6965evb", "--steps", "1"]);
    expectOneLine(run, 1, /^qfirm: mnist on lm3s6965evb: wasm3: /);
  });
});

/** examples/mnist.json with an all-zero sample, written to a file. */
async function mnistSpecFile(): Promise<string> {
  const spec = JSON.parse(readFileSync(join(ROOT, "examples", "mnist.json"), "utf8"));
  spec.sample = { input: new Array(784).fill(0), target: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
  const dir = await mkdtemp(join(tmpdir(), "qfirm-emulate-"));
  await writeFile(join(dir, "mnist.json"), JSON.stringify(spec));
  return join(dir, "mnist.json");
}
