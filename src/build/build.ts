// Model → module + manifest: codegen, compile, manifest.

import { generateEntry } from "./codegen.js";
import { compileModule, type Target } from "./compile.js";
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
