// The qfirm command line. Exit codes: 0 success, 1 a check failed, 2 bad usage or
// a bad spec (one line naming the field; no stack trace; nothing written), 3 an
// internal error (a bug in qfirm).

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import binaryen from "binaryen";
import { SingleBar } from "cli-progress";
import { ArtifactError, writeArtifacts } from "../build/artifacts.js";
import { buildModel } from "../build/build.js";
import { ROOT, TARGETS, type Target } from "../build/compile.js";
import { DataError, loadDataFile, type Dataset } from "../train/data.js";
import { IRIS_FEATURES, loadIris, loadMnist, MNIST_AVAILABLE, MNIST_INPUTS } from "../train/datasets.js";
import { Firmware } from "../run/driver.js";
import { formatName, parseFormat, QRangeError } from "../spec/format.js";
import { renderHeader } from "../build/header.js";
import { footprint, type Footprint } from "../run/inspect.js";
import { measureLut, measureSoftmax } from "../check/lut_error.js";
import { ABI_VERSION, type Manifest } from "../build/manifest.js";
import type { Model } from "../spec/model.js";
import { NOTE_FIGURES } from "../check/notes.js";
import { allQuantities, compare, type ParityRow } from "../check/parity.js";
import { trace as referenceTrace } from "../reference/network.js";
import { DEFAULT_FORMAT, DEFAULT_LUT, parseSpec, parseSpecText, SpecError } from "../spec/spec.js";
import { num, percent, printed, relative, renderTable } from "./table.js";
import { lossCurveSvg } from "../train/svg.js";
import {
  checkOutputPath,
  OutputError,
  renderSpec,
  train,
  trainedSpec,
  writeFilesAtomically,
  type EpochResult,
} from "../train/train.js";

export const EXAMPLE_SPEC = join(ROOT, "examples", "documented-example.json");

const EXIT_INTERNAL = 3;

/** A bad command line: exit 2 with one line. */
class UsageError extends Error {}

async function loadSpec(path: string): Promise<Model> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseSpecText(text, path);
}

function parseTarget(value: string): Target {
  if (!(TARGETS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`"${value}" is not one of ${TARGETS.join(", ")}`);
  }
  return value as Target;
}

function parseNumbers(value: string): number[] {
  const numbers = value.split(",").map((s) => Number(s.trim()));
  if (value.trim() === "" || numbers.some((n) => Number.isNaN(n))) {
    throw new InvalidArgumentError(`"${value}" is not a comma-separated list of numbers`);
  }
  return numbers;
}

function printFootprint(f: Footprint, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(f, null, 2));
    return;
  }
  const other = f.bytes - f.code - f.data;
  console.log(`module: ${f.bytes} bytes (code ${f.code}, data ${f.data}, other ${other}); ${f.paramCount} params`);
  console.log(`linear memory: ${f.memoryBytes} bytes used of ${f.pages} page${f.pages > 1 ? "s" : ""}`);
  console.log(renderTable(["buffer", "offset", "bytes"], f.memory.map((b) => [b.buffer, String(b.offset), String(b.bytes)])));
}

/** The text form, from binaryen's printer. */
function watOf(wasm: Uint8Array): string {
  const module = binaryen.readBinary(wasm);
  try {
    return module.emitText();
  } finally {
    module.dispose();
  }
}

interface ParityReport {
  name: string;
  rows: (ParityRow & { notes?: string })[];
  worstGradient: ParityRow;
  ok: boolean;
}

function worstOf(rows: ParityRow[]): ParityRow {
  const gradients = rows.filter((r) => r.kind === "gradient");
  return gradients.reduce((worst, r) => (r.relError > worst.relError ? r : worst), gradients[0]);
}

async function runParity(model: Model, input: number[], target: number[], withNotes: boolean): Promise<ParityReport> {
  const built = await buildModel(model);
  const firmware = await Firmware.load(built.wasm, built.manifest);
  const module = firmware.trace(input, target);
  const reference = referenceTrace(model, model.weights, input, target);
  const quantities = withNotes ? NOTE_FIGURES : allQuantities(model);
  const rows = compare(quantities, reference, module, built.manifest).map((row, i) =>
    withNotes ? { ...row, notes: printed(NOTE_FIGURES[i].printed, NOTE_FIGURES[i].places) } : row,
  );
  return { name: model.name, rows, worstGradient: worstOf(rows), ok: rows.every((r) => r.ok) };
}

