// The C host library (src/mcu/c/) in the real runtimes from QFIRM_RUNTIMES,
// compiled with the system C compiler: wasm3 and WAMR's fast and classic
// interpreters run every activation and loss pairing (the seeded nets of
// test/support/nets.ts) and the batched entries bit for bit as V8 does; the
// conversion from double is the driver's on the edges; errors come back as codes
// and one-line messages.

import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel, type Built } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import { exec, execOk } from "../src/mcu/exec.js";
import { hostFiles, HOSTS, hostSourceName } from "../src/mcu/host.js";
import { HOST_RUNTIMES, hostRuntime, runtimeIncludes, type HostRuntimeName } from "../src/mcu/runtimes.js";
import { fromQ, QRangeError, toQ } from "../src/spec/format.js";
import { inferenceOnly, type Model } from "../src/spec/model.js";
import { mulberry32, parseSpec, parseSpecText } from "../src/spec/spec.js";
import { answerWords, bits, hostDriver, runDriver, STRICT_C, writeHostFiles } from "./support/hosts.js";
import { CASES, drawNet } from "./support/nets.js";
import { describeWith } from "./support/runtimes.js";

const STEPS = 20;
const BATCH_ROWS = 4;

/** The module driven directly through V8's WebAssembly API: the independent engine. */
class V8Module {
  private constructor(private readonly exports: Record<string, unknown>) {}

  static async create(wasm: Uint8Array<ArrayBuffer>): Promise<V8Module> {
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
    return new V8Module(instance.exports);
  }

  call(name: string, ...args: number[]): number {
    return (this.exports[name] as (...a: number[]) => number)(...args);
  }

  words(offset: number, count: number): number[] {
    const memory = this.exports.memory as WebAssembly.Memory;
    return Array.from(new Int32Array(memory.buffer, offset, count));
  }

  write(offset: number, values: number[]): void {
    new Int32Array((this.exports.memory as WebAssembly.Memory).buffer, offset, values.length).set(values);
  }
}

function openLine(path: string, built: Built): string {
  const m = built.manifest;
  return `open ${path} ${m.inputs} ${m.outputs} ${m.paramCount} ${m.format.fracBits}`;
}

interface Scenario {
  name: string;
  commands: string[];
  expected: string[];
}

/**
 * train_step STEPS times, params, a new learning rate, more steps, then the batched
 * entries on rows near the sample: every answer from V8.
 */
async function trainingScenario(name: string, path: string, built: Built): Promise<Scenario> {
  const m = built.manifest;
  const v8 = await V8Module.create(built.wasm);
  const commands = [openLine(path, built)];
  const expected = [`open ok ${m.memory.bytesUsed}`];
  const ok = (command: string, values?: number[]) => {
    commands.push(command);
    expected.push(values === undefined ? `${command.split(" ")[0]} ok` : `${command.split(" ")[0]} ok ${values.join(" ")}`);
  };
  ok(`train ${STEPS}`, Array.from({ length: STEPS }, () => v8.call("train_step")));
  ok("params", v8.words(m.buffers.params, m.paramCount));
  const rate = toQ(m.learningRate!.value * 2, m.learningRate!.fracBits); // above the initial one: see lowRateModel
  v8.call("set_learning_rate", rate);
  ok(`lr ${rate}`);
  ok("train 3", Array.from({ length: 3 }, () => v8.call("train_step")));
  if (m.batch) {
    const input = v8.words(m.buffers.input, m.inputs);
    const target = v8.words(m.buffers.target!, m.outputs);
    const rows = Array.from({ length: BATCH_ROWS }, (_, k) => [...input.map((q, i) => q + (k - 1) * 977 * (i + 1)), ...target]).flat();
    v8.write(m.batch.offset, rows);
    ok(`batch ${BATCH_ROWS} ${rows.join(" ")}`);
    ok(`train_samples ${BATCH_ROWS}`, [v8.call("train_samples", BATCH_ROWS)]);
    ok("train_batch 3", [v8.call("train_batch", 3)]);
    v8.call("predict_samples", BATCH_ROWS);
    ok(`predict ${BATCH_ROWS}`, v8.words(m.batch.outputOffset, BATCH_ROWS * m.outputs));
  }
  v8.call("forward");
  ok("forward");
  ok("output", v8.words(m.buffers.output, m.outputs));
  ok("loss", [v8.call("loss")]);
  ok("params", v8.words(m.buffers.params, m.paramCount));
  ok("close");
  return { name, commands, expected };
}

