// Speed, accuracy and size of the qfirm module against the same fixed-point algorithm
// in native C, a float64 JavaScript trainer, the float64 reference and TensorFlow.js
// (wasm and cpu backends), on the documented example, Iris and MNIST (its images, and
// the same rows with dense inputs); and the mcu module in the microcontroller
// interpreters (wasm3, WAMR fast and classic) when QFIRM_RUNTIMES provides them.
//
//   npm run bench                       # full run: about 5 s per case, 11 minutes in all on 2 cores
//   npm run bench -- --quick            # about 0.6 s per case, a smaller MNIST accuracy run: about 3 minutes
//   npm run bench -- --json FILE        # also writes the results as JSON
//
// Samples per second, for every model × engine × task: per-sample SGD (batch 1, the
// main case), one SGD step on the mean gradient of 32 rows, inference one row at a
// time. Progress goes to stderr, the report to stdout. Exit code 1 when the module's
// held-out accuracy is more than 1 percentage point from the reference's; 2 for bad
// usage. Speed targets are reported, never enforced.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Target } from "../src/build/compile.js";
import type { Built } from "../src/build/build.js";
import type { Firmware } from "../src/run/driver.js";
import { quantizeRows } from "../src/train/train.js";
import { ArtifactError, checkOutputs, writeFiles } from "../src/build/artifacts.js";
import { moduleBytes, tfjsBytes, type ModuleBytes, type TfjsBytes } from "./bytes.js";
import { ENGINES, INTERPRETERS, type EngineCases, type EngineName, type Task } from "./engine.js";
import { floatCases } from "./float-engine.js";
import { bakedModule, interpreterRate, interpreters, rowsPerCall, type Interpreter } from "./interpreters.js";
import { nativeBaseline, nativeUnavailable, NATIVE_FLAGS, type NativeBaseline } from "./native.js";
import { heldOutAccuracy, type HeldOutAccuracy } from "./held-out.js";
import { describeMachine, machineLine, type Machine } from "./machine.js";
import { FULL_BUDGET, QUICK_BUDGET, measureWindows, median, type Budget } from "./measure.js";
import { MINI_BATCH, benchModels, type BenchModel } from "./models.js";
import { loadQfirm, qfirmCases } from "./qfirm-engine.js";
import { referenceCases } from "./reference-engine.js";
import { TFJS_BACKENDS, loadTfjs, tfjsCases, useBackend, wasmBinaryInUse } from "./tfjs-engine.js";

const USAGE = "usage: npm run bench -- [--quick] [--json FILE]";

/** Held-out accuracy: the module may trail (or lead) the reference by at most this. */
const MAX_ACCURACY_GAP_PP = 1;
/** Measured, never asserted: per-sample training, qfirm-node ÷ the other engine. */
const TARGETS: { model: string; against: EngineName; ratio: number }[] = [
  { model: "mnist-dense", against: "native-c", ratio: 1.2 },
  { model: "mnist-dense", against: "float64-js", ratio: 3 },
  { model: "mnist", against: "tfjs-wasm", ratio: 20 },
  { model: "mnist", against: "reference", ratio: 1 },
];
/** Passes over the rows after which the native baseline's params must equal the module's. */
const NATIVE_CHECK_PASSES = 2;

interface Case {
  model: string;
  engine: EngineName;
  task: Task;
  batch: 1 | typeof MINI_BATCH;
  /** The median window's rate. */
  samplesPerSecond: number;
  /** The slowest and the fastest window, samples per second. */
  slowest: number;
  fastest: number;
  windows: number;
}

interface Ratio {
  model: string;
  task: Task;
  batch: number;
  /** qfirm-node's samples per second ÷ `against`'s. */
  against: EngineName;
  ratio: number;
}

interface Report {
  machine: Machine;
  /** The native baseline's compiler and flags; the interpreters found. */
  native: string;
  interpreters: string;
  mode: "full" | "quick";
  budget: Budget;
  tfjs: { version: string; wasmBinary: string };
  cases: Case[];
  ratios: Ratio[];
  accuracy: HeldOutAccuracy[];
  bytes: { qfirm: ModuleBytes[]; tfjs: TfjsBytes };
  seconds: number;
}

