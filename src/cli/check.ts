// qfirm check and qfirm example: one sample through the module and the float64
// reference, every quantity side by side.

import { join } from "node:path";
import type { Command } from "commander";
import { buildModel } from "../build/build.js";
import { ROOT } from "../build/compile.js";
import { NOTE_FIGURES } from "../check/notes.js";
import { allQuantities, compare, type ParityRow } from "../check/parity.js";
import { trace as referenceTrace } from "../reference/network.js";
import { Firmware } from "../run/driver.js";
import { formatName } from "../spec/format.js";
import { lowestTrainable, type Model } from "../spec/model.js";
import { num, percent, printed, relative, renderTable } from "./table.js";
import { loadSpec, parseNumbers, UsageError } from "./usage.js";

export const EXAMPLE_SPEC = join(ROOT, "examples", "documented-example.json");

interface ParityReport {
  name: string;
  rows: (ParityRow & { notes?: string })[];
  /** null when the module computes no gradient (training "lean" or "none"). */
  worstGradient: ParityRow | null;
  ok: boolean;
}

function plural(n: number, one: string): string {
  return n === 1 ? one : `${one}s`;
}

function worstOf(rows: ParityRow[]): ParityRow | null {
  const gradients = rows.filter((r) => r.kind === "gradient");
  return gradients.reduce<ParityRow | null>((worst, r) => (worst === null || r.relError > worst.relError ? r : worst), null);
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
  const frozen = model.layers.flatMap((layer, l) => (layer.trainable === false ? [l] : []));
  const formats =
    model.training === "none" ? `${formatName(model.format)} values` : `${formatName(model.format)} values, ${formatName(model.gradFormat)} gradients`;
  const scope =
    model.training === "none"
      ? "inference only: the forward pass"
      : model.training === "lean"
        ? "training lean, no grads buffer: the forward pass and the loss"
        : frozen.length > 0
          ? `frozen ${plural(frozen.length, "layer")} ${frozen.join(", ")}: no gradients for ${frozen.length > 1 ? "them" : "it"}; backward stops at layer ${lowestTrainable(model)}`
          : "";
  console.log(`${report.name}: ${formats}${scope ? `; ${scope}` : ""}`);
  console.log(renderTable(header, rows));
  const w = report.worstGradient;
  if (w) console.log(`worst gradient error: ${percent(w.relError)} (${w.label}, ${w.lsbError.toFixed(1)} LSBs)`);
  console.log(report.ok ? "parity: ok" : "parity: FAILED");
}

export function registerCheck(cli: Command): void {
  cli
    .command("check")
    .description("run the module against the float64 reference on the spec's sample (or --input/--target)")
    .argument("<spec>", "the model's JSON spec")
    .option("--input <numbers>", "comma-separated input values", parseNumbers)
    .option("--target <numbers>", "comma-separated target values", parseNumbers)
    .option("--json", "print the report as JSON")
    .action(async (specPath: string, options: { input?: number[]; target?: number[]; json?: boolean }) => {
      const model = await loadSpec(specPath);
      const outputs = model.layers[model.layers.length - 1].units;
      const input = options.input ?? model.sample?.input;
      // An inference-only module has no target; the reference's trace still takes one.
      const target = options.target ?? model.sample?.target ?? (model.training === "none" ? new Array<number>(outputs).fill(0) : undefined);
      if (!input || !target) throw new UsageError(`${specPath}: no sample in the spec; give --input and --target`);
      if (input.length !== model.inputs) throw new UsageError(`--input: has ${input.length} values; the model has ${model.inputs} inputs`);
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
}
