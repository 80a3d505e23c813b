// qfirm export: a spec's model (its weights as the module holds them) → TF.js Layers or ONNX.

import { existsSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { writeFilesAtomically } from "../train/train.js";
import { checkOutputFile } from "./output.js";
import { loadSpec, UsageError } from "./usage.js";

const TARGETS = ["tfjs", "onnx"] as const;
type ExportTarget = (typeof TARGETS)[number];

function parseExportTarget(value: string): ExportTarget {
  if (!(TARGETS as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${TARGETS.join(", ")}`);
  return value as ExportTarget;
}

const EXPORT_HELP = `
Writes DIR/model.json and DIR/weights.bin (tfjs: tf.loadLayersModel loads them) or
DIR/model.onnx (onnx, opset 13). Weights are float32, as those tools load them; the
exact Q values ride along in the file's metadata, so qfirm import gives back the
spec's weights bit for bit. Files already in DIR are replaced only with --force.`;

export function registerExport(cli: Command): void {
  cli
    .command("export")
    .description("write SPEC's model for TF.js or ONNX tools")
    .argument("<spec>", "the model's JSON spec")
    .requiredOption("--to <format>", `tfjs or onnx`, parseExportTarget)
    .requiredOption("--out <dir>", "the folder to write into (made if missing)")
    .option("--force", "replace files of an earlier export")
    .addHelpText("after", EXPORT_HELP)
    .action(async (specPath: string, options: { to: ExportTarget; out: string; force?: boolean }) => {
      const model = await loadSpec(specPath);
      if (existsSync(options.out) && !statSync(options.out).isDirectory()) throw new UsageError(`--out ${options.out}: is a file, not a folder`);
      const names = options.to === "tfjs" ? ["model.json", "weights.bin"] : ["model.onnx"];
      if (existsSync(options.out)) {
        for (const name of names) checkOutputFile(join(options.out, name), "--out", options.force === true, [specPath]);
      }
      const exported = options.to === "tfjs" ? (await import("../export/tfjs.js")).exportTfjs(model) : await (await import("../export/onnx.js")).exportOnnx(model);
      await mkdir(options.out, { recursive: true });
      const files = Object.fromEntries(Object.entries(exported.files).map(([name, contents]) => [join(options.out, name), contents]));
      for (const line of exported.lines) console.log(line);
      await writeFilesAtomically(files);
      console.log(`wrote ${Object.keys(files).join(", ")}`);
    });
}