/** qfirm-node runs the module built for "web" (optimized for speed), qfirm-mcu the one built for "mcu" (for size, wasm3 and WAMR's features); both in Node. */
const TARGETS_BUILT: Target[] = ["web", "mcu"];

const TASK_RUNS: { task: Task; batch: Case["batch"]; runner: keyof Omit<EngineCases, "dispose"> }[] = [
  { task: "train", batch: 1, runner: "trainSamples" },
  { task: "train", batch: MINI_BATCH, runner: "trainBatch" },
  { task: "infer", batch: 1, runner: "predictSamples" },
];

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Every window's rate, by case: "model engine task batch". */
type Windows = Map<string, { model: string; engine: EngineName; task: Task; batch: Case["batch"]; rates: number[] }>;

function measureEngine(windows: Windows, bench: BenchModel, engine: EngineName, cases: EngineCases, budget: Budget): void {
  for (const { task, batch, runner } of TASK_RUNS) {
    const rates = measureWindows(cases[runner], budget);
    log(`  ${bench.name} ${engine} ${task} batch ${batch}: ${rate(median(rates))} samples/s`);
    const key = `${bench.name} ${engine} ${task} ${batch}`;
    const entry = windows.get(key) ?? { model: bench.name, engine, task, batch, rates: [] };
    entry.rates.push(...rates);
    windows.set(key, entry);
  }
  cases.dispose();
}

/** Pushes one round's window rates of a case into `windows`. */
function record(windows: Windows, model: string, engine: EngineName, rates: number[]): void {
  log(`  ${model} ${engine} train batch 1: ${rate(median(rates))} samples/s`);
  const key = `${model} ${engine} train 1`;
  const entry = windows.get(key) ?? { model, engine, task: "train" as Task, batch: 1 as const, rates: [] };
  entry.rates.push(...rates);
  windows.set(key, entry);
}

/** The native baseline's params after NATIVE_CHECK_PASSES passes must equal the module's (the same algorithm). */
async function checkNative(native: NativeBaseline, bench: BenchModel, built: Built): Promise<void> {
  const { exports } = await WebAssembly.instantiate(await WebAssembly.compile(built.wasm), {});
  const e = exports as { memory: WebAssembly.Memory; train_samples(n: number): number };
  const m = built.manifest;
  const rows = bench.data.inputs.length;
  new Int32Array(e.memory.buffer).set(quantizeRows(bench.data, bench.model), m.batch!.offset / 4);
  for (let p = 0; p < NATIVE_CHECK_PASSES; p++) e.train_samples(rows);
  const params = new Int32Array(e.memory.buffer, m.buffers.params, m.paramCount);
  const c = native.paramsAfter(bench, NATIVE_CHECK_PASSES);
  const at = params.findIndex((v, k) => v !== c[k]);
  if (at >= 0 || c.length !== params.length) throw new Error(`${bench.name}: the native baseline's params differ from the module's (param ${at})`);
}

/**
 * Every case, once per round. qfirm's modules are built once and keep training from
 * round to round; the reference and TF.js start each round from the initial weights.
 */
