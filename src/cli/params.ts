// qfirm params: a params buffer dumped from a device, with the module's manifest → a spec.

import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { ImportError } from "../import/steps.js";
import { checkOutputs, writeFiles } from "../build/artifacts.js";
import { renderSpec } from "../train/train.js";
import { readText, UsageError } from "./usage.js";

export function registerParams(cli: Command): void {
  cli
    .command("params")
    .description("write a spec holding the weights of a params buffer dumped from a device")
    .argument("<manifest>", "the module's model.json")
    .argument("<params>", "the raw bytes at params_ptr: one little-endian i32 per param")
    .requiredOption("--out <spec>", "the spec to write")
    .option("--force", "replace --out if it exists")
    .action(async (manifestPath: string, paramsPath: string, options: { out: string; force?: boolean }) => {
      const writing = { inputs: [manifestPath, paramsPath], force: options.force };
      checkOutputs([{ path: options.out, kind: "file", option: "--out" }], writing);
      const text = await readText(manifestPath);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(paramsPath);
      } catch (error) {
        throw new UsageError(`${paramsPath}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
      }
      const { specFromParams } = await import("../import/params.js");
      let result;
      try {
        result = specFromParams(text, manifestPath, bytes, paramsPath);
      } catch (error) {
        if (error instanceof ImportError) throw new UsageError(error.message);
        throw error;
      }
      for (const line of result.lines) console.log(line);
      await writeFiles({ [options.out]: renderSpec(result.spec) }, writing);
      console.log(`wrote ${options.out}`);
    });
}
