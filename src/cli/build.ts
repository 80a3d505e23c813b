// qfirm build: spec → model.wasm, model.json, model.h (and model.wat).

import type { Command } from "commander";
import binaryen from "binaryen";
import { writeArtifacts } from "../build/artifacts.js";
import { buildModel } from "../build/build.js";
import { TARGETS, type Target } from "../build/compile.js";
import { renderHeader } from "../build/header.js";
import { footprint, type Footprint } from "../run/inspect.js";
import { inferenceOnly } from "../spec/model.js";
import { renderTable } from "./table.js";
import { loadSpec, parseTarget } from "./usage.js";

export function printFootprint(f: Footprint, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(f, null, 2));
    return;
  }
  const other = f.bytes - f.code - f.data;
  const trained = f.training === "none" ? "inference only" : `training ${f.training}, ${f.trainableParamCount} trainable`;
  console.log(`module: ${f.bytes} bytes (code ${f.code}, data ${f.data}, other ${other}); ${f.paramCount} params (${trained})`);
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

export function registerBuild(cli: Command): void {
  cli
    .command("build")
    .description("build SPEC into DIR/model.wasm, DIR/model.json and DIR/model.h")
    .argument("<spec>", "the model's JSON spec")
    .requiredOption("--out <dir>", "the output folder (written whole or not at all)")
    .option("--target <target>", `code restrictions: ${TARGETS.join(" (wasm3, WAMR), ")}`, parseTarget, "mcu")
    .option("--wat", "also write DIR/model.wat, the text form")
    .option("--inference-only", 'forward and predict_samples only, as "training": "none" (the spec\'s training fields are ignored)')
    .action(async (specPath: string, options: { out: string; target: Target; wat?: boolean; inferenceOnly?: boolean }) => {
      const spec = await loadSpec(specPath);
      const model = options.inferenceOnly ? inferenceOnly(spec) : spec;
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
}