async function measureAll(models: BenchModel[], budget: Budget, scratch: string): Promise<{ cases: Case[]; modules: ModuleBytes[]; wasmBinary: string; tfjsVersion: string; native: string; interpreters: string }> {
  const windows: Windows = new Map();
  const modules: ModuleBytes[] = [];
  const firmware = new Map<string, Firmware>();
  const builtMcu = new Map<string, Built>();
  for (const bench of models) {
    for (const target of TARGETS_BUILT) {
      const qfirm = await loadQfirm(bench, target);
      log(`  ${bench.name}: built for ${target} in ${qfirm.buildSeconds.toFixed(1)} s`);
      // mnist-dense is the mnist model on other rows: one module, listed once.
      if (!modules.some((m) => m.model === bench.model.name && m.target === target)) modules.push(moduleBytes(bench.model.name, target, qfirm.built));
      firmware.set(`${bench.name} ${target}`, qfirm.firmware);
      if (target === "mcu") builtMcu.set(bench.name, qfirm.built);
    }
  }
  const noNative = nativeUnavailable();
  const native = noNative ? undefined : nativeBaseline(scratch);
  const nativeLine = native ? `${native.compiler}, ${NATIVE_FLAGS.join(" ")}` : `skipped: ${noNative}`;
  log(`native baseline: ${nativeLine}`);
  if (native) for (const bench of models) await checkNative(native, bench, builtMcu.get(bench.name)!);
  const found = await interpreters();
  const runtimes: Interpreter[] = typeof found === "string" ? [] : found;
  const interpreterLine = typeof found === "string" ? `skipped: ${found}` : runtimes.map((r) => r.name).join(", ");
  log(`interpreters: ${interpreterLine}`);
  const baked = new Map<string, string>();
  if (runtimes.length > 0) for (const bench of models) baked.set(bench.name, await bakedModule(bench, scratch));
  const tf = await loadTfjs();
  let wasmBinary = "";

  for (let round = 1; round <= budget.rounds; round++) {
    log(`round ${round} of ${budget.rounds}`);
    for (const bench of models) {
      for (const target of TARGETS_BUILT) {
        const engine = target === "web" ? "qfirm-node" : "qfirm-mcu";
        measureEngine(windows, bench, engine, qfirmCases(firmware.get(`${bench.name} ${target}`)!, bench), budget);
      }
      if (native) record(windows, bench.name, "native-c", native.rates(bench, budget));
      measureEngine(windows, bench, "float64-js", floatCases(bench), budget);
      measureEngine(windows, bench, "reference", referenceCases(bench), budget);
      for (const runtime of runtimes) {
        const seconds = budget.windows * budget.windowSeconds;
        record(windows, bench.name, runtime.name, [interpreterRate(runtime, baked.get(bench.name)!, rowsPerCall(bench), seconds)]);
      }
    }
    for (const backend of TFJS_BACKENDS) {
      await useBackend(tf, backend);
      if (backend === "wasm") wasmBinary = wasmBinaryInUse(tf);
      for (const bench of models) {
        const tensors = tf.memory().numTensors;
        measureEngine(windows, bench, `tfjs-${backend}`, tfjsCases(tf, bench), budget);
        const leaked = tf.memory().numTensors - tensors;
        if (leaked !== 0) throw new Error(`TF.js ${backend}, ${bench.name}: ${leaked} tensors leaked`);
      }
    }
  }

  const cases = [...windows.values()].map(({ rates, ...c }): Case => ({
    ...c,
    samplesPerSecond: median(rates),
    slowest: Math.min(...rates),
    fastest: Math.max(...rates),
    windows: rates.length,
  }));
  return { cases, modules, wasmBinary, tfjsVersion: tf.version_core, native: nativeLine, interpreters: interpreterLine };
}

function ratiosOf(cases: Case[]): Ratio[] {
  const ratios: Ratio[] = [];
  for (const qfirm of cases.filter((c) => c.engine === "qfirm-node")) {
    for (const other of cases) {
      if (other.model !== qfirm.model || other.task !== qfirm.task || other.batch !== qfirm.batch || other.engine === "qfirm-node") continue;
      ratios.push({ model: qfirm.model, task: qfirm.task, batch: qfirm.batch, against: other.engine, ratio: qfirm.samplesPerSecond / other.samplesPerSecond });
    }
  }
  return ratios;
}

// ---- The report ----

/** Three significant digits, thousands grouped: 21,800; 812; 85.3. */
function rate(value: number): string {
  return Number(value.toPrecision(3)).toLocaleString("en-US");
}

function times(ratio: number): string {
  return `${ratio < 10 ? ratio.toFixed(2) : ratio.toFixed(1)}×`;
}

