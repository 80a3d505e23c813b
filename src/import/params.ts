// `qfirm params`: a raw params buffer dumped from a device (the bytes at params_ptr,
// little-endian i32, as the host library reads them) and the module's manifest
// become a spec holding those weights. The manifest says everything else: shapes,
// activations, formats, loss, learning rate, table. Built again, the spec gives a
// module whose params are the dump, bit for bit.

import { fromQ } from "../spec/format.js";
import { parseSpec } from "../spec/spec.js";
import { ImportError, plural } from "./steps.js";

type Json = Record<string, unknown>;

interface ManifestTensor {
  layer: number;
  kind: string;
  shape: number[];
  offset: number;
  fracBits: number;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function field<T>(m: Json, path: string, ok: (v: unknown) => boolean, where: string): T {
  let value: unknown = m;
  for (const part of path.split(".")) value = isObject(value) ? value[part] : undefined;
  if (!ok(value)) throw new ImportError(`${where}: ${path} is missing or malformed; is this a qfirm model.json?`);
  return value as T;
}

const isInt = (v: unknown) => Number.isInteger(v);
const isString = (v: unknown) => typeof v === "string";

export function specFromParams(manifestText: string, manifestPath: string, bytes: Uint8Array, dumpPath: string): { spec: Json; lines: string[] } {
  let m: unknown;
  try {
    m = JSON.parse(manifestText.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ImportError(`${manifestPath}: not valid JSON (${(error as Error).message.split("\n")[0]})`);
  }
  if (!isObject(m)) throw new ImportError(`${manifestPath}: not a qfirm manifest (model.json)`);
  const where = manifestPath;
  const abi = field<number>(m, "abi", isInt, where);
  if (abi !== 1) throw new ImportError(`${where}: ABI version ${abi}; this qfirm reads version 1`);
  const name = field<string>(m, "name", isString, where);
  const format = field<string>(m, "format.name", isString, where);
  const fracBits = field<number>(m, "format.fracBits", isInt, where);
  const gradFormat = field<string>(m, "gradFormat.name", isString, where);
  const inputs = field<number>(m, "inputs", isInt, where);
  const base = field<number>(m, "buffers.params", isInt, where);
  const activations = field<string[]>(m, "activations", (v) => Array.isArray(v) && v.every(isString), where);
  const loss = field<Json>(m, "loss", (v) => isObject(v) && isString(v.type), where);
  const learningRate = field<number>(m, "learningRate.value", (v) => typeof v === "number", where);
  const lut = field<Json>(m, "lut", (v) => isObject(v) && isInt(v.entries) && typeof v.range === "number", where);
  const tensors = field<ManifestTensor[]>(
    m,
    "params",
    (v) =>
      Array.isArray(v) &&
      v.every((t) => isObject(t) && isInt(t.layer) && (t.kind === "weight" || t.kind === "bias") && Array.isArray(t.shape) && t.shape.every(isInt) && isInt(t.offset) && isInt(t.fracBits)),
    where,
  );
  if (tensors.length !== 2 * activations.length) {
    throw new ImportError(`${where}: ${plural(tensors.length, "param tensor")} for ${plural(activations.length, "layer")}; expected a weight and a bias each`);
  }
  const words = tensors.reduce((n, t) => n + t.shape.reduce((a, d) => a * d, 1), 0);
  if (bytes.length !== 4 * words) {
    throw new ImportError(`${dumpPath}: ${plural(bytes.length, "byte")}; the manifest's ${plural(words, "param")} take ${4 * words} bytes (little-endian i32 each, from params_ptr)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (t: ManifestTensor): number[] => {
    const count = t.shape.reduce((a, d) => a * d, 1);
    const start = t.offset - base;
    if (start < 0 || start % 4 !== 0 || start + 4 * count > bytes.length) {
      throw new ImportError(`${where}: layer ${t.layer} ${t.kind} at byte ${t.offset} lies outside the params buffer at ${base}`);
    }
    return Array.from({ length: count }, (_, k) => fromQ(view.getInt32(start + 4 * k, true), t.fracBits));
  };
  const lines: string[] = [];
  const offGrid = tensors.filter((t) => t.fracBits !== fracBits).length;
  if (offGrid > 0) lines.push(`${plural(offGrid, "tensor")} with fraction bits other than ${format}'s: their values are rounded to ${format}`);
  const weights = activations.map((_, l) => {
    const w = tensors[2 * l];
    const b = tensors[2 * l + 1];
    if (w.kind !== "weight" || b.kind !== "bias" || w.layer !== l || b.layer !== l || w.shape.length !== 2) {
      throw new ImportError(`${where}: params[${2 * l}] and params[${2 * l + 1}] are not layer ${l}'s weight and bias`);
    }
    const flat = read(w);
    const [rows, units] = w.shape;
    return { weight: Array.from({ length: rows }, (_, i) => flat.slice(i * units, (i + 1) * units)), bias: read(b) };
  });
  const batch = isObject(m.batch) && isInt(m.batch.capacity) ? { capacity: m.batch.capacity as number } : undefined;
  const spec: Json = {
    name,
    format,
    gradFormat,
    inputs,
    layers: activations.map((activation, l) => ({ units: tensors[2 * l].shape[1], activation })),
    loss: loss.type === "huber" ? { type: loss.type, delta: loss.delta } : { type: loss.type },
    optimizer: { type: "sgd", learningRate },
    lut: { entries: lut.entries, range: lut.range },
    ...(batch ? { batch } : {}),
    weights,
  };
  parseSpec(spec);
  const shape = [inputs, ...activations.map((_, l) => tensors[2 * l].shape[1])].join("-");
  lines.unshift(`read ${manifestPath} (${name}: ${shape}, ${format}) and ${dumpPath} (${plural(words, "param")}, ${bytes.length} bytes)`);
  return { spec, lines };
}
