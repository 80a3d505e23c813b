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
  training: Manifest["training"];
  trainableParamCount: number;
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
  const present = (buffer: string, offset: number | null, bytes: number) => (offset === null ? [] : [{ buffer, offset, bytes }]);
  const frozen = m.params.filter((t) => !t.trainable).length;
  const memory = [
    { buffer: "input", offset: m.buffers.input, bytes: 4 * m.inputs },
    ...present("target", m.buffers.target, 4 * m.outputs),
    { buffer: "params", offset: m.buffers.params, bytes: 4 * m.paramCount },
    ...present(`grads${frozen > 0 ? ` (${m.trainableParamCount} trainable params)` : ""}`, m.buffers.grads, 4 * m.trainableParamCount),
    ...(m.optimizer?.buffers ?? []).map((b) => ({ buffer: `optimizer ${b.name} (i64)`, offset: b.offset, bytes: b.bytes })),
    ...present("optimizer step counter", m.optimizer?.step?.offset ?? null, 4),
    ...m.scratch.map((s, l) => {
      const output = l === m.scratch.length - 1 ? " (output = a)" : "";
      return s.dA === null
        ? { buffer: `layer ${l} z, a${output}`, offset: s.z, bytes: 8 * units[l] }
        : { buffer: `layer ${l} z, a, ∂a, ∂z${output}`, offset: s.z, bytes: 16 * units[l] };
    }),
    ...(m.lut.offset !== null ? [{ buffer: "tanh table", offset: m.lut.offset, bytes: 4 * m.lut.entries }] : []),
    ...(m.expTable !== null ? [{ buffer: "exp table", offset: m.expTable.offset, bytes: 4 * m.expTable.entries }] : []),
    ...(m.batch !== null ? [{ buffer: `batch rows (${m.batch.capacity})`, offset: m.batch.offset, bytes: m.batch.capacity * m.batch.rowBytes }] : []),
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
    // Manifests written before training modes existed describe full training.
    training: m.training ?? "full",
    trainableParamCount: m.trainableParamCount ?? m.paramCount,
  };
}
