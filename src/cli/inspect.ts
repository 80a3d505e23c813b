// qfirm inspect: where a built module's bytes and memory go.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { ABI_VERSION, type Manifest } from "../build/manifest.js";
import { footprint } from "../run/inspect.js";
import { printFootprint } from "./build.js";
import { UsageError } from "./usage.js";

export function registerInspect(cli: Command): void {
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
}
