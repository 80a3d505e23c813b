// Where a module's bytes and memory go: section sizes from the binary, buffers from
// the manifest.

import { layerUnits, type Manifest } from "../build/manifest.js";

const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count"];

export interface Footprint {
  bytes: number;
  sections: { name: string; bytes: number }[];
  code: number;
  data: number;
  memory: { buffer: string; offset: number; bytes: number }[];
  memoryBytes: number;
  pages: number;
  paramCount: number;
}

function readLeb128(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return { value, next: at };
  }
}

export function sections(wasm: Uint8Array): { name: string; bytes: number }[] {
  const result: { name: string; bytes: number }[] = [];
  let at = 8; // magic and version
  while (at < wasm.length) {
    const id = wasm[at];
    const { value: size, next } = readLeb128(wasm, at + 1);
    result.push({ name: SECTION_NAMES[id] ?? `unknown ${id}`, bytes: next - at + size });
    at = next + size;
  }
  return result;
}

export function footprint(wasm: Uint8Array, manifest: Manifest): Footprint {
  const parts = sections(wasm);
  const sizeOf = (name: string) => parts.filter((s) => s.name === name).reduce((n, s) => n + s.bytes, 0);
  const m = manifest;
  const units = layerUnits(m);
  const memory = [
    { buffer: "input", offset: m.buffers.input, bytes: 4 * m.inputs },
    { buffer: "target", offset: m.buffers.target, bytes: 4 * m.outputs },
    { buffer: "params", offset: m.buffers.params, bytes: 4 * m.paramCount },
    { buffer: "grads", offset: m.buffers.grads, bytes: 4 * m.paramCount },
    ...m.scratch.map((s, l) => ({ buffer: `layer ${l} z, a, ∂a, ∂z${l === m.scratch.length - 1 ? " (output = a)" : ""}`, offset: s.z, bytes: 16 * units[l] })),
    ...(m.lut.offset !== null ? [{ buffer: "tanh table", offset: m.lut.offset, bytes: 4 * m.lut.entries }] : []),
  ];
  return {
    bytes: wasm.length,
    sections: parts,
    code: sizeOf("code"),
    data: sizeOf("data"),
    memory,
    memoryBytes: m.memory.bytesUsed,
    pages: m.memory.pages,
    paramCount: m.paramCount,
  };
}