/** Runs the scenarios in one driver process and compares every answer. */
async function runScenarios(runtime: HostRuntimeName, scenarios: Scenario[]): Promise<void> {
  const answers = await runDriver(await hostDriver(runtime), scenarios.flatMap((s) => s.commands));
  let at = 0;
  for (const scenario of scenarios) {
    expectAnswers(scenario, answers.slice(at, at + scenario.commands.length));
    at += scenario.commands.length;
  }
}

/** Compares a scenario's answers line by line, naming the first difference. */
function expectAnswers(scenario: Scenario, answers: string[]): void {
  for (let i = 0; i < scenario.expected.length; i++) {
    expect(answers[i], `${scenario.name}: ${scenario.commands[i].slice(0, 60)}`).toBe(scenario.expected[i]);
  }
}

const documented = (): Model => parseSpecText(readFileSync(join(ROOT, "examples", "documented-example.json"), "utf8"));

/** The documented example in q16.16 with a learning rate (655 LSBs) below the end of its memory. */
function lowRateModel(): Model {
  const spec = JSON.parse(readFileSync(join(ROOT, "examples", "documented-example.json"), "utf8"));
  return parseSpec({ ...spec, name: "low-rate", format: "q16.16", optimizer: { type: "sgd", learningRate: 0.01 } });
}

/** A 4-8-8 tanh/linear net with a sample: the widest step over a tanh layer. */
function randomWide(): Record<string, unknown> {
  const draw = mulberry32(88);
  const weights = [4, 8].map((fanIn) => ({
    weight: Array.from({ length: fanIn }, () => Array.from({ length: 8 }, () => draw() - 0.5)),
    bias: Array.from({ length: 8 }, () => draw() - 0.5),
  }));
  return {
    format: "q8.24", inputs: 4, layers: [{ units: 8, activation: "tanh" }, { units: 8, activation: "linear" }],
    loss: { type: "l2" }, optimizer: { type: "sgd", learningRate: 0.1 }, weights,
    sample: { input: [0.5, -1, 0.25, 2], target: [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8] },
  };
}

