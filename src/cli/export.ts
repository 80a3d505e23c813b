// qfirm export: a spec's model (its weights as the module holds them) → TF.js Layers or ONNX.

import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { checkOutputs, writeArtifacts } from "../build/artifacts.js";
import { loadSpec } from "./usage.js";

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
spec's weights bit for bit. DIR is written whole; an earlier export there is replaced only with --force.`;

export function registerExport(cli: Command): void {
  cli
    .command("export")
    .description("write SPEC's model for TF.js or ONNX tools")
    .argument("<spec>", "the model's JSON spec")
    .requiredOption("--to <format>", `tfjs or onnx`, parseExportTarget)
    .requiredOption("--out <dir>", "the folder to write (made if missing; written whole or not at all)")
    .option("--force", "replace an earlier export in DIR")
    .addHelpText("after", EXPORT_HELP)
    .action(async (specPath: string, options: { to: ExportTarget; out: string; force?: boolean }) => {
      const model = await loadSpec(specPath);
      const names = options.to === "tfjs" ? ["model.json", "weights.bin"] : ["model.onnx"];
      const writing = { inputs: [specPath], force: options.force };
      checkOutputs([{ path: options.out, kind: "folder", option: "--out", owns: names }], writing);
      const exported = options.to === "tfjs" ? (await import("../export/tfjs.js")).exportTfjs(model) : await (await import("../export/onnx.js")).exportOnnx(model);
      for (const line of exported.lines) console.log(line);
      await writeArtifacts(options.out, exported.files, writing);
      const files = Object.keys(exported.files).map((name) => `${options.out}/${name}`);
      console.log(`wrote ${files.join(", ")}`);
    });
}
