// `qfirm import`: which reader a file needs (by its first bytes, then its name), and
// the spec from what it read. Each reader, and the library it needs, is loaded only
// when a file of its format comes in, so `qfirm build` never pays for them.

import { readFile } from "node:fs/promises";
import { basename, dirname, extname } from "node:path";
import { buildSpec, type Imported } from "./chain.js";
import { ImportError, type ReadModel } from "./steps.js";

export interface ImportCommandOptions {
  weights?: string;
  name?: string;
  format?: string;
}

const KNOWN = "TF.js model.json, Keras .keras, .h5 or architecture .json with --weights, .onnx, .tflite";

function startsWith(bytes: Uint8Array, prefix: number[], at = 0): boolean {
  return bytes.length >= at + prefix.length && prefix.every((b, k) => bytes[at + k] === b);
}

async function readModel(path: string, bytes: Uint8Array, weights: string | undefined): Promise<ReadModel> {
  const isHdf5 = startsWith(bytes, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  const isZip = startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]);
  const isTflite = startsWith(bytes, [0x54, 0x46, 0x4c, 0x33], 4); // "TFL3"
  const ext = extname(path).toLowerCase();
  if (weights !== undefined && (isHdf5 || isZip || isTflite || ext === ".onnx")) {
    throw new ImportError(`--weights: only with an architecture .json; ${path} holds its own weights`);
  }
  if (isZip) return (await import("./keras.js")).readKeras(path, bytes);
  if (isHdf5) return (await import("./keras.js")).readKeras(path, bytes);
  if (isTflite || ext === ".tflite") return (await import("./tflite.js")).readTflite(path, bytes);
  if (ext === ".onnx") return (await import("./onnx.js")).readOnnx(path, bytes);
  const text = new TextDecoder().decode(bytes);
  if (/^\s*[{[]/.test(text.replace(/^\uFEFF/, ""))) {
    let json: unknown;
    try {
      json = JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (error) {
      throw new ImportError(`${path}: not valid JSON (${(error as Error).message.split("\n")[0]})`);
    }
    const keys = typeof json === "object" && json !== null ? Object.keys(json) : [];
    if (keys.includes("modelTopology") || keys.includes("weightsManifest")) {
      if (weights !== undefined) throw new ImportError(`--weights: a TF.js model.json finds its weight files itself`);
      return (await import("./tfjs.js")).readTfjs(path, text);
    }
    if (keys.includes("class_name")) {
      if (weights === undefined) throw new ImportError(`${path}: a Keras architecture without weights; give the weights file with --weights FILE.h5`);
      return (await import("./keras.js")).readKeras(path, bytes, weights);
    }
    throw new ImportError(`${path}: JSON that is neither a TF.js model.json nor a Keras architecture`);
  }
  // ONNX has no magic number; a protobuf that decodes into a graph is one.
  if (bytes.length > 0 && bytes[0] === 0x08) return (await import("./onnx.js")).readOnnx(path, bytes);
  throw new ImportError(`${path}: not a model file qfirm reads (${KNOWN})`);
}

/** A name for the spec when the file has none: the file's, or its folder's for model.json. */
function fallbackName(path: string): string {
  const stem = basename(path, extname(path));
  return stem === "model" ? basename(dirname(path)) || stem : stem;
}

export async function importModel(path: string, options: ImportCommandOptions): Promise<Imported> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ImportError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (bytes.length === 0) throw new ImportError(`${path}: an empty file`);
  const read = await readModel(path, bytes, options.weights);
  return buildSpec(read, { name: options.name, format: options.format, fallbackName: fallbackName(path) });
}
