// qfirm build: spec → model.wasm, model.json, model.h (and model.wat).

import { InvalidArgumentError, type Command } from "commander";
import { checkOutputs, writeArtifacts, type Output } from "../build/artifacts.js";
import { artifactFiles, buildModel } from "../build/build.js";
import { TARGETS, type Target } from "../build/compile.js";
import { HOSTS, hostFiles, type Host } from "../mcu/host.js";
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

function parseHost(value: string): Host {
  if (!(HOSTS as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${HOSTS.join(", ")}`);
  return value as Host;
}

export function registerBuild(cli: Command): void {
  cli
    .command("build")
    .description("build SPEC into DIR/model.wasm, DIR/model.json and DIR/model.h")
    .argument("<spec>", "the model's JSON spec")
    .requiredOption("--out <dir>", "the output folder (written whole or not at all)")
    .option("--target <target>", `code restrictions: ${TARGETS.join(" (wasm3, WAMR), ")}`, parseTarget, "mcu")
    .option("--wat", "also write DIR/model.wat, the text form")
    .option("--host <runtime>", `also write the C host library for a runtime: ${HOSTS.join(", ")} (qfirm.h, qfirm_<runtime>.c)`, parseHost)
    .option("--inference-only", 'forward and predict_samples only, as "training": "none" (the spec\'s training fields are ignored)')
    .option("--force", "replace an earlier build in DIR")
    .action(async (specPath: string, options: { out: string; target: Target; wat?: boolean; host?: Host; inferenceOnly?: boolean; force?: boolean }) => {
      const spec = await loadSpec(specPath);
      const model = options.inferenceOnly ? inferenceOnly(spec) : spec;
      const out: Output = { path: options.out, kind: "folder", option: "--out" };
      const writing = { inputs: [specPath], force: options.force };
      checkOutputs([out], writing);
      const built = await buildModel(model, options.target);
      const files = { ...artifactFiles(built, { wat: options.wat }), ...(options.host ? hostFiles(options.host) : {}) };
      await writeArtifacts(options.out, files, writing);
      console.log(`wrote ${Object.keys(files).map((name, k) => (k === 0 ? `${options.out}/${name}` : name)).join(", ")}`);
      printFootprint(footprint(built.wasm, built.manifest), false);
    });
}
