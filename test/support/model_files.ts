// Model files written the way the frameworks write them, for the import tests, and a
// float64 forward pass of the weights as a file stores them (Keras semantics:
// y = act(x·K + b), BatchNormalization γ(z − μ)/√(σ² + ε) + β), written here from the
// frameworks' definitions, not from src/import.
//
// - Keras 2 .h5 (h5wasm): root attributes model_config and training_config (JSON as
//   fixed-length strings, as h5py stores Python bytes), keras_version and backend;
//   group model_weights with layer_names, one group per layer with weight_names, and
//   each weight at <layer>/<weight name> (`dense/dense/kernel:0`). A weights-only
//   file has the same layout at its root.
// - Keras 3 .keras (fflate): metadata.json, config.json, model.weights.h5 with
//   layers/<snake_case class>[_n]/vars/<i>, a vars group for every saveable (empty
//   for layers without variables) and the root's own vars.
// - TFLite (flatbuffers Builder): field ids transcribed here from schema.fbs.

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Builder } from "flatbuffers";
import { zipSync, strToU8 } from "fflate";

// ---- float64 reference ----

export type RefStep =
  | { kind: "dense"; kernel: number[][]; bias: number[]; activation: string }
  | { kind: "bn"; gamma: number[]; beta: number[]; mean: number[]; variance: number[]; epsilon: number }
  | { kind: "act"; activation: string };

function activate(name: string, z: number[]): number[] {
  switch (name) {
    case "linear":
      return z;
    case "relu":
      return z.map((v) => Math.max(0, v));
    case "sigmoid":
      return z.map((v) => 1 / (1 + Math.exp(-v)));
    case "tanh":
      return z.map(Math.tanh);
    case "softmax": {
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    }
    default:
      throw new Error(`reference: no activation ${name}`);
  }
}

export function forward64(steps: RefStep[], input: number[]): number[] {
  let x = input;
  for (const s of steps) {
    if (s.kind === "dense") {
      const z = s.bias.map((b, j) => x.reduce((acc, xi, i) => acc + xi * s.kernel[i][j], b));
      x = activate(s.activation, z);
    } else if (s.kind === "bn") {
      x = x.map((v, j) => (s.gamma[j] * (v - s.mean[j])) / Math.sqrt(s.variance[j] + s.epsilon) + s.beta[j]);
    } else {
      x = activate(s.activation, x);
    }
  }
  return x;
}

/** float32-rounded uniform values in [lo, hi), from a seeded stream. */
export function draws(next: () => number, count: number, lo: number, hi: number): number[] {
  return Array.from({ length: count }, () => Math.fround(lo + (hi - lo) * next()));
}

