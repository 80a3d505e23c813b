// Keras files, read with jsfive (HDF5) and fflate (zip):
// - Keras 3 `.keras`: a zip of config.json (the model config, with compile_config)
//   and model.weights.h5, where layer k's variables are datasets
//   `layers/<class in snake_case, numbered per class>/vars/<i>` (Keras 2.13 wrote
//   `_layer_checkpoint_dependencies/` for `layers/`);
// - Keras 2 full-model `.h5`: root attributes model_config and training_config
//   (JSON), group model_weights with one group per layer whose `weight_names`
//   attribute lists its datasets (`dense/kernel:0`), relative to the layer's group;
// - an architecture `.json` (`model.to_json()`) with a weights-only `.h5` given by
//   --weights: Keras 2's layout at the root (attribute layer_names), or Keras 3's
//   `.weights.h5` (layers/.../vars).

import { readFile } from "node:fs/promises";
import { configLayers, kerasSteps, trainingRecord, type KerasLayer } from "./keras_config.js";
import { ImportError, tensor, type NamedTensor, type ReadModel } from "./steps.js";
import { formatLibrary } from "./library.js";

type Json = Record<string, unknown>;
type H5 = typeof import("jsfive");
type H5Group = InstanceType<H5["Group"]>;

let jsfive: H5 | undefined;

async function openH5(bytes: Uint8Array, where: string): Promise<H5Group> {
  jsfive ??= await formatLibrary<H5>("jsfive", "reading HDF5 (Keras .h5 and .keras)");
  const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || !HDF5_SIGNATURE.every((b, k) => bytes[k] === b)) {
    throw new ImportError(`${where}: not an HDF5 file (no HDF5 signature)`);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return guarded(where, () => new jsfive!.File(buffer, where));
}

/** jsfive throws strings, RangeErrors and TypeErrors on a damaged file: one ImportError instead. */
function guarded<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ImportError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new ImportError(`${where}: damaged or truncated HDF5 file (${why.split("\n")[0].slice(0, 100)})`);
  }
}

function child(group: H5Group, path: string): unknown {
  try {
    return group.get(path) ?? undefined;
  } catch {
    return undefined;
  }
}

function isGroup(value: unknown): value is H5Group {
  return jsfive !== undefined && value instanceof jsfive.Group;
}

function isDataset(value: unknown): value is InstanceType<H5["Dataset"]> {
  return jsfive !== undefined && value instanceof jsfive.Dataset;
}

/** Fixed-length strings come back NUL-padded. */
function clean(text: unknown): string {
  return String(text).replace(/\0+$/, "");
}

function stringList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(clean);
}

/** An attribute Keras may split into name0, name1... when it outgrows the object header. */
function listAttribute(attrs: Json, name: string): string[] | undefined {
  if (name in attrs) return stringList(attrs[name]);
  if (!(`${name}0` in attrs)) return undefined;
  const out: string[] = [];
  for (let k = 0; `${name}${k}` in attrs; k++) out.push(...stringList(attrs[`${name}${k}`]));
  return out;
}

function jsonAttribute(attrs: Json, name: string, where: string): unknown {
  if (!(name in attrs)) return undefined;
  const text = clean(attrs[name]);
  try {
    return JSON.parse(text);
  } catch {
    throw new ImportError(`${where}: attribute ${name} is not valid JSON`);
  }
}

function datasetTensor(ds: unknown, name: string, where: string): NamedTensor {
  if (!isDataset(ds)) throw new ImportError(`${where}: weight ${name} is missing`);
  return guarded(where, () => {
    const dtype = String(ds.dtype);
    if (!/^[<>|]?f[48]$/.test(dtype)) throw new ImportError(`${where}: weight ${name} is ${dtype}; qfirm reads float32 and float64 weights`);
    const shape = (ds.shape as number[]).slice();
    const value = ds.value as ArrayLike<number> | number;
    return tensor(name, shape, typeof value === "number" ? [value] : value);
  });
}

/** Keras 2: a layer group whose weight_names attribute lists its datasets. */
function keras2Weights(root: H5Group, where: string): (name: string) => NamedTensor[] {
  return (layerName) => {
    const group = child(root, layerName);
    if (!isGroup(group)) return [];
    const names = guarded(where, () => listAttribute(group.attrs as Json, "weight_names")) ?? [];
    return names.map((n) => datasetTensor(child(group, n), n, where));
  };
}

