// TF.js Layers: model.json (the Keras config plus a weights manifest) and its weight
// files, found relative to it. Two layouts:
// - `model.save()`: modelTopology is the model config itself, trainingConfig beside it;
// - the converter's: modelTopology { model_config, training_config }, weights split
//   into groups of shards (group1-shard1of2.bin ...).
// Each manifest group's weights lie back to back in the concatenation of its shards:
// float32 little-endian, or quantized (uint8/uint16: q·scale + min; float16).

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { configLayers, kerasSteps, trainingRecord } from "./keras_config.js";
import { parseExactRecord, EXACT_KEY } from "./exact.js";
import { halfToNumber, ImportError, plural, tensor, type NamedTensor, type ReadModel } from "./steps.js";

type Json = Record<string, unknown>;

interface ManifestEntry {
  name: string;
  group?: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Bytes per element and a decoder for one manifest entry. */
function decoderOf(entry: ManifestEntry, where: string): { size: number; read: (view: DataView, at: number) => number } {
  const q = entry.quantization;
  if (q) {
    if (q.dtype === "float16") return { size: 2, read: (v, at) => halfToNumber(v.getUint16(at, true)) };
    if ((q.dtype === "uint8" || q.dtype === "uint16") && typeof q.scale === "number" && typeof q.min === "number") {
      const { scale, min } = q;
      return q.dtype === "uint8"
        ? { size: 1, read: (v, at) => v.getUint8(at) * scale + min }
        : { size: 2, read: (v, at) => v.getUint16(at, true) * scale + min };
    }
    throw new ImportError(`${where}: weight "${entry.name}" has quantization ${JSON.stringify(q)}; qfirm reads float16, uint8 and uint16 (with scale and min)`);
  }
  if (entry.dtype === "float32") return { size: 4, read: (v, at) => v.getFloat32(at, true) };
  // An optimizer's step count (`iter`, group "optimizer") is int32: read past, never used as a weight.
  if (entry.dtype === "int32") return { size: 4, read: (v, at) => v.getInt32(at, true) };
  throw new ImportError(`${where}: weight "${entry.name}" is ${entry.dtype}; qfirm reads float32 weights`);
}

function manifestEntries(group: unknown, g: number, where: string): { paths: string[]; weights: ManifestEntry[] } {
  if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
    throw new ImportError(`${where}: weightsManifest[${g}] has no paths and weights`);
  }
  const weights = group.weights.map((w, k) => {
    if (!isObject(w) || typeof w.name !== "string" || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw new ImportError(`${where}: weightsManifest[${g}].weights[${k}] has no name and shape`);
    }
    return w as unknown as ManifestEntry;
  });
  if (!group.paths.every((p) => typeof p === "string")) throw new ImportError(`${where}: weightsManifest[${g}].paths are not file names`);
  return { paths: group.paths as string[], weights };
}

async function readShard(folder: string, path: string, where: string): Promise<Uint8Array> {
  try {
    return await readFile(resolve(folder, path));
  } catch (error) {
    throw new ImportError(`${where}: weight file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

export async function readTfjs(path: string, text: string): Promise<ReadModel> {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ImportError(`${path}: not valid JSON (${(error as Error).message.split("\n")[0]})`);
  }
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    throw new ImportError(`${path}: not a TF.js model.json (no modelTopology and weightsManifest)`);
  }
  if (json.format === "graph-model") {
    throw new ImportError(`${path}: a TF.js graph model; qfirm imports Layers models (model.save() or the converter's layers-model)`);
  }
  const topology = json.modelTopology;
  const converted = isObject(topology.model_config);
  const modelConfig = converted ? topology.model_config : topology;
  const { name, layers } = configLayers(modelConfig, path);

  // Read every group: its shards back to back, then its weights in order.
  const folder = dirname(path);
  const byLayer = new Map<string, NamedTensor[]>();
  let files = 0;
  for (const [g, group] of json.weightsManifest.entries()) {
    const { paths, weights } = manifestEntries(group, g, path);
    const shards = await Promise.all(paths.map((p) => readShard(folder, p, path)));
    files += shards.length;
    const total = shards.reduce((n, s) => n + s.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const s of shards) {
      bytes.set(s, at);
      at += s.length;
    }
    const view = new DataView(bytes.buffer);
    const need = weights.reduce((n, w) => n + decoderOf(w, path).size * w.shape.reduce((a, d) => a * d, 1), 0);
    if (need !== total) {
      throw new ImportError(
        `${path}: weightsManifest[${g}] lists ${plural(need, "byte")} of weights but ${paths.join(", ")} ${paths.length === 1 ? "holds" : "hold"} ${plural(total, "byte")}${need > total ? " (truncated?)" : ""}`,
      );
    }
    let offset = 0;
    for (const w of weights) {
      const { size, read } = decoderOf(w, path);
      const count = w.shape.reduce((a, d) => a * d, 1);
      const values = new Float64Array(count);
      for (let k = 0; k < count; k++) values[k] = read(view, offset + k * size);
      offset += count * size;
      if (w.group === "optimizer") continue;
      const layer = w.name.includes("/") ? w.name.slice(0, w.name.lastIndexOf("/")) : w.name;
      const list = byLayer.get(layer) ?? [];
      list.push(tensor(w.name, w.shape, values));
      byLayer.set(layer, list);
    }
  }

  const notes: string[] = [];
  const steps = kerasSteps(layers, (layerName) => byLayer.get(layerName) ?? []);
  const trainingConfig = converted ? topology.training_config : json.trainingConfig;
  // The converter's training_config is Keras' (Python wrote it); model.save()'s is TF.js's own.
  const training = converted
    ? trainingRecord(trainingConfig, "the converter's training_config", "keras", notes)
    : trainingRecord(trainingConfig, "the TF.js trainingConfig", "tfjs", notes);
  const metadata = isObject(json.userDefinedMetadata) ? json.userDefinedMetadata[EXACT_KEY] : undefined;
  const layout = converted ? "converter layout" : "model.save() layout";
  return {
    description: `${path}: TF.js Layers (${layout}), ${plural(files, "weight file")}`,
    name,
    steps,
    training,
    exact: parseExactRecord(metadata, path),
    notes,
  };
}
