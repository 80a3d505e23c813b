// The module in the interpreters that run WebAssembly on microcontrollers, on this
// machine: wasm3 and WAMR's fast and classic interpreters, built from QFIRM_RUNTIMES by
// src/mcu/runtimes.ts (and cached). Their command lines can only call exports, so the
// benchmark rows are baked into the module as data (the --target mcu module, the same
// code), and train_samples(n) is called through each runtime's REPL.
//
// A run feeds `calls` lines to the REPL; another feeds one. The difference in wall
// time, over calls − 1 calls, is the time per call without process start and module
// load (wasm3 and WAMR both load the whole module before the first line).

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateEntry } from "../src/build/codegen.js";
import { compileModule } from "../src/build/compile.js";
import { HOST_RUNTIMES, RUNTIMES_ENV, hostRuntime, type HostRuntimeName } from "../src/mcu/runtimes.js";
import { quantizeRows } from "../src/train/train.js";
import type { BenchModel } from "./models.js";

export interface Interpreter {
  name: HostRuntimeName;
  cli: string;
}

/** The interpreters QFIRM_RUNTIMES provides, built or found in the cache; or why there are none. */
export async function interpreters(): Promise<Interpreter[] | string> {
  if (!process.env[RUNTIMES_ENV]) return `${RUNTIMES_ENV} is not set (a folder with wasm3/ and wamr/ sources)`;
  const found: Interpreter[] = [];
  for (const name of HOST_RUNTIMES) found.push({ name, cli: (await hostRuntime(name)).cli });
  return found;
}

/** The generator and compiler a module is baked with: this checkout's, or another revision's (revisions.ts). */
export interface Generator {
  generateEntry: typeof generateEntry;
  compileModule: typeof compileModule;
}

/** The --target mcu module of the bench model with its rows already in the batch buffer; written to `dir`. */
export async function bakedModule(bench: BenchModel, dir: string, generator: Generator = { generateEntry, compileModule }): Promise<string> {
  const entry = generator.generateEntry(bench.model, "mcu");
  const wasm = await generator.compileModule({
    source: entry.source,
    segments: [...entry.segments, { offset: entry.layout.batch, words: quantizeRows(bench.data, bench.model) }],
    memoryEnd: entry.layout.end,
    pages: entry.layout.pages,
    target: "mcu",
  });
  const path = join(dir, `${bench.name}-baked.wasm`);
  writeFileSync(path, wasm);
  return path;
}

/** Rows per train_samples call in the interpreters: a call of MNIST rows takes a fraction of a second. */
export function rowsPerCall(bench: BenchModel): number {
  return bench.model.inputs > 100 ? 8 : 256;
}

function timed(run: () => void): number {
  const start = performance.now();
  run();
  return (performance.now() - start) / 1000;
}

/**
 * Samples per second of train_samples(rows) in the interpreter's REPL: the number of
 * calls grows fourfold until they take at least `seconds` beyond a run of one call.
 */
export function interpreterRate(interpreter: Interpreter, wasmPath: string, rows: number, seconds: number): number {
  const run = (calls: number) =>
    timed(() => execFileSync(interpreter.cli, ["--repl", wasmPath], { input: `train_samples ${rows}\n`.repeat(calls), stdio: ["pipe", "ignore", "ignore"] }));
  const one = Math.min(run(1), run(1));
  for (let calls = 4; ; calls *= 4) {
    const elapsed = run(calls) - one;
    if (elapsed >= seconds || calls >= MAX_CALLS) return ((calls - 1) * rows) / Math.max(elapsed, 1e-6);
  }
}

/** A bound on the REPL's input: a million lines. */
const MAX_CALLS = 1 << 20;
