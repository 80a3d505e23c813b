// Parameter layout of ABI v1: layer by layer, weight (row-major, weight[i][j] at
// i*units + j) then bias. Grads, and each optimizer state buffer, hold the trainable
// tensors only, in the same order: with every layer trainable they mirror params
// exactly (ABI v1); a frozen layer's tensors take no room in them.

import {
  countsSteps,
  fanInOf,
  isTrainable,
  lowestTrainable,
  velocityHeadroomBits,
  type LayerWeights,
  type Model,
} from "../spec/model.js";

export interface TensorLayout {
  layer: number;
  kind: "weight" | "bias";
  shape: number[];
  /** First element, counted in i32 words from the start of the params buffer. */
  index: number;
  length: number;
  trainable: boolean;
  /**
   * First element in the grads and optimizer state buffers, counted in elements; null
   * for a frozen tensor and in a module without grads (training "lean" or "none").
   */
  gradIndex: number | null;
}

export function paramLayout(model: Model): TensorLayout[] {
  const tensors: TensorLayout[] = [];
  let index = 0;
  let gradIndex = 0;
  model.layers.forEach((layer, l) => {
    const fanIn = fanInOf(model, l);
    const trainable = model.training !== "none" && isTrainable(layer);
    for (const [kind, shape] of [["weight", [fanIn, layer.units]], ["bias", [layer.units]]] as const) {
      const length = shape.reduce((a, b) => a * b);
      const hasGrads = trainable && model.training === "full";
      tensors.push({ layer: l, kind, shape: [...shape], index, length, trainable, gradIndex: hasGrads ? gradIndex : null });
      index += length;
      if (trainable) gradIndex += length;
    }
  });
  return tensors;
}

export function paramCount(model: Model): number {
  return model.layers.reduce((n, layer, l) => n + (fanInOf(model, l) + 1) * layer.units, 0);
}

/** Parameters that train: the length of the grads buffer and of each optimizer state buffer (when the module has them). */
export function trainableCount(model: Model): number {
  return paramLayout(model).reduce((n, t) => n + (t.trainable ? t.length : 0), 0);
}

/**
 * The optimizer's state buffers: momentum's velocity, Adam's first and second moments.
 * Each holds one i64 per trainable parameter (see assembly/momentum.ts and adam.ts for
 * why 64 bits), in the fraction bits given here.
 */
export interface StateBuffer {
  name: "velocity" | "m" | "v";
  fracBits: number;
}

export function stateBuffers(model: Model): StateBuffer[] {
  if (model.training !== "full") return [];
  const G = model.gradFormat.fracBits;
  const o = model.optimizer;
  if (o.type === "adam") {
    // m in q.(G+31): (1 − β1)·g is exact in it; v in q.(2G): g² is exact in it.
    return [{ name: "m", fracBits: G + 31 }, { name: "v", fracBits: 2 * G }];
  }
  if (o.momentum > 0) return [{ name: "velocity", fracBits: G + 31 - velocityHeadroomBits(o.momentum) }];
  return [];
}

/** Flattens per-layer weights into the ABI's params order. */
export function flattenParams(weights: LayerWeights[]): number[] {
  return weights.flatMap(({ weight, bias }) => [...weight.flat(), ...bias]);
}

/** Inverse of flattenParams for the model's shapes. */
export function unflattenParams(model: Model, flat: ArrayLike<number>): LayerWeights[] {
  let k = 0;
  return model.layers.map((layer, l) => {
    const fanIn = fanInOf(model, l);
    const weight = Array.from({ length: fanIn }, () => Array.from({ length: layer.units }, () => flat[k++]));
    const bias = Array.from({ length: layer.units }, () => flat[k++]);
    return { weight, bias };
  });
}