/** keras.src.utils.naming.to_snake_case: "BatchNormalization" → "batch_normalization". */
function snakeCase(name: string): string {
  return name
    .replace(/\W+/g, "")
    .replace(/(.)([A-Z][a-z]+)/g, "$1_$2")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

/**
 * Keras 3: the model's `layers` list is saved as a container, each layer under its
 * class name in snake case, numbered per class (dense, dense_1, ...), its variables
 * as vars/0, vars/1... Sequential's `layers` leaves its InputLayer out; a Functional
 * model's keeps it (it takes a name, and holds no variable).
 */
function keras3Weights(root: H5Group, layers: KerasLayer[], sequential: boolean, where: string): (name: string, index: number) => NamedTensor[] {
  const prefix = isGroup(child(root, "layers")) ? "layers" : isGroup(child(root, "_layer_checkpoint_dependencies")) ? "_layer_checkpoint_dependencies" : "layers";
  const paths = new Map<number, string>();
  const used = new Map<string, number>();
  layers.forEach((layer, i) => {
    if (sequential && layer.class_name === "InputLayer") return;
    const base = snakeCase(layer.class_name);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    paths.set(i, `${prefix}/${n === undefined ? base : `${base}_${n + 1}`}`);
  });
  return (_name, index) => {
    const path = paths.get(index);
    const vars = path === undefined ? undefined : child(root, `${path}/vars`);
    if (!isGroup(vars)) return [];
    const keys = guarded(where, () => vars.keys as string[]).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
    return keys.map((k) => datasetTensor(child(vars, k), `${path}/vars/${k}`, where));
  };
}

function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

async function readKeras3(path: string, bytes: Uint8Array): Promise<ReadModel> {
  const { unzipSync } = await formatLibrary<typeof import("fflate")>("fflate", "reading a Keras 3 .keras file");
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (f) => f.name === "config.json" || f.name === "model.weights.h5" });
  } catch (error) {
    throw new ImportError(`${path}: damaged or truncated zip (${(error as Error).message})`);
  }
  if (!files["config.json"]) throw new ImportError(`${path}: a zip without config.json; not a Keras 3 .keras file`);
  if (!files["model.weights.h5"]) throw new ImportError(`${path}: no model.weights.h5 inside; qfirm reads the h5 weights format`);
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(files["config.json"]));
  } catch {
    throw new ImportError(`${path}: config.json is not valid JSON`);
  }
  const { name, layers } = configLayers(config, `${path}: config.json`);
  const root = await openH5(files["model.weights.h5"], `${path}: model.weights.h5`);
  const sequential = (config as Json).class_name === "Sequential";
  const steps = kerasSteps(layers, keras3Weights(root, layers, sequential, `${path}: model.weights.h5`));
  const notes: string[] = [];
  const training = trainingRecord((config as Json).compile_config, "the Keras compile config", "keras", notes);
  return { description: `${path}: Keras 3 .keras (config.json, model.weights.h5)`, name, steps, training, notes };
}

async function readKeras2(path: string, bytes: Uint8Array): Promise<ReadModel> {
  const root = await openH5(bytes, path);
  const attrs = guarded(path, () => root.attrs as Json);
  const modelConfig = jsonAttribute(attrs, "model_config", path);
  if (modelConfig === undefined) {
    throw new ImportError(`${path}: an HDF5 file without model_config; for a weights-only file give the architecture .json and --weights ${path}`);
  }
  const { name, layers } = configLayers(modelConfig, path);
  const weightsRoot = child(root, "model_weights");
  if (!isGroup(weightsRoot)) throw new ImportError(`${path}: no model_weights group (saved without weights?)`);
  const steps = kerasSteps(layers, keras2Weights(weightsRoot, path));
  const notes: string[] = [];
  const training = trainingRecord(jsonAttribute(attrs, "training_config", path), "the Keras training_config", "keras", notes);
  return { description: `${path}: Keras 2 full-model .h5`, name, steps, training, notes };
}

async function readArchitecture(path: string, text: string, weightsPath: string): Promise<ReadModel> {
  let config: unknown;
  try {
    config = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ImportError(`${path}: not valid JSON (${(error as Error).message.split("\n")[0]})`);
  }
  const { name, layers } = configLayers(config, path);
  const bytes = await readBytes(weightsPath, "--weights");
  const root = await openH5(bytes, weightsPath);
  const layerNames = guarded(weightsPath, () => listAttribute(root.attrs as Json, "layer_names"));
  let steps;
  let layout: string;
  if (layerNames !== undefined) {
    steps = kerasSteps(layers, keras2Weights(root, weightsPath));
    layout = "Keras 2 weights";
  } else if (isGroup(child(root, "layers")) || isGroup(child(root, "_layer_checkpoint_dependencies"))) {
    steps = kerasSteps(layers, keras3Weights(root, layers, (config as Json).class_name === "Sequential", weightsPath));
    layout = "Keras 3 .weights.h5";
  } else {
    throw new ImportError(`${weightsPath}: neither Keras 2 weights (layer_names) nor Keras 3 weights (layers/…/vars)`);
  }
  const notes: string[] = [];
  const training = trainingRecord((config as Json).compile_config ?? (config as Json).training_config, "the Keras compile config", "keras", notes);
  return { description: `${path}: Keras architecture .json with ${weightsPath} (${layout})`, name, steps, training, notes };
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ImportError(`${what} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** A .keras zip, a full-model .h5, or an architecture .json with `weights`. */
export async function readKeras(path: string, bytes: Uint8Array, weights?: string): Promise<ReadModel> {
  if (isZip(bytes)) return readKeras3(path, bytes);
  if (weights !== undefined) return readArchitecture(path, new TextDecoder().decode(bytes), weights);
  return readKeras2(path, bytes);
}

