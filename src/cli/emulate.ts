// qfirm emulate: the module and the C host library on an emulated Cortex-M
// (arm-none-eabi-gcc, qemu-system-arm), training on the spec's sample.

import { InvalidArgumentError, type Command } from "commander";
import { BoardRunError, BOARDS, DEFAULT_BOARD, DEFAULT_STEPS, emulate, EMULATE_RUNTIMES, type EmulateResult, type EmulateRuntime } from "../mcu/emulate.js";
import { fromQ } from "../spec/format.js";
import { loadSpec, parseCount, UsageError } from "./usage.js";

function parseBoard(value: string): string {
  if (!(value in BOARDS)) throw new InvalidArgumentError(`"${value}" is not one of ${Object.keys(BOARDS).join(", ")}`);
  return value;
}

function parseRuntime(value: string): EmulateRuntime {
  if (!(EMULATE_RUNTIMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${EMULATE_RUNTIMES.join(", ")}`);
  return value as EmulateRuntime;
}

const thousands = (n: number) => n.toLocaleString("en-US");

export function renderEmulation(r: EmulateResult, fracBits: number): string {
  const board = BOARDS[r.board];
  const format = `q${32 - fracBits}.${fracBits}`;
  const lines = [
    r.entry === "forward"
      ? `${r.model} on ${r.board} (${board.description}) under QEMU, ${r.runtime}: ${r.steps} forward calls on the spec's sample input (an inference-only module)`
      : `${r.model} on ${r.board} (${board.description}) under QEMU, ${r.runtime}: ${r.steps} train_step calls on the spec's sample`,
  ];
  if (r.entry === "train_step") {
    lines.push(`losses (the raw i32 train_step returned; ${format}), ${fromQ(r.losses[0], fracBits).toPrecision(6)} → ${fromQ(r.losses[r.losses.length - 1], fracBits).toPrecision(6)}:`);
    for (let k = 0; k < r.losses.length; k += 10) {
      const last = Math.min(k + 10, r.losses.length);
      lines.push(`  steps ${k + 1}-${last}: ${r.losses.slice(k, last).join(" ")}`);
    }
  } else {
    lines.push(`output (raw i32; ${format}): ${r.output.join(" ")}`);
  }
  lines.push(
    `flash: ${thousands(r.flash)} bytes (text + data: the runtime, the host library, the module's ${thousands(r.moduleBytes)} bytes)`,
    `RAM: ${thousands(r.ram.static)} bytes static (data + bss), heap peak ${thousands(r.ram.heapPeak)} (linear memory ${thousands(r.linearMemory)} of it), stack peak ${thousands(r.ram.stackPeak)}`,
    `instructions per ${r.entry}: ${thousands(r.instructionsPerStep)}` +
      (r.steps > 1
        ? ` (mean of steps 2-${r.steps}; step 1${r.runtime === "wasm3" ? ", which also compiles what it calls" : ""}: ${thousands(r.instructionsFirstStep)})`
        : "") +
      "; instructions counted with QEMU -icount, not cycles",
  );
  return lines.join("\n");
}

export function registerEmulate(cli: Command): void {
  cli
    .command("emulate")
    .description("build SPEC with the C host library for an emulated Cortex-M and train on its sample under QEMU (forward only for an inference-only spec)")
    .argument("<spec>", "the model's JSON spec (with a sample)")
    .option("--runtime <runtime>", `the WebAssembly runtime: ${EMULATE_RUNTIMES.join(", ")} (WAMR's fast interpreter)`, parseRuntime, "wasm3")
    .option("--board <board>", `the board: ${Object.keys(BOARDS).join(", ")}`, parseBoard, DEFAULT_BOARD)
    .option("--steps <n>", "train_step calls (forward calls for an inference-only spec)", parseCount(1, 100_000), DEFAULT_STEPS)
    .option("--json", "print one JSON object")
    .action(async (specPath: string, options: { runtime: EmulateRuntime; board: string; steps: number; json?: boolean }) => {
      const model = await loadSpec(specPath);
      if (!model.sample) {
        throw new UsageError(`${specPath}: the spec has no "sample"; qfirm emulate ${model.training === "none" ? "runs forward on its input" : "trains on it"}`);
      }
      let result: EmulateResult;
      try {
        result = await emulate(model, { board: options.board, runtime: options.runtime, steps: options.steps });
      } catch (error) {
        if (!(error instanceof BoardRunError)) throw error;
        console.error(`qfirm: ${error.message}`);
        process.exitCode = 1;
        return;
      }
      console.log(options.json ? JSON.stringify(result, null, 2) : renderEmulation(result, model.format.fracBits));
    });
}