/** Byte offsets of every buffer in linear memory; the generator owns this layout. */
export interface MemoryLayout {
  input: number;
  /** null in an inference-only module. */
  target: number | null;
  params: number;
  /** null unless training is "full". */
  grads: number | null;
  /** Each optimizer state buffer (i64 elements), in stateBuffers order. */
  state: (StateBuffer & { offset: number })[];
  /** The optimizer step counter (one i32), when the module counts steps. */
  step: number | null;
  /**
   * Per layer: pre-activation z and activation a (q.F), ∂L/∂a and ∂L/∂z (q.G); dA and
   * dZ are null below the lowest trainable layer (backward stops there) and in an
   * inference-only module.
   */
  layers: { z: number; a: number; dA: number | null; dZ: number | null }[];
  /** The last layer's activation. */
  output: number;
  /** The tanh table, when a layer uses sigmoid or tanh. */
  table?: number;
  /** The exp table, when the last layer is softmax. */
  expTable?: number;
  /** 16 bytes the cosine loss keeps its norms in; null in an inference-only module. */
  lossScratch: number | null;
  /** Scratch of the dense kernels: STEP_TABLE_BYTES_PER_UNIT bytes per unit of the widest layer (none in an inference-only module). */
  acc: number;
  /** batchCapacity rows of (input, target) (inputs only in an inference-only module), then batchCapacity rows of output. */
  batch: number;
  batchOutput: number;
  /** First byte past the buffers. */
  end: number;
  pages: number;
}

/**
 * dense_backward_step's scratch per unit (assembly/dense.ts, dense_simd.ts): its
 * rounding tables (8 bytes scalar, 16 SIMD), then one word for a row of gradients
 * where no grads buffer may be written.
 */
export const STEP_TABLE_BYTES_PER_UNIT = 20;

/** Nothing lives at address 0, so 0 can mean "no buffer" in the kernels. */
const FIRST_BUFFER = 16;
const ALIGN = 16;
const PAGE_BYTES = 65536;

/** Bytes of one batch row: the input, then the target unless the module only infers. */
export function batchRowBytes(model: Model): number {
  return 4 * (model.inputs + (model.training === "none" ? 0 : model.layers[model.layers.length - 1].units));
}

export function memoryLayout(model: Model, tableEntries: number, expEntries: number): MemoryLayout {
  let at = FIRST_BUFFER;
  const take = (words: number): number => {
    const offset = at;
    at += Math.ceil((words * 4) / ALIGN) * ALIGN;
    return offset;
  };
  const trains = model.training !== "none";
  const trained = trainableCount(model);
  const lowest = lowestTrainable(model);
  const input = take(model.inputs);
  const target = trains ? take(model.layers[model.layers.length - 1].units) : null;
  const params = take(paramCount(model));
  const grads = model.training === "full" ? take(trained) : null;
  const state = stateBuffers(model).map((buffer) => ({ ...buffer, offset: take(2 * trained) }));
  const step = countsSteps(model) ? take(1) : null;
  const layers = model.layers.map((layer, l) => {
    const backward = trains && l >= lowest;
    return { z: take(layer.units), a: take(layer.units), dA: backward ? take(layer.units) : null, dZ: backward ? take(layer.units) : null };
  });
  const table = tableEntries > 0 ? take(tableEntries) : undefined;
  const expTable = expEntries > 0 ? take(expEntries) : undefined;
  const lossScratch = trains ? take(4) : null;
  const acc = take(trains ? (STEP_TABLE_BYTES_PER_UNIT / 4) * Math.max(...model.layers.map((layer) => layer.units)) : 0);
  const outputs = model.layers[model.layers.length - 1].units;
  const batch = take((model.batchCapacity * batchRowBytes(model)) / 4);
  const batchOutput = take(model.batchCapacity * outputs);
  return {
    input, target, params, grads, state, step, layers, table, expTable, lossScratch, acc, batch, batchOutput,
    output: layers[layers.length - 1].a,
    end: at,
    pages: Math.max(1, Math.ceil(at / PAGE_BYTES)),
  };
}