function grouped(n: number): string {
  return n.toLocaleString("en-US");
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

function table(header: string[], align: ("l" | "r")[], rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `| ${align.map((a) => (a === "r" ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
}

function render(report: Report, models: BenchModel[]): string {
  const lines: string[] = [];
  const b = report.budget;
  lines.push(
    `qfirm bench (${report.mode}: ${b.rounds} rounds, each ${b.warmupSeconds} s warm-up then ${b.windows} windows of ${b.windowSeconds} s per case; the median window)`,
    `machine: ${machineLine(report.machine)}`,
    `TF.js ${report.tfjs.version}, wasm backend running ${report.tfjs.wasmBinary} (one thread)`,
    `native-c: ${report.native}`,
    `interpreters: ${report.interpreters}`,
    "",
    "samples per second (train batch 1: per-sample SGD; train batch 32: one step on the mean gradient; infer: one row at a time)",
    "",
  );
  const shapes = new Map(models.map((m) => [m.name, m.shape]));
  const rows: string[][] = [];
  for (const bench of models) {
    for (const { task, batch } of TASK_RUNS) {
      const cells = ENGINES.map((engine) => {
        const c = report.cases.find((c) => c.model === bench.name && c.engine === engine && c.task === task && c.batch === batch);
        return c ? rate(c.samplesPerSecond) : "–";
      });
      rows.push([`${bench.name} (${shapes.get(bench.name)})`, task, String(batch), ...cells]);
    }
  }
  lines.push(...table(["model", "task", "batch", ...ENGINES], ["l", "l", "r", ...ENGINES.map(() => "r" as const)], rows), "");

  const others = ENGINES.filter((e) => e !== "qfirm-node");
  lines.push("qfirm-node ÷ each engine (samples per second)", "");
  const ratioRows: string[][] = [];
  for (const bench of models) {
    for (const { task, batch } of TASK_RUNS) {
      const cells = others.map((against) => {
        const r = report.ratios.find((r) => r.model === bench.name && r.task === task && r.batch === batch && r.against === against);
        return r ? times(r.ratio) : "–";
      });
      ratioRows.push([bench.name, task, String(batch), ...cells]);
    }
  }
  lines.push(...table(["model", "task", "batch", ...others.map((e) => `÷ ${e}`)], ["l", "l", "r", ...others.map(() => "r" as const)], ratioRows), "");

  const interpreterCases = report.cases.filter((c) => (INTERPRETERS as readonly string[]).includes(c.engine));
  if (interpreterCases.length > 0) {
    lines.push("the mcu module in the microcontroller interpreters on this machine, per-sample training (samples per second, and ÷ native-c)", "");
    const rowsOf = models.map((bench) => {
      const c = report.cases.find((c) => c.model === bench.name && c.engine === "native-c" && c.batch === 1);
      const cells = INTERPRETERS.map((engine) => {
        const i = interpreterCases.find((c) => c.model === bench.name && c.engine === engine);
        return i ? `${rate(i.samplesPerSecond)}${c ? ` (${times(i.samplesPerSecond / c.samplesPerSecond)})` : ""}` : "–";
      });
      return [`${bench.name} (${shapes.get(bench.name)})`, ...cells];
    });
    lines.push(...table(["model", ...INTERPRETERS], ["l", ...INTERPRETERS.map(() => "r" as const)], rowsOf), "");
  }

  const perSample = (model: string, engine: EngineName) =>
    report.cases.find((c) => c.model === model && c.engine === engine && c.task === "train" && c.batch === 1);
  const withSpread = (c: Case) => `${rate(c.samplesPerSecond)}/s (windows ${rate(c.slowest)} to ${rate(c.fastest)})`;
  for (const target of TARGETS) {
    const qfirm = perSample(target.model, "qfirm-node");
    const other = perSample(target.model, target.against);
    if (!qfirm || !other) continue;
    const ratio = qfirm.samplesPerSecond / other.samplesPerSecond;
    const verdict = ratio >= target.ratio ? "met" : "missed";
    lines.push(
      `${target.model} per-sample training: qfirm-node ÷ ${target.against} = ${times(ratio)} (target ≥ ${target.ratio}×: ${verdict}); ` +
        `qfirm-node ${withSpread(qfirm)}, ${target.against} ${withSpread(other)}`,
    );
  }
  lines.push("");

  lines.push("held-out accuracy, per-sample SGD, module and float64 reference from the same weights, split and order", "");
  lines.push(
    ...table(
      ["dataset", "train rows", "held-out rows", "epochs", "fixed", "float", "gap"],
      ["l", "r", "r", "r", "r", "r", "r"],
      report.accuracy.map((a) => [
        a.dataset,
        grouped(a.trainRows),
        grouped(a.heldOutRows),
        String(a.epochs),
        percent(a.fixed),
        percent(a.float),
        `${a.gapPp >= 0 ? "+" : "−"}${Math.abs(a.gapPp).toFixed(2)} pp${Math.abs(a.gapPp) <= MAX_ACCURACY_GAP_PP ? "" : " (over 1 pp)"}`,
      ]),
    ),
    "",
  );

  lines.push("bytes of each qfirm module (memory: linear memory used, with the 256-row batch buffer)", "");
  lines.push(
    ...table(
      ["model", "target", "module", "code", "data", "memory"],
      ["l", "l", "r", "r", "r", "r"],
      report.bytes.qfirm.map((m) => [m.model, m.target, grouped(m.bytes), grouped(m.code), grouped(m.data), grouped(m.memoryBytes)]),
    ),
    "",
  );
  const tfjs = report.bytes.tfjs;
  lines.push("TF.js, for scale", "");
  lines.push(
    ...table(
      ["what", "bytes"],
      ["l", "r"],
      [
        ...tfjs.wasm.map((w) => [`${w.file}${w.loaded ? " (loaded by this run)" : ""}`, grouped(w.bytes)]),
        ...tfjs.minifiedJs.map((f) => [f.file, grouped(f.bytes)]),
        ...tfjs.packages.map((p) => [`${p.name} (installed package)`, grouped(p.bytes)]),
      ],
    ),
    "",
  );
  lines.push(`ran in ${report.seconds.toFixed(0)} s`);
  return lines.join("\n");
}

// ---- Main ----

function parseOptions(): { quick: boolean; json?: string } {
  try {
    const { values } = parseArgs({ options: { quick: { type: "boolean" }, json: { type: "string" }, help: { type: "boolean" } }, strict: true, allowPositionals: false });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    if (values.json !== undefined) checkOutputs([{ path: values.json, kind: "file", option: "--json" }], { force: true });
    return { quick: values.quick ?? false, json: values.json };
  } catch (error) {
    if (error instanceof ArtifactError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`qfirm bench: ${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const started = performance.now();
  const budget = options.quick ? QUICK_BUDGET : FULL_BUDGET;
  const machine = describeMachine();
  log(`qfirm bench, ${options.quick ? "quick" : "full"} run on ${machineLine(machine)}`);

  const models = benchModels();
  const scratch = mkdtempSync(join(tmpdir(), "qfirm-bench-"));
  const measured = await measureAll(models, budget, scratch).finally(() => rmSync(scratch, { recursive: true, force: true }));
  const accuracy = await heldOutAccuracy(options.quick, log);
  const report: Report = {
    machine,
    native: measured.native,
    interpreters: measured.interpreters,
    mode: options.quick ? "quick" : "full",
    budget,
    tfjs: { version: measured.tfjsVersion, wasmBinary: measured.wasmBinary },
    cases: measured.cases,
    ratios: ratiosOf(measured.cases),
    accuracy,
    bytes: { qfirm: measured.modules, tfjs: tfjsBytes(measured.wasmBinary) },
    seconds: (performance.now() - started) / 1000,
  };

  console.log(render(report, models));
  if (options.json !== undefined) {
    await writeFiles({ [options.json]: `${JSON.stringify(report, null, 2)}\n` }, { force: true }); // a report replaces the last one
    log(`wrote ${options.json}`);
  }
  if (accuracy.some((a) => Math.abs(a.gapPp) > MAX_ACCURACY_GAP_PP)) process.exitCode = 1;
}

await main();
