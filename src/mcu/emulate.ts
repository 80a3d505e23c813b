// qfirm emulate: the module and the C host library built into firmware for an
// emulated Cortex-M board with arm-none-eabi-gcc, run under qemu-system-arm with
// semihosting, training on the spec's sample (an inference-only module runs forward
// on its input instead). Reports every loss, the output, flash and RAM, and the
// instructions each call takes: QEMU's -icount shift=0 advances the virtual clock
// 1 ns per instruction, and SysTick counts that clock.

import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildModel } from "../build/build.js";
import { ROOT } from "../build/compile.js";
import { renderHeader, cName } from "../build/header.js";
import type { Manifest } from "../build/manifest.js";
import type { Model } from "../spec/model.js";
import { exec, execOk, ToolchainError } from "./exec.js";
import { hostFiles, hostSourceName } from "./host.js";
import { requireTool, runtimeSource, wamrBoardLibrary, wasm3Library, type RuntimeLibrary } from "./runtimes.js";

export interface Board {
  /** QEMU's -M machine. */
  machine: string;
  cpu: "cortex-m3" | "cortex-m4";
  description: string;
  flash: { origin: number; bytes: number };
  ram: { origin: number; bytes: number };
  /** Reserved at the top of RAM; the heap may grow up to it. */
  stackBytes: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** Memory maps as QEMU 7.2 models them (the MPS2 FPGA images' SSRAM; the LM3S6965's flash and SRAM). */
export const BOARDS: Record<string, Board> = {
  "mps2-an386": {
    machine: "mps2-an386", cpu: "cortex-m4", description: "ARM MPS2 AN386, Cortex-M4",
    flash: { origin: 0x0, bytes: 4 * MIB }, ram: { origin: 0x2000_0000, bytes: 4 * MIB }, stackBytes: 16 * KIB,
  },
  "mps2-an385": {
    machine: "mps2-an385", cpu: "cortex-m3", description: "ARM MPS2 AN385, Cortex-M3",
    flash: { origin: 0x0, bytes: 4 * MIB }, ram: { origin: 0x2000_0000, bytes: 4 * MIB }, stackBytes: 16 * KIB,
  },
  lm3s6965evb: {
    machine: "lm3s6965evb", cpu: "cortex-m3", description: "TI Stellaris LM3S6965, Cortex-M3, 256 KiB flash, 64 KiB RAM",
    flash: { origin: 0x0, bytes: 256 * KIB }, ram: { origin: 0x2000_0000, bytes: 64 * KIB }, stackBytes: 6 * KIB,
  },
};
export const DEFAULT_BOARD = "mps2-an386";
export const EMULATE_RUNTIMES = ["wasm3", "wamr"] as const;
export type EmulateRuntime = (typeof EMULATE_RUNTIMES)[number];
export const DEFAULT_STEPS = 50;

/** The flags of every object on the board: size-optimised Thumb code, unused sections dropped at link. */
export function boardFlags(board: Board): string[] {
  return [`-mcpu=${board.cpu}`, "-mthumb", "-mfloat-abi=soft", "-Os", "-ffunction-sections", "-fdata-sections"];
}

/**
 * wasm3 as its upstream builds it for microcontrollers (m3_config_platforms.h's
 * Arduino/PlatformIO defaults: 1 KiB code pages, 128-slot function frames, short
 * error messages), without floating point: a qfirm module has none.
 */
export const WASM3_BOARD_DEFINES = [
  "-Dd_m3HasFloat=0", "-Dd_m3CodePageAlignSize=1024", "-Dd_m3MaxFunctionStackHeight=128",
  "-Dd_m3VerboseErrorMessages=0", "-Dd_m3MaxConstantTableSize=64", "-Dd_m3CascadedOpcodes=0", "-Dd_m3MaxNativeStack=0",
  "-fomit-frame-pointer",
];

/** The wasm value stack the host library gives the runtime (bytes). */
const RUNTIME_STACK_BYTES = 2048;

/** The run failed on the board (it did not fit, trapped, or ran out of memory): exit 1. */
export class BoardRunError extends Error {
  override name = "BoardRunError";
}

export interface EmulateOptions {
  board?: string;
  runtime?: EmulateRuntime;
  steps?: number;
}

export interface EmulateResult {
  model: string;
  board: string;
  cpu: string;
  runtime: EmulateRuntime;
  /** What each step calls: train_step, or forward in an inference-only module. */
  entry: "train_step" | "forward";
  steps: number;
  /** The raw i32 train_step returned each step (the loss before the update, in the model's format); empty for forward. */
  losses: number[];
  /** forward only: the raw i32 output of the last call (a training run reports its losses instead). */
  output: number[];
  /** Bytes of flash: text (code, read-only data, the module's bytes) + data (its initial values). */
  flash: number;
  ram: {
    /** data + bss. */
    static: number;
    /** The most malloc held: the runtime's allocations, linear memory included. */
    heapPeak: number;
    /** The deepest the stack went (painted at reset). */
    stackPeak: number;
  };
  /** Linear memory the runtime gave the module. */
  linearMemory: number;
  /** The module's bytes, part of flash. */
  moduleBytes: number;
  /** Per call of the entry, mean over steps 2..N (step 1 also compiles what it calls, in wasm3): instructions, not cycles. */
  instructionsPerStep: number;
  instructionsFirstStep: number;
  stepInstructions: number[];
  /** Instructions per SysTick tick, measured on a loop of known length (40 at the MPS2's 25 MHz). */
  instructionsPerTick: number;
}

const BOARD_DIR = join(ROOT, "src", "mcu", "board");

function linkerScript(text: string, board: Board): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return text
    .replace("@FLASH_ORIGIN@", hex(board.flash.origin))
    .replace("@FLASH_LENGTH@", hex(board.flash.bytes))
    .replace("@RAM_ORIGIN@", hex(board.ram.origin))
    .replace("@RAM_LENGTH@", hex(board.ram.bytes))
    .replace("@STACK_BYTES@", hex(board.stackBytes));
}