describe("the host library's files", () => {
  it("are qfirm.h and one C file per runtime, each runtime's part after the shared one", async () => {
    for (const host of HOSTS) {
      const dir = await writeHostFiles(host);
      const text = readFileSync(join(dir, hostSourceName(host)), "utf8");
      expect(text.indexOf("qfirm_to_q(double")).toBeGreaterThan(0);
      expect(text.indexOf("static qfirm_status rt_open(qfirm_model *m, const uint8_t *wasm, uint32_t wasm_len, uint32_t memory_bytes) {"))
        .toBeGreaterThan(text.indexOf("qfirm_to_q(double"));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("qfirm build --host (bin/qfirm.js, which runs dist/: `npm run build` first)", () => {
  const BIN = join(ROOT, "bin", "qfirm.js");

  it.each(HOSTS)("--host %s writes qfirm.h and the runtime's C file beside model.h", async (host) => {
    const parent = await mkdtemp(join(tmpdir(), "qfirm-build-host-"));
    const out = join(parent, "fw");
    const run = await exec(process.execPath, [BIN, "build", join(ROOT, "examples", "documented-example.json"), "--out", out, "--host", host]);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["model.h", "model.json", "model.wasm", "qfirm.h", hostSourceName(host)].sort());
    for (const [name, text] of Object.entries(hostFiles(host))) expect(readFileSync(join(out, name), "utf8")).toBe(text);
    await rm(parent, { recursive: true, force: true });
  });

  it("refuses another runtime with one line, exit 2, and writes nothing", async () => {
    const parent = await mkdtemp(join(tmpdir(), "qfirm-build-host-"));
    const run = await exec(process.execPath, [BIN, "build", join(ROOT, "examples", "documented-example.json"), "--out", join(parent, "fw"), "--host", "wasmtime"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/"wasmtime" is not one of wasm3, wamr/)]);
    expect(readdirSync(parent)).toEqual([]);
    await rm(parent, { recursive: true, force: true });
  });
});

describeWith({ runtimes: ["wasm3", "wamr"], tools: [["cc", "gcc"], ["cmake", "cmake"]] }, "the host library in the real runtimes", () => {
  let dir: string;
  const scenarios: Scenario[] = [];
  let documentedBuilt: Built;
  let documentedPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qfirm-hosts-"));
    // Every pairing, with a batch buffer so the batched entries run too.
    for (let i = 0; i < CASES.length; i++) {
      const net = drawNet(CASES[i], i);
      const built = await buildModel({ ...net.model, weights: net.params, batchCapacity: BATCH_ROWS });
      const path = join(dir, `case-${i}.wasm`);
      await writeFile(path, built.wasm);
      scenarios.push(await trainingScenario(CASES[i].name, path, built));
    }
    documentedBuilt = await buildModel(documented());
    documentedPath = join(dir, "documented.wasm");
    await writeFile(documentedPath, documentedBuilt.wasm);
    scenarios.push(await trainingScenario("documented example (no batch)", documentedPath, documentedBuilt));
    const low = await buildModel(lowRateModel());
    await writeFile(join(dir, "low.wasm"), low.wasm);
    scenarios.push(await trainingScenario("q16.16, learning rate below __heap_base", join(dir, "low.wasm"), low));
    // Steps that also give the tanh layer below its dZ, up to the widest (8 units): their
    // frames must fit WAMR classic's default 2 KiB operand stack, as every frame here.
    const iris = parseSpecText(readFileSync(join(ROOT, "examples", "iris.json"), "utf8"), "iris.json");
    const wide = parseSpec({ ...randomWide(), name: "tanh-8-8" });
    for (const [name, model] of [["iris (tanh 8 → 3)", iris], ["tanh 8 → 8, l2", wide]] as const) {
      const built = await buildModel({ ...model, batchCapacity: BATCH_ROWS });
      const path = join(dir, `${built.manifest.name}.wasm`);
      await writeFile(path, built.wasm);
      scenarios.push(await trainingScenario(name, path, built));
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(HOSTS)("%s: the library compiles warning-free with -std=c99 -Wall -Wextra -pedantic, against the runtime's headers", async (host) => {
    const runtime = await hostRuntime(host === "wasm3" ? "wasm3" : "wamr-fast");
    const files = await writeHostFiles(host);
    for (const level of ["-O0", "-O2"]) {
      const run = await execOk("cc", [...STRICT_C, level, "-I", files, ...runtime.include.flatMap((i) => ["-I", i]), "-c", join(files, hostSourceName(host)), "-o", join(files, "lib.o")]);
      expect(run.stderr).toBe("");
    }
    await rm(files, { recursive: true, force: true });
  });

  it.each(HOST_RUNTIMES)("%s: every pairing trains bit-identically to V8: losses, params, batched entries", async (runtime: HostRuntimeName) => {
    await runScenarios(runtime, scenarios);
    expect(scenarios.length).toBe(CASES.length + 4);
  });

  it.each(HOST_RUNTIMES)("%s: linear memory is what the module uses, not the 64 KiB page it declares", async (runtime) => {
    const driver = await hostDriver(runtime);
    const [open] = await runDriver(driver, [openLine(documentedPath, documentedBuilt)]);
    expect(answerWords(open, "open")).toEqual([documentedBuilt.manifest.memory.bytesUsed]);
    expect(documentedBuilt.manifest.memory.bytesUsed).toBe(1360);
  });

  describe("conversion from double: the driver's rule (src/spec/format.ts toQ)", () => {
    const edges = (F: number): number[] => {
      const lsb = 2 ** -F;
      const ties = [0.5, 1.5, 2.5, 1000.5, 2 ** 20 + 0.5].flatMap((k) => [k * lsb, -k * lsb]);
      return [
        ...ties,
        0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 0.49999999999999994 * lsb, -0.49999999999999994 * lsb,
        -(2 ** 31) * lsb, // the most negative value
        -(2 ** 31 + 0.25) * lsb, // rounds to it
        -(2 ** 31 + 0.5) * lsb, // a tie away from zero: one past it
        (2 ** 31 - 1) * lsb, (2 ** 31 - 1 + 0.25) * lsb, (2 ** 31 - 0.5) * lsb, (2 ** 31 - 0.5 - 2 ** -21) * lsb,
        2 ** 32 * lsb, -(2 ** 33) * lsb, 1e308, -1e308, Infinity, -Infinity, NaN,
        -2.06, 100.7, 0.61, 0.02, 0.03,
      ];
    };
    const seeded = (F: number): number[] => {
      const next = mulberry32(F * 7919);
      const range = 2 ** (31 - F);
      return Array.from({ length: 500 }, () => (2 * next() - 1) * range * 1.01);
    };
    const expectedQ = (value: number, F: number): string => {
      try {
        return String(toQ(value, F));
      } catch (error) {
        if (error instanceof QRangeError) return "e2";
        throw error;
      }
    };

    it.each([1, 8, 16, 24, 28, 30])("equals toQ for F = %i on ties, the most negative value, out of range and 500 seeded values", async (F) => {
      const values = [...edges(F), ...seeded(F)];
      const driver = await hostDriver("wasm3");
      const [line] = await runDriver(driver, [`toq ${F} ${values.map(bits).join(" ")}`]);
      const got = line.split(" ").slice(1);
      const want = values.map((v) => expectedQ(v, F));
      values.forEach((v, i) => expect(got[i], `${v} at F = ${F}`).toBe(want[i]));
      expect(want.filter((w) => w === "e2").length).toBeGreaterThan(8);
      expect(want).toContain(String(-(2 ** 31)));
    });
  });

  describe("errors: a code and one line naming what is wrong; nothing written", () => {
    it.each(HOST_RUNTIMES)("%s", async (runtime) => {
      const driver = await hostDriver(runtime);
      const m = documentedBuilt.manifest;
      const sample = documented().sample!;
      const answers = await runDriver(driver, [
        openLine(documentedPath, documentedBuilt),
        `input_f64 ${[0.5, NaN, 1].map(bits).join(" ")}`,
        `input_f64 ${[0.5, 128, 1].map(bits).join(" ")}`,
        `input_f64 ${[0.5, 1].map(bits).join(" ")}`,
        `target_f64 ${[-128.00000003].map(bits).join(" ")}`,
        `lr_f64 ${bits(Infinity)}`,
        "train 1",
        "train_batch 1",
        "capacity",
        `input_f64 ${sample.input.map(bits).join(" ")}`,
        `target_f64 ${sample.target.map(bits).join(" ")}`,
        "train 1",
        `open ${documentedPath} 400 1 11 24`,
        "train 1",
      ]);
      expect(answers[0]).toBe(`open ok ${m.memory.bytesUsed}`);
      expect(answers[1]).toBe("input_f64 error 2 input[1]: NaN, infinite or outside q8.24");
      expect(answers[2]).toBe("input_f64 error 2 input[1]: NaN, infinite or outside q8.24");
      expect(answers[3]).toBe("input_f64 error 1 input: 2 values; the model has 3");
      expect(answers[4]).toBe("target_f64 error 2 target[0]: NaN, infinite or outside q8.24");
      expect(answers[5]).toBe("lr_f64 error 2 learning rate: NaN, infinite or outside q8.24");
      // Nothing was written: the first step is the module's own first step.
      const v8 = await V8Module.create(documentedBuilt.wasm);
      const first = v8.call("train_step");
      expect(answers[6]).toBe(`train ok ${first}`);
      expect(answers[7]).toBe("train_batch error 5 train_batch: the module does not export it");
      expect(answers[8]).toBe("capacity ok 0");
      // The sample through the _f64 setters: the driver's conversion, so V8's second step.
      expect(answers[9]).toBe("input_f64 ok");
      expect(answers[11]).toBe(`train ok ${v8.call("train_step")}`);
      expect(answers[12]).toBe("open error 3 config: its counts do not fit the module's buffers (another model's model.h?)");
      expect(answers[13]).toBe("train error 1 train_step: the model is not open");
    });
  });
});

/** The documented example as a lean module and an inference-only one, both with a batch buffer; and a full module with a frozen first layer. */
function modeModels(): { lean: Model; none: Model; frozen: Model } {
  const spec = JSON.parse(readFileSync(join(ROOT, "examples", "documented-example.json"), "utf8"));
  const lean = parseSpec({ ...spec, name: "lean", training: "lean", batch: { capacity: BATCH_ROWS } });
  const { loss: _l, optimizer: _o, ...rest } = spec;
  const none = parseSpec({ ...rest, name: "none", training: "none", batch: { capacity: BATCH_ROWS } });
  const next = mulberry32(41);
  // grads (75 words) and what follows them are shorter than params (1,059 words): a host
  // that took grads for params-long would not even open it.
  const frozen = parseSpec({
    name: "frozen",
    inputs: 40,
    layers: [{ units: 24, activation: "tanh", trainable: false }, { units: 3, activation: "sigmoid" }],
    optimizer: { type: "sgd", learningRate: 0.1, momentum: 0.5 },
    init: { seed: 9 },
    sample: { input: Array.from({ length: 40 }, () => 2 * next() - 1), target: [1, 0, 0] },
  });
  return { lean, none, frozen };
}

/** The driver's answer to a call of an export the module lacks. */
const missing = (command: string, name: string) => `${command} error 5 ${name}: the module does not export it`;

/**
 * Builds the model into dir, opens it (with its trainable param count), lets `body`
 * add commands with V8's answers, and closes it.
 */
async function modeScenario(
  dir: string,
  name: string,
  model: Model,
  body: (s: { m: Built["manifest"]; v8: V8Module; add: (command: string, answer: string) => void }) => void,
): Promise<Scenario> {
  const built = await buildModel(model);
  const path = join(dir, `${model.name}.wasm`);
  await writeFile(path, built.wasm);
  const m = built.manifest;
  const commands = [`${openLine(path, built)} ${m.trainableParamCount}`];
  const expected = [`open ok ${m.memory.bytesUsed}`];
  const add = (command: string, answer: string) => {
    commands.push(command);
    expected.push(answer);
  };
  body({ m, v8: await V8Module.create(built.wasm), add });
  add("close", "close ok");
  return { name, commands, expected };
}

describeWith({ runtimes: ["wasm3", "wamr"], tools: [["cc", "gcc"]] }, "the host library with lean, inference-only and frozen-layer modules", () => {
  let dir: string;
  const scenarios: Scenario[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qfirm-host-modes-"));
    const { lean, none, frozen } = modeModels();

    // Lean: train_step and train_samples fused; no grads, zero_grad, backward, step, train_batch.
    scenarios.push(
      await modeScenario(dir, "lean", lean, ({ m, v8, add }) => {
        add("train 8", `train ok ${Array.from({ length: 8 }, () => v8.call("train_step")).join(" ")}`);
        add("params", `params ok ${v8.words(m.buffers.params, m.paramCount).join(" ")}`);
        for (const [command, name] of [["grads", "grads_ptr"], ["zero_grad", "zero_grad"], ["backward", "backward"], ["step", "step"], ["train_batch 2", "train_batch"]]) {
          add(command, missing(command.split(" ")[0], name));
        }
        const input = v8.words(m.buffers.input, m.inputs);
        const target = v8.words(m.buffers.target!, m.outputs);
        const rows = Array.from({ length: BATCH_ROWS }, (_, k) => [...input.map((q) => q + k * 3331), ...target]).flat();
        v8.write(m.batch!.offset, rows);
        add(`batch ${BATCH_ROWS} ${rows.join(" ")}`, "batch ok");
        add(`train_samples ${BATCH_ROWS}`, `train_samples ok ${v8.call("train_samples", BATCH_ROWS)}`);
        add("params", `params ok ${v8.words(m.buffers.params, m.paramCount).join(" ")}`);
      }),
    );

    // Inference only: forward and predict_samples over rows of inputs alone; nothing that trains.
    scenarios.push(
      await modeScenario(dir, "inference only", none, ({ m, v8, add }) => {
        expect(m.buffers.target).toBeNull();
        v8.call("forward");
        add("forward", "forward ok");
        add("output", `output ok ${v8.words(m.buffers.output, m.outputs).join(" ")}`);
        const absent = [["train 1", "train_step"], ["loss", "loss"], ["target 1", "target_ptr"], ["lr 100", "set_learning_rate"], ["grads", "grads_ptr"], ["train_samples 2", "train_samples"]];
        for (const [command, name] of absent) add(command, missing(command.split(" ")[0], name));
        add("capacity", `capacity ok ${BATCH_ROWS}`);
        const input = v8.words(m.buffers.input, m.inputs);
        const rows = Array.from({ length: BATCH_ROWS }, (_, k) => input.map((q, i) => q - k * 977 * (i + 1))).flat();
        expect(m.batch!.rowBytes).toBe(4 * m.inputs); // rows hold inputs only
        v8.write(m.batch!.offset, rows);
        // Row by row from doubles (exactly the Q values above), then all rows at once.
        for (let k = 0; k < BATCH_ROWS; k++) {
          const values = rows.slice(k * m.inputs, (k + 1) * m.inputs).map((q) => fromQ(q, m.format.fracBits));
          add(`batch_row_f64 ${k} ${values.map(bits).join(" ")}`, "batch_row_f64 ok");
        }
        v8.call("predict_samples", BATCH_ROWS);
        const predicted = `predict ok ${v8.words(m.batch!.outputOffset, BATCH_ROWS * m.outputs).join(" ")}`;
        add(`predict ${BATCH_ROWS}`, predicted);
        add(`batch ${BATCH_ROWS} ${rows.join(" ")}`, "batch ok");
        add(`predict ${BATCH_ROWS}`, predicted);
      }),
    );

    // A frozen first layer: grads hold the trainable tensors only (config.trainable_param_count).
    scenarios.push(
      await modeScenario(dir, "frozen first layer", frozen, ({ m, v8, add }) => {
        expect(m.trainableParamCount).toBe(75);
        add("train 5", `train ok ${Array.from({ length: 5 }, () => v8.call("train_step")).join(" ")}`);
        add("grads", `grads ok ${v8.words(m.buffers.grads!, m.trainableParamCount).join(" ")}`);
        add("params", `params ok ${v8.words(m.buffers.params, m.paramCount).join(" ")}`);
      }),
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(HOST_RUNTIMES)("%s: V8's answers, and QFIRM_ERR_MISSING (5) for every export the mode leaves out", async (runtime: HostRuntimeName) => {
    await runScenarios(runtime, scenarios);
    expect(scenarios.map((s) => s.name)).toEqual(["lean", "inference only", "frozen first layer"]);
  });

  it("qfirm build --host wasm3 of a lean and an inference-only spec: model.h and the library compile warning-free and run V8's steps", async () => {
    const runtime = await hostRuntime("wasm3");
    const spec = JSON.parse(readFileSync(join(ROOT, "examples", "documented-example.json"), "utf8"));
    for (const name of ["lean", "none"]) {
      const specPath = join(dir, `${name}.json`);
      await writeFile(specPath, JSON.stringify({ ...spec, name, training: "lean" }));
      const model = name === "none" ? inferenceOnly(parseSpecText(readFileSync(specPath, "utf8"))) : parseSpecText(readFileSync(specPath, "utf8"));
      const out = join(dir, `${name}-fw`);
      const args = ["build", specPath, "--out", out, "--host", "wasm3", ...(name === "none" ? ["--inference-only"] : [])];
      const build = await exec(process.execPath, [join(ROOT, "bin", "qfirm.js"), ...args]);
      expect(build.code, build.stderr).toBe(0);
      const upper = name.toUpperCase();
      await writeFile(
        join(out, "main.c"),
        `#include <stdio.h>
#include "model.h"
#include "qfirm.h"
#ifndef ${upper}_TRAINABLE_PARAM_COUNT
#define ${upper}_TRAINABLE_PARAM_COUNT 0
#endif
static qfirm_model model;
int main(void) {
  const qfirm_config config = { ${upper}_INPUTS, ${upper}_OUTPUTS, ${upper}_PARAM_COUNT, ${upper}_FRAC_BITS, 0, ${upper}_TRAINABLE_PARAM_COUNT };
  int32_t loss = 0, output[${upper}_OUTPUTS];
  int k;
  if (qfirm_open(&model, ${name}_wasm, ${name}_wasm_len, &config) != QFIRM_OK) return 1;
  for (k = 0; k < 3; k++) {
    qfirm_status status = qfirm_train_step(&model, &loss);
    printf("train_step %d %ld\\n", (int)status, (long)loss);
  }
  if (qfirm_forward(&model) != QFIRM_OK || qfirm_get_output(&model, output, ${upper}_OUTPUTS) != QFIRM_OK) return 1;
  printf("output %ld\\n", (long)output[0]);
  qfirm_close(&model);
  return 0;
}
`,
      );
      const binary = join(out, "main");
      await execOk("cc", [
        ...STRICT_C, "-O1", "-I", out, ...runtime.include.flatMap((i) => ["-I", i]),
        join(out, "main.c"), join(out, "qfirm_wasm3.c"), "-o", binary, ...runtime.link,
      ]);
      const run = await execOk(binary, []);
      const built = await buildModel(model);
      expect(Buffer.from(readFileSync(join(out, "model.wasm"))).equals(Buffer.from(built.wasm))).toBe(true);
      const v8 = await V8Module.create(built.wasm);
      const steps = [0, 1, 2].map(() => (name === "none" ? "train_step 5 0" : `train_step 0 ${v8.call("train_step")}`));
      v8.call("forward");
      const m = built.manifest;
      expect(run.stdout.trim().split("\n")).toEqual([...steps, `output ${v8.words(m.buffers.output, 1)[0]}`]);
    }
  });
});

describeWith({ runtimes: ["wasm3", "wamr"], tools: [["arm-none-eabi-gcc", "gcc-arm-none-eabi"]] }, "the host library for a Cortex-M", () => {
  it.each(HOSTS)("%s: compiles warning-free with arm-none-eabi-gcc -std=c99 -Wall -Wextra -pedantic", async (host) => {
    const files = await writeHostFiles(host);
    const run = await execOk("arm-none-eabi-gcc", [
      ...STRICT_C, "-Os", "-mcpu=cortex-m4", "-mthumb", "-I", files, ...runtimeIncludes(host).flatMap((i) => ["-I", i]),
      "-c", join(files, hostSourceName(host)), "-o", join(files, "lib.o"),
    ]);
    expect(run.stderr).toBe("");
    await rm(files, { recursive: true, force: true });
  });
});