export function matrix(values: number[], rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

// ---- HDF5 ----

type H5 = typeof import("h5wasm").default;
let h5: H5 | undefined;

async function h5wasm(): Promise<H5> {
  if (!h5) {
    h5 = (await import("h5wasm/node")).default as unknown as H5;
    await h5.ready;
  }
  return h5;
}

export interface H5Weight {
  name: string;
  shape: number[];
  values: number[];
  dtype?: "<f" | "<d";
}

export interface H5Layer {
  name: string;
  weights: H5Weight[];
}

type H5Group = InstanceType<H5["Group"]>;

/** h5py stores a Python bytes object as a fixed-length string attribute. */
function bytesAttribute(group: H5Group, name: string, text: string): void {
  group.create_attribute(name, text, null, `S${Math.max(1, Buffer.byteLength(text))}`);
}

function bytesListAttribute(group: H5Group, name: string, list: string[]): void {
  if (list.length === 0) {
    // h5py writes an empty float64 array for an empty list.
    group.create_attribute(name, new Float64Array(0), [0], "<d");
    return;
  }
  const width = Math.max(1, ...list.map((s) => Buffer.byteLength(s)));
  group.create_attribute(name, list, [list.length], `S${width}`);
}

function keras2Layers(root: H5Group, layers: H5Layer[]): void {
  bytesListAttribute(root, "layer_names", layers.map((l) => l.name));
  root.create_attribute("backend", "tensorflow");
  root.create_attribute("keras_version", "2.15.0");
  for (const layer of layers) {
    root.create_group(layer.name);
    const g = root.get(layer.name) as H5Group;
    bytesListAttribute(g, "weight_names", layer.weights.map((w) => w.name));
    for (const w of layer.weights) {
      // "dense/kernel:0" under group "dense": the dataset dense/dense/kernel:0.
      const parts = w.name.split("/");
      let at = g;
      for (const part of parts.slice(0, -1)) {
        if (!at.keys().includes(part)) at.create_group(part);
        at = at.get(part) as H5Group;
      }
      const dtype = w.dtype ?? "<f";
      at.create_dataset({ name: parts[parts.length - 1], data: dtype === "<f" ? Float32Array.from(w.values) : Float64Array.from(w.values), shape: w.shape, dtype });
    }
  }
}

/** A Keras 2 full-model .h5 (`model.save("m.h5")`). */
export async function writeKeras2H5(path: string, modelConfig: unknown, trainingConfig: unknown, layers: H5Layer[]): Promise<void> {
  const lib = await h5wasm();
  const f = new lib.File(path, "w");
  try {
    f.create_attribute("backend", "tensorflow");
    f.create_attribute("keras_version", "2.15.0");
    bytesAttribute(f, "model_config", JSON.stringify(modelConfig));
    if (trainingConfig !== undefined) bytesAttribute(f, "training_config", JSON.stringify(trainingConfig));
    f.create_group("model_weights");
    keras2Layers(f.get("model_weights") as H5Group, layers);
  } finally {
    f.close();
  }
}

/** A Keras 2 weights-only .h5 (`model.save_weights("w.h5")`). */
export async function writeKeras2WeightsH5(path: string, layers: H5Layer[]): Promise<void> {
  const lib = await h5wasm();
  const f = new lib.File(path, "w");
  try {
    keras2Layers(f, layers);
  } finally {
    f.close();
  }
}

/** Keras 3 weights: `layers/<path>/vars/<i>` for each saveable, root `vars`, optimizer vars. */
async function keras3WeightsH5(path: string, saveables: { path: string; vars: H5Weight[] }[]): Promise<void> {
  const lib = await h5wasm();
  const f = new lib.File(path, "w");
  try {
    f.create_group("vars");
    for (const s of saveables) {
      let at = f as H5Group;
      for (const part of [...s.path.split("/"), "vars"]) {
        if (!at.keys().includes(part)) at.create_group(part);
        at = at.get(part) as H5Group;
      }
      s.vars.forEach((w, k) => at.create_dataset({ name: String(k), data: Float32Array.from(w.values), shape: w.shape, dtype: "<f" }));
    }
  } finally {
    f.close();
  }
}

/** A Keras 3 .keras zip (`model.save("m.keras")`). */
export async function writeKeras3(path: string, config: unknown, saveables: { path: string; vars: H5Weight[] }[]): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "qfirm-keras3-"));
  try {
    const weightsPath = join(dir, "model.weights.h5");
    await keras3WeightsH5(weightsPath, saveables);
    const zip = zipSync({
      "metadata.json": strToU8(JSON.stringify({ keras_version: "3.6.0", date_saved: "2025-01-01@00:00:00" })),
      "config.json": strToU8(JSON.stringify(config)),
      "model.weights.h5": await readFile(weightsPath),
    });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path, zip);
    return zip;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- TFLite ----

// schema.fbs, transcribed for the writer: table field ids (slot = id), enum values.
const T = {
  model: { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 },
  operatorCode: { deprecatedBuiltinCode: 0, version: 2, builtinCode: 3 },
  subgraph: { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 },
  tensor: { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4 },
  quantization: { scale: 2, zeroPoint: 3, quantizedDimension: 6 },
  operator: { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4 },
  buffer: { data: 0 },
  fullyConnectedOptions: { fusedActivationFunction: 0 },
  softmaxOptions: { beta: 0 },
};
export const TFLITE = {
  op: { CONV_2D: 3, DEQUANTIZE: 6, FULLY_CONNECTED: 9, LOGISTIC: 14, RELU: 19, RESHAPE: 22, SOFTMAX: 25, TANH: 28, QUANTIZE: 114 },
  type: { FLOAT32: 0, INT32: 2, INT8: 9 },
  fused: { NONE: 0, RELU: 1, RELU6: 3, TANH: 4 },
  options: { FullyConnectedOptions: 8, SoftmaxOptions: 9 },
};

export interface TfliteTensorSpec {
  name: string;
  shape: number[];
  type: number;
  /** Raw little-endian bytes of a constant; none for activations. */
  data?: Uint8Array;
  scale?: number[];
  zeroPoint?: number[];
  quantizedDimension?: number;
}

export interface TfliteOpSpec {
  op: number;
  inputs: number[];
  outputs: number[];
  fused?: number;
  beta?: number;
}

export function float32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function int8Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Int8Array.from(values).buffer);
}

export function int32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(values).buffer);
}