function runHeader(manifest: Manifest, steps: number): string {
  const lower = cName(manifest.name).toLowerCase();
  return `/* Generated by qfirm emulate. */
#include "model.h"
#define RUN_WASM ${lower}_wasm
#define RUN_WASM_LEN ${lower}_wasm_len
#define RUN_INPUTS ${manifest.inputs}u
#define RUN_OUTPUTS ${manifest.outputs}u
#define RUN_PARAM_COUNT ${manifest.paramCount}u
#define RUN_TRAINABLE_PARAM_COUNT ${manifest.trainableParamCount}u
${manifest.training === "none" ? "#define RUN_FORWARD_ONLY 1\n" : ""}#define RUN_FRAC_BITS ${manifest.format.fracBits}
#define RUN_STACK_BYTES ${RUNTIME_STACK_BYTES}u
#define RUN_STEPS ${steps}u
`;
}

/** The toolchain, or a ToolchainError naming the Debian package that is missing. */
async function boardToolchain(board: Board): Promise<{ gcc: string; ar: string; size: string; qemu: string }> {
  const gcc = requireTool("arm-none-eabi-gcc", "gcc-arm-none-eabi");
  const ar = requireTool("arm-none-eabi-ar", "binutils-arm-none-eabi");
  const size = requireTool("arm-none-eabi-size", "binutils-arm-none-eabi");
  const qemu = requireTool("qemu-system-arm", "qemu-system-arm");
  const rdimon = await exec(gcc, [...boardFlags(board), "-print-file-name=librdimon.a"]);
  if (!rdimon.stdout.trim().includes("/")) {
    throw new ToolchainError("newlib for arm-none-eabi not found: install Debian's libnewlib-arm-none-eabi (apt-get install libnewlib-arm-none-eabi)");
  }
  return { gcc, ar, size, qemu };
}

