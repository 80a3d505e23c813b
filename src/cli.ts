// The qfirm command line. Exit codes: 0 success, 1 a check failed, 2 bad usage or
// a bad spec (one line naming the field; no stack trace; nothing written), 3 an
// internal error (a bug in qfirm).

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import binaryen from "binaryen";
import { ArtifactError, writeArtifacts } from "./artifacts.js";
import { buildModel } from "./build.js";
import { ROOT, TARGETS, type Target } from "./compile.js";
import { Firmware } from "./driver.js";
import { formatName, parseFormat, QRangeError } from "./format.js";
import { renderHeader } from "./header.js";
import { footprint, type Footprint } from "./inspect.js";
import { measureLut, measureSoftmax } from "./lut_error.js";
import { ABI_VERSION, type Manifest } from "./manifest.js";
import type { Model } from "./model.js";
import { NOTE_FIGURES } from "./notes.js";
import { allQuantities, compare, type ParityRow } from "./parity.js";
import { trace as referenceTrace } from "./reference/network.js";
import { DEFAULT_FORMAT, DEFAULT_LUT, parseSpec, parseSpecText, SpecError } from "./spec.js";
import { num, percent, printed, relative, renderTable } from "./table.js";

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
