// AssemblyScript entry → WebAssembly: asc's in-process API with the options in
// asconfig.json, then binaryen places the data segments, optimizes, validates and
// checks what microcontroller runtimes need: no import, no float instruction.

import { createHash } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import binaryen from "binaryen";
import type { DataSegment } from "./codegen.js";

/** The package folder (holding asconfig.json and assembly/), from src/ or dist/src/. */
export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
const ENTRY = "assembly/__model__.ts";

export const TARGETS = ["mcu", "web"] as const;
export type Target = (typeof TARGETS)[number];

/** Features each target may use: wasm3 and WAMR run MVP plus these; browsers and Node also 128-bit SIMD. */
const TARGET_FEATURES: Record<Target, number> = {
  mcu: binaryen.Features.MVP | binaryen.Features.MutableGlobals | binaryen.Features.SignExt,
  web:
    binaryen.Features.MVP | binaryen.Features.MutableGlobals | binaryen.Features.SignExt | binaryen.Features.BulkMemory |
    binaryen.Features.SIMD128,
};

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "asconfig.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`asconfig.json not found above ${from}`);
  }
}

/**
 * asc only translates (asconfig.json: optimizeLevel 0); binaryen optimizes once, for
 * size on microcontrollers (flash is scarce) and for speed on the web.
 */
const TARGET_OPTIMIZE: Record<Target, { optimize: number; shrink: number }> = {
  mcu: { optimize: 3, shrink: 2 },
  web: { optimize: 3, shrink: 0 },
};

export class CompileError extends Error {
  override name = "CompileError";
}

export interface CompileInput {
  source: string;
  segments: DataSegment[];
  /** Where the generator's buffers end: AssemblyScript's own data goes after. */
  memoryEnd: number;
  pages: number;
  target?: Target;
}

export async function compileModule(input: CompileInput): Promise<Uint8Array<ArrayBuffer>> {
  const target = input.target ?? "mcu";
  const outputs = new Map<string, Uint8Array>();
  const { error, stderr } = await asc.main(
    [
      ENTRY,
      "--baseDir", ROOT,
      "--config", "asconfig.json",
      "--target", target,
      "--outFile", "model.wasm",
      "--memoryBase", String(input.memoryEnd),
      "--initialMemory", String(input.pages),
    ],
    {
      readFile: async (name, baseDir) => {
        const path = resolve(baseDir, name);
        if (path === join(ROOT, ENTRY)) return input.source;
        return readFile(path, "utf8").catch(() => null);
      },
      writeFile: (name, contents) => {
        outputs.set(name, typeof contents === "string" ? new TextEncoder().encode(contents) : contents);
      },
      listFiles: () => [],
    },
  );
  if (error) throw new CompileError(`asc: ${error.message}\n${stderr.toString()}`);
  const bytes = outputs.get("model.wasm");
  if (!bytes) throw new CompileError("asc wrote no module");
  return finish(bytes, input, target);
}

function finish(bytes: Uint8Array, input: CompileInput, target: Target): Uint8Array<ArrayBuffer> {
  const module = binaryen.readBinary(bytes);
  try {
    module.setFeatures(TARGET_FEATURES[target]);
    const segments = input.segments.map(({ offset, words }) => ({
      offset: module.i32.const(offset),
      data: new Uint8Array(words.buffer, words.byteOffset, words.byteLength),
      passive: false,
    }));
    // The module never grows its memory, so the maximum is the initial size.
    module.setMemory(input.pages, input.pages, null, segments, false, false, "0");
    binaryen.setOptimizeLevel(TARGET_OPTIMIZE[target].optimize);
    binaryen.setShrinkLevel(TARGET_OPTIMIZE[target].shrink);
    // A function with one caller is inlined there up to 300 expressions (asc leaves 80):
    // a wasm3 call costs a Cortex-M ~150 instructions, and the documented example then
    // fits in 4 KiB. Unlimited, train_samples's frame outgrew WAMR classic's 2 KiB
    // operand stack (test/host.test.ts).
    binaryen.setOneCallerInlineMaxSize(300);
    module.optimize();
    exportMemoryEnd(module, input.memoryEnd);
    if (!module.validate()) throw new CompileError("binaryen: the module does not validate");
    checkStandalone(module);
    const wasm = new Uint8Array(module.emitBinary());
    record(wasm);
    return wasm;
  } finally {
    module.dispose();
  }
}

/**
 * Exports immutable i32 globals `__data_end` and `__heap_base`, both the end of what
 * the module uses (no heap: nothing allocates), which is how WAMR learns it may trim
 * linear memory from 64 KiB to that size; a C host reads `__heap_base` to cap wasm3's.
 *
 * Seeing those two exports, WAMR also takes the first mutable i32 global whose value
 * is at most `__heap_base` for a C stack pointer and bounds-checks every write to it:
 * it would take the learning rate for one and trap on a larger rate. A never-written
 * mutable global holding 0, placed first, is what WAMR takes instead (a stack of size
 * 0, never checked).
 */
function exportMemoryEnd(module: binaryen.Module, end: number): void {
  const globals = Array.from({ length: module.getNumGlobals() }, (_, i) => {
    const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    return { ...info, init: module.copyExpression(info.init) };
  });
  for (const g of globals) module.removeGlobal(g.name);
  module.addGlobal("__stack_pointer", binaryen.i32, true, module.i32.const(0));
  for (const g of globals) module.addGlobal(g.name, g.type, g.mutable, g.init);
  for (const name of ["__data_end", "__heap_base"]) {
    module.addGlobal(name, binaryen.i32, false, module.i32.const(end));
    module.addGlobalExport(name, name);
  }
}

/**
 * QFIRM_RECORD_MODULES names a folder that receives a copy of every module compiled,
 * named by its hash: the test suite audits them all with an independent disassembler.
 */
function record(wasm: Uint8Array): void {
  const dir = process.env.QFIRM_RECORD_MODULES;
  if (!dir) return;
  const name = createHash("sha256").update(wasm).digest("hex").slice(0, 16);
  writeFileSync(join(dir, `${name}.wasm`), wasm);
}

/**
 * A float instruction in the text form: scalar (f32.add), SIMD on float lanes
 * (f32x4.mul, f64x2.splat) and conversions to or from them (i32x4.trunc_sat_f32x4_s).
 */
export const FLOAT_INSTRUCTION = /\bf(32|64)\.[a-z_0-9]+|\b[a-z0-9_.]*f(32x4|64x2)[a-z0-9_.]*/;

/** No import (no host access at all) and no float instruction. */
function checkStandalone(module: binaryen.Module): void {
  const text = module.emitText();
  if (/\(import /.test(text)) throw new CompileError("the module imports from the host");
  const float = FLOAT_INSTRUCTION.exec(text);
  if (float) throw new CompileError(`the module contains a float instruction (${float[0]})`);
}
