// The qfirm command line: one file per command beside this one. Exit codes: 0
// success, 1 a check failed, 2 bad usage or a bad spec (one line naming the field;
// no stack trace; nothing written), 3 an internal error (a bug in qfirm).

import { Command, CommanderError } from "commander";
import { ArtifactError } from "../build/artifacts.js";
import { ToolchainError } from "../mcu/exec.js";
import { QRangeError } from "../spec/format.js";
import { SpecError } from "../spec/spec.js";
import { registerBuild } from "./build.js";
import { registerCheck } from "./check.js";
import { registerEmulate } from "./emulate.js";
import { registerInspect } from "./inspect.js";
import { registerLutError } from "./lut_error.js";
import { registerTrain } from "./train.js";
import { UsageError } from "./usage.js";

export { EXAMPLE_SPEC } from "./check.js";

const EXIT_INTERNAL = 3;

export function program(): Command {
  const cli = new Command("qfirm")
    .description("Fixed-point WebAssembly firmware that runs and trains small neural networks")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`qfirm: ${text.replace(/^error: /, "").split("\n")[0]}\n`) });
  registerBuild(cli);
  registerInspect(cli);
  registerCheck(cli);
  registerLutError(cli);
  registerTrain(cli);
  registerEmulate(cli);
  return cli;
}

/** One line for the errors a user can cause; anything else is a bug and keeps its stack. */
function userMessage(error: unknown): string | undefined {
  if (error instanceof SpecError || error instanceof QRangeError || error instanceof UsageError || error instanceof ArtifactError ||
    error instanceof ToolchainError) {
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