/** A one-subgraph TFLite model, as the converter lays it out (buffer 0 empty). */
export function tfliteModel(tensors: TfliteTensorSpec[], ops: TfliteOpSpec[], inputs: number[], outputs: number[]): Uint8Array {
  const b = new Builder(1024);
  const intVector = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let k = values.length - 1; k >= 0; k--) b.addInt32(values[k]);
    return b.endVector();
  };
  const floatVector = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let k = values.length - 1; k >= 0; k--) b.addFloat32(values[k]);
    return b.endVector();
  };
  const longVector = (values: number[]) => {
    b.startVector(8, values.length, 8);
    for (let k = values.length - 1; k >= 0; k--) b.addInt64(BigInt(values[k]));
    return b.endVector();
  };
  const tableVector = (offsets: number[]) => {
    b.startVector(4, offsets.length, 4);
    for (let k = offsets.length - 1; k >= 0; k--) b.addOffset(offsets[k]);
    return b.endVector();
  };

  // Buffers: 0 is the empty sentinel; each constant gets its own.
  const bufferData: (Uint8Array | undefined)[] = [undefined];
  const tensorBuffer = tensors.map((t) => (t.data ? bufferData.push(t.data) - 1 : 0));
  const buffers = bufferData.map((data) => {
    let dataOffset = 0;
    if (data) {
      b.startVector(1, data.length, 16);
      for (let k = data.length - 1; k >= 0; k--) b.addInt8(data[k]);
      dataOffset = b.endVector();
    }
    b.startObject(3);
    if (data) b.addFieldOffset(T.buffer.data, dataOffset, 0);
    return b.endObject();
  });

  const tensorOffsets = tensors.map((t, k) => {
    const name = b.createString(t.name);
    const shape = intVector(t.shape);
    let quantization = 0;
    if (t.scale) {
      const scale = floatVector(t.scale);
      const zero = longVector(t.zeroPoint ?? t.scale.map(() => 0));
      b.startObject(7);
      b.addFieldOffset(T.quantization.scale, scale, 0);
      b.addFieldOffset(T.quantization.zeroPoint, zero, 0);
      b.addFieldInt32(T.quantization.quantizedDimension, t.quantizedDimension ?? 0, 0);
      quantization = b.endObject();
    }
    b.startObject(5);
    b.addFieldOffset(T.tensor.shape, shape, 0);
    b.addFieldInt8(T.tensor.type, t.type, 0);
    b.addFieldInt32(T.tensor.buffer, tensorBuffer[k], 0);
    b.addFieldOffset(T.tensor.name, name, 0);
    if (quantization) b.addFieldOffset(T.tensor.quantization, quantization, 0);
    return b.endObject();
  });

  const codes = [...new Set(ops.map((o) => o.op))];
  const codeOffsets = codes.map((code) => {
    b.startObject(4);
    b.addFieldInt8(T.operatorCode.deprecatedBuiltinCode, Math.min(code, 127), 0);
    b.addFieldInt32(T.operatorCode.version, 1, 1);
    b.addFieldInt32(T.operatorCode.builtinCode, code, 0);
    return b.endObject();
  });

  const opOffsets = ops.map((o) => {
    const ins = intVector(o.inputs);
    const outs = intVector(o.outputs);
    let options = 0;
    let optionsType = 0;
    if (o.op === TFLITE.op.FULLY_CONNECTED) {
      b.startObject(5);
      b.addFieldInt8(T.fullyConnectedOptions.fusedActivationFunction, o.fused ?? 0, 0);
      options = b.endObject();
      optionsType = TFLITE.options.FullyConnectedOptions;
    } else if (o.op === TFLITE.op.SOFTMAX) {
      b.startObject(1);
      b.addFieldFloat32(T.softmaxOptions.beta, o.beta ?? 1, 0);
      options = b.endObject();
      optionsType = TFLITE.options.SoftmaxOptions;
    }
    b.startObject(5);
    b.addFieldInt32(T.operator.opcodeIndex, codes.indexOf(o.op), 0);
    b.addFieldOffset(T.operator.inputs, ins, 0);
    b.addFieldOffset(T.operator.outputs, outs, 0);
    if (options) {
      b.addFieldInt8(T.operator.builtinOptionsType, optionsType, 0);
      b.addFieldOffset(T.operator.builtinOptions, options, 0);
    }
    return b.endObject();
  });

  const tensorsVector = tableVector(tensorOffsets);
  const inputsVector = intVector(inputs);
  const outputsVector = intVector(outputs);
  const opsVector = tableVector(opOffsets);
  const graphName = b.createString("main");
  b.startObject(5);
  b.addFieldOffset(T.subgraph.tensors, tensorsVector, 0);
  b.addFieldOffset(T.subgraph.inputs, inputsVector, 0);
  b.addFieldOffset(T.subgraph.outputs, outputsVector, 0);
  b.addFieldOffset(T.subgraph.operators, opsVector, 0);
  b.addFieldOffset(T.subgraph.name, graphName, 0);
  const graph = b.endObject();

  const codesVector = tableVector(codeOffsets);
  const graphsVector = tableVector([graph]);
  const buffersVector = tableVector(buffers);
  const description = b.createString("written by the qfirm tests");
  b.startObject(5);
  b.addFieldInt32(T.model.version, 3, 0);
  b.addFieldOffset(T.model.operatorCodes, codesVector, 0);
  b.addFieldOffset(T.model.subgraphs, graphsVector, 0);
  b.addFieldOffset(T.model.description, description, 0);
  b.addFieldOffset(T.model.buffers, buffersVector, 0);
  const model = b.endObject();
  b.finish(model, "TFL3");
  return b.asUint8Array().slice();
}
