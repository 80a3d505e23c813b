// `qfirm params`: a raw params buffer dumped from a device (the bytes at params_ptr,
// little-endian i32, as the host library reads them) and the module's manifest
// become a spec holding those weights. The manifest says everything else: shapes,
// activations, formats, loss, the optimizer with its constants and decay, the
// training mode, which layers train, the table. Built again, the spec gives a module
// whose params are the dump, bit for bit. The params buffer is laid out alike in
// every training mode; a lean module's manifest has no grads and an inference-only
// one no loss, learning rate or optimizer (null), and a manifest from before
// training modes existed has none of those fields (full training, plain SGD).

import { fromQ } from "../spec/format.js";
import { describeTraining, TRAINING_MODES, type Training } from "../spec/model.js";
import { parseSpec } from "../spec/spec.js";
import { ImportError, plural } from "./steps.js";

type Json = Record<string, unknown>;

interface ManifestTensor {
  layer: number;
  kind: string;
  shape: number[];
  offset: number;
  fracBits: number;
  /** Absent in manifests from before frozen layers. */
  trainable?: boolean;
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
const isNumber = (v: unknown) => typeof v === "number";
/** A field that may be null (a module without it) or absent (a manifest from before it). */
const orNull = (ok: (v: unknown) => boolean) => (v: unknown) => v === null || v === undefined || ok(v);
const isDecay = (v: unknown) => isObject(v) && (v.type === "exponential" || v.type === "step") && isNumber(v.rate) && isInt(v.steps);

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
  const training = field<Training | undefined>(m, "training", orNull((v) => (TRAINING_MODES as readonly unknown[]).includes(v)), where) ?? "full";
  const trains = training !== "none";
  const loss = field<Json | null>(m, "loss", trains ? (v) => isObject(v) && isString(v.type) : orNull(isObject), where);
  const learningRate = field<number | null>(m, "learningRate.value", trains ? isNumber : orNull(isNumber), where);
  const optimizer = field<Json | null | undefined>(
    m,
    "optimizer",
    orNull((v) => isObject(v) && (v.type === "sgd" || v.type === "adam") && isObject(v.learningRate) && isNumber(v.learningRate.value) && orNull(isDecay)(v.decay)),
    where,
  );
  const lut = field<Json>(m, "lut", (v) => isObject(v) && isInt(v.entries) && typeof v.range === "number", where);
  const tensors = field<ManifestTensor[]>(
    m,
    "params",
    (v) =>
      Array.isArray(v) &&
      v.every(
        (t) =>
          isObject(t) && isInt(t.layer) && (t.kind === "weight" || t.kind === "bias") && Array.isArray(t.shape) && t.shape.every(isInt) && isInt(t.offset) && isInt(t.fracBits) &&
          orNull((b) => typeof b === "boolean")(t.trainable),
      ),
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
  const frozen = (l: number) => trains && tensors[2 * l].trainable === false;
  const spec: Json = {
    name,
    format,
    ...(trains ? { gradFormat } : {}),
    inputs,
    layers: activations.map((activation, l) => ({ units: tensors[2 * l].shape[1], activation, ...(frozen(l) ? { trainable: false } : {}) })),
    ...(trains
      ? {
          loss: loss!.type === "huber" ? { type: loss!.type, delta: loss!.delta } : { type: loss!.type },
          optimizer: optimizerOf(optimizer, learningRate!),
        }
      : {}),
    ...(training !== "full" ? { training } : {}),
    lut: { entries: lut.entries, range: lut.range },
    ...(batch ? { batch } : {}),
    weights,
  };
  const model = parseSpec(spec);
  lines.push(`from the manifest: ${describeTraining(model)}`);
  const shape = [inputs, ...activations.map((_, l) => tensors[2 * l].shape[1])].join("-");
  lines.unshift(`read ${manifestPath} (${name}: ${shape}, ${format}) and ${dumpPath} (${plural(words, "param")}, ${bytes.length} bytes)`);
  return { spec, lines };
}

/** The spec's optimizer from the manifest's (a manifest from before optimizers: plain SGD at learningRate). */
function optimizerOf(o: Json | null | undefined, learningRate: number): Json {
  if (!o) return { type: "sgd", learningRate };
  const rate = (o.learningRate as Json).value as number;
  const decay = isObject(o.decay) ? { decay: { type: o.decay.type, rate: o.decay.rate, steps: o.decay.steps } } : {};
  if (o.type === "adam") return { type: "adam", learningRate: rate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, ...decay };
  return { type: "sgd", learningRate: rate, ...(isNumber(o.momentum) && (o.momentum as number) > 0 ? { momentum: o.momentum } : {}), ...decay };
}