/** Builds the firmware and runs it under QEMU. */
export async function emulate(model: Model, options: EmulateOptions = {}): Promise<EmulateResult> {
  const boardName = options.board ?? DEFAULT_BOARD;
  const board = BOARDS[boardName];
  if (!board) throw new ToolchainError(`board "${boardName}" is not one of ${Object.keys(BOARDS).join(", ")}`);
  const runtime = options.runtime ?? "wasm3";
  const steps = options.steps ?? DEFAULT_STEPS;
  runtimeSource(runtime);
  const tools = await boardToolchain(board);
  const built = await buildModel(model, "mcu");
  // WAMR's fast interpreter (its default); it links libm for the float opcodes it implements.
  const library: RuntimeLibrary =
    runtime === "wasm3"
      ? await wasm3Library(tools.gcc, tools.ar, [...boardFlags(board), ...WASM3_BOARD_DEFINES])
      : await wamrBoardLibrary(tools.gcc, boardFlags(board), true);
  const defines = runtime === "wasm3" ? WASM3_BOARD_DEFINES : ["-DRUN_WAMR"];

  const dir = await mkdtemp(join(tmpdir(), "qfirm-emulate-"));
  try {
    const host = hostFiles(runtime);
    const files: Record<string, string> = {
      "model.h": renderHeader(built.manifest, built.wasm),
      "run.h": runHeader(built.manifest, steps),
      "link.ld": linkerScript(await readFile(join(BOARD_DIR, "link.ld"), "utf8"), board),
      ...host,
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    for (const name of ["board.h", "startup.c", "run.c"]) await copyFile(join(BOARD_DIR, name), join(dir, name));
    const elf = join(dir, "firmware.elf");
    const link = await exec(tools.gcc, [
      ...boardFlags(board), ...defines, "-std=c99",
      "-I", dir, ...library.include.flatMap((i) => ["-I", i]),
      join(dir, "run.c"), join(dir, "startup.c"), join(dir, hostSourceName(runtime)), library.library, "-lm",
      "-T", join(dir, "link.ld"), "-nostartfiles", "--specs=nano.specs", "--specs=rdimon.specs",
      "-Wl,--gc-sections", "-Wl,--wrap=_sbrk", "-o", elf,
    ]);
    if (link.code !== 0) {
      const overflow = /region `(\w+)' overflowed by (\d+) bytes|do not fit in RAM/.exec(link.stderr);
      if (overflow) {
        const what = overflow[1] ? `${overflow[1] === "FLASH" ? "flash" : "RAM"} overflowed by ${overflow[2]} bytes` : "static data and the stack reserve exceed RAM";
        throw new BoardRunError(`${model.name} does not fit ${boardName} (${board.description}): ${what}`);
      }
      throw new Error(`arm-none-eabi-gcc failed:\n${link.stderr.trim().split("\n").slice(-10).join("\n")}`);
    }
    const [text, data, bss] = (await execOk(tools.size, ["-B", elf])).stdout.trim().split("\n")[1].trim().split(/\s+/).map(Number);
    const run = await exec(
      tools.qemu,
      ["-M", board.machine, "-nographic", "-monitor", "none", "-serial", "none",
        "-semihosting-config", "enable=on,target=native", "-icount", "shift=0", "-kernel", elf],
      { timeoutMs: 60_000 + steps * 2_000 },
    );
    const result = parseRun(run.stdout, steps);
    if ("error" in result) {
      throw new BoardRunError(`${model.name} on ${boardName}: ${result.error}${run.code === -1 ? " (timed out)" : ""}`);
    }
    const forwardOnly = built.manifest.training === "none";
    return {
      model: model.name,
      board: boardName,
      cpu: board.cpu,
      runtime,
      entry: forwardOnly ? "forward" : "train_step",
      steps,
      losses: forwardOnly ? [] : result.losses,
      output: result.output,
      flash: text + data,
      ram: { static: data + bss, heapPeak: result.heapPeak, stackPeak: result.stackPeak },
      linearMemory: result.linearMemory,
      moduleBytes: built.wasm.length,
      instructionsPerStep: result.instructionsPerStep,
      instructionsFirstStep: result.stepInstructions[0],
      stepInstructions: result.stepInstructions,
      instructionsPerTick: result.instructionsPerTick,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface ParsedRun {
  losses: number[];
  output: number[];
  stepInstructions: number[];
  instructionsPerTick: number;
  instructionsPerStep: number;
  heapPeak: number;
  stackPeak: number;
  linearMemory: number;
}

/** Reads the lines run.c prints; an error names the board's own message or the last line. */
export function parseRun(stdout: string, steps: number): ParsedRun | { error: string } {
  const lines = stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  const words = (name: string) => lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.split(" ").slice(1));
  const failure = lines.find((l) => l.startsWith("error "));
  if (failure) {
    const [, , ...message] = failure.split(" ");
    return { error: message.join(" ") };
  }
  if (!lines.includes("done")) return { error: `the program stopped early${lines.length ? ` after "${lines[lines.length - 1]}"` : " before printing anything"}` };
  const [calibration] = words("calibration");
  const [open] = words("open");
  const [memory] = words("memory");
  const stepLines = words("step");
  const [output] = words("output");
  if (!calibration || !open || !memory || stepLines.length !== steps) return { error: "unexpected output" };
  const perTick = Number(calibration[0]) / Number(calibration[1]);
  const stepInstructions = stepLines.map((s) => Math.round(Number(s[2]) * perTick));
  const later = stepInstructions.length > 1 ? stepInstructions.slice(1) : stepInstructions;
  return {
    losses: stepLines.map((s) => Number(s[1])),
    output: (output ?? []).map(Number),
    stepInstructions,
    instructionsPerTick: perTick,
    instructionsPerStep: Math.round(later.reduce((a, b) => a + b, 0) / later.length),
    heapPeak: Number(memory[0]),
    stackPeak: Number(memory[1]),
    linearMemory: Number(open[0]),
  };
}