function printReport(report: ParityReport, model: Model, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const withNotes = report.rows.some((r) => r.notes !== undefined);
  const header = ["quantity", ...(withNotes ? ["notes"] : []), "float64", "module", "rel error", "LSBs", ""];
  const rows = report.rows.map((r) => [
    r.label,
    ...(withNotes ? [r.notes!] : []),
    num(r.reference),
    num(r.module),
    relative(r.relError),
    r.lsbError.toFixed(1),
    r.ok ? "ok" : "FAIL",
  ]);
  console.log(`${report.name}: ${formatName(model.format)} values, ${formatName(model.gradFormat)} gradients`);
  console.log(renderTable(header, rows));
  const w = report.worstGradient;
  console.log(`worst gradient error: ${percent(w.relError)} (${w.label}, ${w.lsbError.toFixed(1)} LSBs)`);
  console.log(report.ok ? "parity: ok" : "parity: FAILED");
}

// ---- qfirm train ----

const DATASETS = ["iris", "mnist"] as const;
type DatasetName = (typeof DATASETS)[number];
/** MNIST digits loaded unless --samples says: 4,000 to train and 1,000 held out at the default --holdout. */
const DEFAULT_MNIST_SAMPLES = 5000;

function parseCount(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`"${value}" is not an integer from ${min} to ${max.toLocaleString("en-US")}`);
    }
    return n;
  };
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a number > 0`);
  return n;
}

function parseFraction(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`"${value}" is not a number from 0 to 1 (excluded)`);
  return n;
}

function parseDatasetName(value: string): DatasetName {
  if (!(DATASETS as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${DATASETS.join(", ")}`);
  return value as DatasetName;
}

const TRAIN_HELP = `
Data files (--data):
  CSV   comma-separated numbers, one row per line; a first line with no number in it
        is a header. Each row holds the inputs, then the targets (the last <outputs>
        fields); or, when the last layer is softmax, the inputs then one class label,
        an integer 0 … outputs − 1, turned one-hot. The first row decides which.
  JSON  [{ "input": [...], "target": [...] }, ...] or { "inputs": [[...], ...],
        "targets": [[...], ...] }; with softmax a target may be a class label.
  Every value must fit the spec's format; a bad row stops with file:line:column.

Both the fixed-point module and the float64 reference train, from the same weights
on the same rows in the same order. Held-out accuracy: argmax for several outputs,
the sign for one hinge output, 0.5 for one sigmoid output. --out gets the input spec
with the module's trained weights in place of init (qfirm build makes it firmware).`;

interface TrainCommandOptions {
  data?: string;
  dataset?: DatasetName;
  samples?: number;
  epochs: number;
  seed: number;
  learningRate?: number;
  holdout: number;
  out?: string;
  curve?: string;
  batch: number;
}

const DATASET_SHAPES: Record<DatasetName, { inputs: number; classes: number }> = {
  iris: { inputs: IRIS_FEATURES, classes: 3 },
  mnist: { inputs: MNIST_INPUTS, classes: 10 },
};

/** The built-in data set, once its shape is known to fit the model. */
function builtInDataset(name: DatasetName, model: Model, samples: number | undefined): Dataset {
  if (samples !== undefined && name !== "mnist") throw new UsageError(`--samples: only for --dataset mnist`);
  const { inputs, classes } = DATASET_SHAPES[name];
  const outputs = model.layers[model.layers.length - 1].units;
  if (model.inputs !== inputs || outputs !== classes) {
    throw new UsageError(
      `--dataset ${name}: has ${inputs} inputs and ${classes} classes; the spec's model takes ${model.inputs} inputs and has ${outputs} outputs`,
    );
  }
  return name === "iris" ? loadIris() : loadMnist(samples ?? DEFAULT_MNIST_SAMPLES);
}

function seconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

function lossCell(value: number): string {
  return Number.isFinite(value) ? value.toFixed(6) : String(value);
}

/** (module − reference) / reference, signed, two significant digits. */
function lossDifference(e: EpochResult): string {
  if (e.floatLoss === 0) return e.fixedLoss === 0 ? "0" : "∞";
  const d = (e.fixedLoss - e.floatLoss) / Math.abs(e.floatLoss);
  return d === 0 ? "0" : `${d > 0 ? "+" : "−"}${Math.abs(d).toExponential(1)}`;
}

const EPOCH_COLUMNS = ["epoch", "loss fixed", "loss float", "rel diff", "time fixed", "time float"];
const EPOCH_CELL_WIDTH = 11;

