// Model → module + manifest: codegen, compile, manifest; and the files a build writes.

import binaryen from "binaryen";
import { generateEntry } from "./codegen.js";
import { compileModule, type Target } from "./compile.js";
import { renderHeader } from "./header.js";
import { buildManifest, type Manifest } from "./manifest.js";
import type { Model } from "../spec/model.js";

export interface Built {
  wasm: Uint8Array<ArrayBuffer>;
  manifest: Manifest;
  /** The generated AssemblyScript entry. */
  source: string;
}

export async function buildModel(model: Model, target: Target = "mcu"): Promise<Built> {
  const entry = generateEntry(model, target);
  const wasm = await compileModule({
    source: entry.source,
    segments: entry.segments,
    memoryEnd: entry.layout.end,
    pages: entry.layout.pages,
    target,
  });
  return { wasm, manifest: buildManifest(model, entry.layout, wasm.length, target), source: entry.source };
}

/** The text form, from binaryen's printer. */
export function watOf(wasm: Uint8Array): string {
  const module = binaryen.readBinary(wasm);
  try {
    return module.emitText();
  } finally {
    module.dispose();
  }
}

/** What `qfirm build` writes, by name: model.wasm, model.json (the manifest), model.h, and with `wat` model.wat. */
export function artifactFiles(built: Built, options: { wat?: boolean } = {}): Record<string, string | Uint8Array> {
  return {
    "model.wasm": built.wasm,
    "model.json": JSON.stringify(built.manifest, null, 2) + "\n",
    "model.h": renderHeader(built.manifest, built.wasm),
    ...(options.wat ? { "model.wat": watOf(built.wasm) } : {}),
  };
}
