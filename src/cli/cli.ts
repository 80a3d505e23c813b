// The qfirm command line: one file per command beside this one. Exit codes: 0
// success, 1 a check failed, 2 bad usage or a bad spec (one line naming the field;
// no stack trace; nothing written), 3 an internal error (a bug in qfirm).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { mendableError } from "../build/artifacts.js";
import { ROOT } from "../build/compile.js";
import { ToolchainError } from "../mcu/exec.js";
import { QRangeError } from "../spec/format.js";
import { SpecError } from "../spec/spec.js";
import { DatasetMissingError } from "../train/datasets.js";
import { PackageMissingError } from "../import/library.js";
import { registerBuild } from "./build.js";
import { registerCheck } from "./check.js";
import { registerEmulate } from "./emulate.js";
import { registerExport } from "./export.js";
import { registerImport } from "./import.js";
import { registerInspect } from "./inspect.js";
import { registerLutError } from "./lut_error.js";
import { registerPage } from "./page.js";
import { registerParams } from "./params.js";
import { registerTrain } from "./train.js";
import { UsageError } from "./usage.js";

export { EXAMPLE_SPEC } from "./check.js";

const EXIT_INTERNAL = 3;

/** The package's version, from its package.json. */
export function version(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

export function program(): Command {
  const cli = new Command("qfirm")
    .description("Fixed-point WebAssembly firmware that runs and trains small neural networks")
    .version(version(), "--version", "print qfirm's version")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`qfirm: ${text.replace(/^error: /, "").split("\n")[0]}\n`) });
  registerBuild(cli);
  registerInspect(cli);
  registerCheck(cli);
  registerLutError(cli);
  registerTrain(cli);
  registerPage(cli);
  registerImport(cli);
  registerExport(cli);
  registerParams(cli);
  registerEmulate(cli);
  return cli;
}

/** One line for the errors a user can cause (a file-system one included); anything else is a bug and keeps its stack. */
function userMessage(error: unknown): string | undefined {
  if (error instanceof SpecError || error instanceof QRangeError || error instanceof UsageError || error instanceof DatasetMissingError || error instanceof PackageMissingError ||
    error instanceof ToolchainError) {
    return error.message.split("\n")[0];
  }
  return mendableError(error)?.message.split("\n")[0];
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