/** One row of the per-epoch table: the first column ("12/100") left-aligned, the rest right. */
function epochLine(cells: string[], epochs: number): string {
  const first = Math.max(EPOCH_COLUMNS[0].length, 2 * String(epochs).length + 1) + 2;
  return cells.map((c, i) => (i === 0 ? c.padEnd(first) : c.padStart(EPOCH_CELL_WIDTH))).join(" ").trimEnd();
}

async function runTrain(specPath: string, options: TrainCommandOptions): Promise<void> {
  if ((options.data === undefined) === (options.dataset === undefined)) {
    throw new UsageError("give one of --data FILE and --dataset iris|mnist");
  }
  let text: string;
  try {
    text = await readFile(specPath, "utf8");
  } catch (error) {
    throw new UsageError(`${specPath}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let model = parseSpecText(text, specPath);
  const spec = JSON.parse(text.replace(/^\uFEFF/, "")) as Record<string, unknown>;
  if (options.learningRate !== undefined) {
    // The spec's own rules (at least one LSB of the format), with the option's name.
    try {
      model = parseSpec({ ...spec, optimizer: { type: "sgd", learningRate: options.learningRate } });
    } catch (error) {
      if (error instanceof SpecError && error.path === "optimizer.learningRate") throw new UsageError(`--learning-rate: ${error.problem}`);
      throw error;
    }
  }
  // Before a long run, not after it.
  try {
    if (options.out !== undefined) checkOutputPath(options.out, "--out");
    if (options.curve !== undefined) checkOutputPath(options.curve, "--curve");
  } catch (error) {
    if (error instanceof OutputError) throw new UsageError(error.message);
    throw error;
  }

  let data: Dataset;
  if (options.data !== undefined) {
    if (options.samples !== undefined) throw new UsageError(`--samples: only for --dataset mnist`);
    try {
      data = await loadDataFile(options.data, model);
    } catch (error) {
      if (error instanceof DataError) throw new UsageError(error.message);
      throw error;
    }
  } else {
    data = builtInDataset(options.dataset!, model, options.samples);
  }
  const rows = data.inputs.length;
  const held = Math.round(rows * options.holdout);
  if (held >= rows) throw new UsageError(`--holdout ${options.holdout}: holds out all ${rows} rows; none are left to train on`);

  const shape = [model.inputs, ...model.layers.map((l) => l.units)].join("-");
  const source = options.data ?? options.dataset!;
  console.log(`${model.name}: ${shape}, ${formatName(model.format)}, learning rate ${model.learningRate}, batch ${options.batch}`);
  console.log(`data: ${source}, ${rows - held} rows to train, ${held} held out (seed ${options.seed})`);

  const bar = process.stderr.isTTY
    ? new SingleBar({
        format: "epoch {epoch} [{bar}] {value}/{total} rows | running loss: fixed {fixed}, float {float}",
        clearOnComplete: true,
        hideCursor: true,
        stream: process.stderr,
      })
    : undefined;
  let barRunning = false;
  const started = performance.now();
  const result = await train(model, data, {
    epochs: options.epochs,
    seed: options.seed,
    holdout: options.holdout,
    batch: options.batch,
    target: "web",
    onProgress: (p) => {
      if (!bar) return;
      const payload = { epoch: `${p.epoch}/${options.epochs}`, fixed: lossCell(p.fixedLoss), float: lossCell(p.floatLoss) };
      if (barRunning) bar.update(p.done, payload);
      else {
        bar.start(p.rows, p.done, payload);
        barRunning = true;
      }
    },
    onEpoch: (e) => {
      if (bar && barRunning) {
        bar.stop();
        barRunning = false;
      }
      if (e.epoch === 1) console.log(epochLine(EPOCH_COLUMNS, options.epochs));
      const cells = [`${e.epoch}/${options.epochs}`, lossCell(e.fixedLoss), lossCell(e.floatLoss), lossDifference(e)];
      console.log(epochLine([...cells, seconds(e.fixedSeconds), seconds(e.floatSeconds)], options.epochs));
    },
  });
  const total = (performance.now() - started) / 1000;

  const a = result.accuracy;
  if (a) {
    const rule = { argmax: "argmax", sign: "sign", threshold: "threshold 0.5" }[a.rule];
    const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
    const gap = (a.fixed - a.float) * 100;
    console.log(
      `held-out accuracy (${a.rows} rows, ${rule}): fixed ${pct(a.fixed)}, float ${pct(a.float)}, gap ${gap >= 0 ? "+" : "−"}${Math.abs(gap).toFixed(2)} pp`,
    );
  } else {
    console.log(held === 0 ? "held-out accuracy: no rows held out" : "held-out accuracy: none (one output that is neither sigmoid nor hinge)");
  }
  const fixedTime = result.epochs.reduce((s, e) => s + e.fixedSeconds, 0);
  const floatTime = result.epochs.reduce((s, e) => s + e.floatSeconds, 0);
  console.log(`time: module ${seconds(fixedTime)}, reference ${seconds(floatTime)}, total ${seconds(total)} (with the build)`);

  const files: Record<string, string> = {};
  if (options.out !== undefined) files[options.out] = renderSpec(trainedSpec(spec, result.params));
  if (options.curve !== undefined) {
    files[options.curve] = lossCurveSvg(
      model.name,
      result.epochs.map((e) => e.fixedLoss),
      result.epochs.map((e) => e.floatLoss),
    );
  }
  if (Object.keys(files).length > 0) {
    await writeFilesAtomically(files);
    console.log(`wrote ${Object.keys(files).join(", ")}`);
  }
}

export function program(): Command {
  const cli = new Command("qfirm")
    .description("Fixed-point WebAssembly firmware that runs and trains small neural networks")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`qfirm: ${text.replace(/^error: /, "").split("\n")[0]}\n`) });

  cli
    .command("build")
    .description("build SPEC into DIR/model.wasm, DIR/model.json and DIR/model.h")
    .argument("<spec>", "the model's JSON spec")
    .requiredOption("--out <dir>", "the output folder (written whole or not at all)")
    .option("--target <target>", `code restrictions: ${TARGETS.join(" (wasm3, WAMR), ")}`, parseTarget, "mcu")
    .option("--wat", "also write DIR/model.wat, the text form")
    .action(async (specPath: string, options: { out: string; target: Target; wat?: boolean }) => {
      const model = await loadSpec(specPath);
      const built = await buildModel(model, options.target);
      await writeArtifacts(options.out, {
        "model.wasm": built.wasm,
        "model.json": JSON.stringify(built.manifest, null, 2) + "\n",
        "model.h": renderHeader(built.manifest, built.wasm),
        ...(options.wat ? { "model.wat": watOf(built.wasm) } : {}),
      });
      console.log(`wrote ${options.out}/model.wasm, model.json, model.h${options.wat ? ", model.wat" : ""}`);
      printFootprint(footprint(built.wasm, built.manifest), false);
    });

  cli
    .command("inspect")
    .description("where a built module's bytes and memory go")
    .argument("<dir>", "a folder written by qfirm build")
    .option("--json", "print as JSON")
    .action(async (dir: string, options: { json?: boolean }) => {
      const read = async (name: string) =>
        readFile(join(dir, name)).catch(() => {
          throw new UsageError(`${join(dir, name)}: cannot read; is ${dir} a folder written by qfirm build?`);
        });
      const wasm = new Uint8Array(await read("model.wasm"));
      const manifest = JSON.parse((await read("model.json")).toString("utf8")) as Manifest;
      if (manifest.abi !== ABI_VERSION) throw new UsageError(`${join(dir, "model.json")}: abi ${manifest.abi} is not ${ABI_VERSION}`);
      printFootprint(footprint(wasm, manifest), options.json ?? false);
    });

  cli
    .command("check")
    .description("run the module against the float64 reference on the spec's sample (or --input/--target)")
    .argument("<spec>", "the model's JSON spec")
    .option("--input <numbers>", "comma-separated input values", parseNumbers)
    .option("--target <numbers>", "comma-separated target values", parseNumbers)
    .option("--json", "print the report as JSON")
    .action(async (specPath: string, options: { input?: number[]; target?: number[]; json?: boolean }) => {
      const model = await loadSpec(specPath);
      const input = options.input ?? model.sample?.input;
      const target = options.target ?? model.sample?.target;
      if (!input || !target) throw new UsageError(`${specPath}: no sample in the spec; give --input and --target`);
      if (input.length !== model.inputs) throw new UsageError(`--input: has ${input.length} values; the model has ${model.inputs} inputs`);
      const outputs = model.layers[model.layers.length - 1].units;
      if (target.length !== outputs) throw new UsageError(`--target: has ${target.length} values; the model has ${outputs} outputs`);
      const report = await runParity(model, input, target, false);
      printReport(report, model, options.json ?? false);
      if (!report.ok) process.exitCode = 1;
    });

  cli
    .command("example")
    .description("the documented example end to end: the notes' figures, float64, and the module")
    .option("--json", "print the report as JSON")
    .action(async (options: { json?: boolean }) => {
      const model = await loadSpec(EXAMPLE_SPEC);
      const report = await runParity(model, model.sample!.input, model.sample!.target, true);
      printReport(report, model, options.json ?? false);
      if (!report.ok) process.exitCode = 1;
    });

  cli
    .command("lut-error")
    .description("maximum error of the table sigmoid and tanh against Math over a dense sweep")
    .option("--format <qI.F>", "the values' format", DEFAULT_FORMAT)
    .option("--entries <n>", "table entries", (v) => Number.parseInt(v, 10), DEFAULT_LUT.entries)
    .option("--range <x>", "the table spans tanh on [0, range]", Number.parseFloat, DEFAULT_LUT.range)
    .action(async (options: { format: string; entries: number; range: number }) => {
      const format = parseFormat(options.format);
      if (typeof format === "string") throw new UsageError(`--format: ${format}`);
      // The same rules as a spec's lut.
      const spec = { name: "lut", format: options.format, inputs: 1, layers: [{ units: 1, activation: "tanh" }], init: { seed: 0 }, lut: { entries: options.entries, range: options.range } };
      try {
        parseSpec(spec);
      } catch (error) {
        if (error instanceof SpecError) throw new UsageError(`--${error.path.replace(/^lut\./, "")}: ${error.problem}`);
        throw error;
      }
      const lut = { entries: options.entries, range: options.range };
      const result = { ...(await measureLut(format.fracBits, lut)), "softmax (exp)": await measureSoftmax(format.fracBits) };
      console.log(`table: ${lut.entries} entries of tanh over [0, ${lut.range}] (${lut.entries * 4} bytes), values ${options.format}`);
      const rows = (["sigmoid", "tanh", "softmax (exp)"] as const).map((name) => {
        const r = result[name];
        return [name, r.maxError.toExponential(2), r.lsbs.toFixed(2), num(r.at), r.monotonic ? "yes" : "NO", String(r.points)];
      });
      console.log(renderTable(["function", "max |error|", "LSBs", "at x", "monotonic", "points"], rows));
      console.log("softmax (exp): the first of softmax(x, 0), which is σ(x), against Math; no table parameters apply");
    });

  cli
    .command("train")
    .description("train SPEC on a data set: the fixed-point module and the float64 reference side by side")
    .argument("<spec>", "the model's JSON spec")
    .option("--data <file>", "training rows: CSV or JSON (layout below)")
    .option("--dataset <name>", `a built-in data set instead: ${DATASETS.join(", ")}`, parseDatasetName)
    .option("--samples <n>", `with --dataset mnist: how many digits (default: ${DEFAULT_MNIST_SAMPLES})`, parseCount(1, MNIST_AVAILABLE))
    .option("--epochs <n>", "passes over the training rows", parseCount(1, 1_000_000), 10)
    .option("--seed <s>", "seeds the held-out split and each epoch's shuffle", parseCount(0, 2 ** 32 - 1), 1)
    .option("--learning-rate <rate>", "the SGD learning rate, instead of the spec's", parsePositive)
    .option("--holdout <fraction>", "fraction of the rows held out for accuracy", parseFraction, 0.2)
    .option("--batch <n>", "rows per SGD step (1: per-sample SGD)", parseCount(1, 65536), 1)
    .option("--out <file>", "write the trained spec (the module's weights in place of init)")
    .option("--curve <file>", "write the per-epoch loss curves as SVG")
    .addHelpText("after", TRAIN_HELP)
    .action(runTrain);

  return cli;
}

/** One line for the errors a user can cause; anything else is a bug and keeps its stack. */
function userMessage(error: unknown): string | undefined {
  if (error instanceof SpecError || error instanceof QRangeError || error instanceof UsageError || error instanceof ArtifactError) {
    return error.message.split("\n")[0];
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    const message = userMessage(error);
    if (message !== undefined) {
      console.error(`qfirm: ${message}`);
      return 2;
    }
    console.error(`qfirm: internal error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)} (QFIRM_DEBUG=1 for the stack)`);
    if (process.env.QFIRM_DEBUG) console.error(error);
    return EXIT_INTERNAL;
  }
}
