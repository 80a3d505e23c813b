// qfirm import: a trained model file (TF.js, Keras, ONNX, TFLite) → a spec.

import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { parseFormat } from "../spec/format.js";
import { ImportError } from "../import/steps.js";
import { checkOutputs, writeFiles } from "../build/artifacts.js";
import { renderSpec } from "../train/train.js";
import { UsageError } from "./usage.js";

const IMPORT_HELP = `
Reads: TF.js Layers model.json (model.save() or the converter's layout; weight files
beside it), Keras 3 .keras, Keras 2 .h5, a Keras architecture .json with --weights
FILE.h5, ONNX (Gemm, MatMul + Add, Sigmoid, Tanh, Relu, Softmax), TFLite (float or
int8, dequantized). Dropout, Flatten and InputLayer are skipped; activation layers
and BatchNormalization are folded into the dense layer before them. Every choice
(loss, learning rate, what was folded or dropped) is printed.`;

function parseFormatOption(value: string): string {
  const format = parseFormat(value);
  if (typeof format === "string") throw new InvalidArgumentError(format);
  return value;
}

interface ImportOptions {
  out: string;
  weights?: string;
  name?: string;
  format?: string;
  force?: boolean;
}

export function registerImport(cli: Command): void {
  cli
    .command("import")
    .description("write a spec with the weights of a model trained in TF.js, Keras, PyTorch (ONNX) or TFLite")
    .argument("<model>", "the model file")
    .requiredOption("--out <spec>", "the spec to write")
    .option("--weights <file>", "the weights .h5 of a Keras architecture .json")
    .option("--name <name>", "the spec's name (default: the model's)")
    .option("--format <qI.F>", "the spec's Q format (default q8.24)", parseFormatOption)
    .option("--force", "replace --out if it exists")
    .addHelpText("after", IMPORT_HELP)
    .action(async (modelPath: string, options: ImportOptions) => {
      const writing = { inputs: [modelPath, ...(options.weights ? [options.weights] : [])], force: options.force };
      checkOutputs([{ path: options.out, kind: "file", option: "--out" }], writing);
      const { importModel } = await import("../import/import.js");
      let imported;
      try {
        imported = await importModel(modelPath, options);
      } catch (error) {
        if (error instanceof ImportError) throw new UsageError(error.message);
        throw error;
      }
      for (const line of imported.lines) console.log(line);
      await writeFiles({ [options.out]: renderSpec(imported.spec) }, writing);
      const spec = imported.spec as { inputs: number; layers: { units: number }[]; format: string; weights: { weight: number[][]; bias: number[] }[] };
      const params = spec.weights.reduce((n, w) => n + w.weight.length * w.bias.length + w.bias.length, 0);
      console.log(`wrote ${options.out}: ${[spec.inputs, ...spec.layers.map((l) => l.units)].join("-")}, ${spec.format}, ${params} params`);
    });
}
