// Parameter layout of ABI v1: layer by layer, weight (row-major, weight[i][j] at
// i*units + j) then bias. Grads mirror params exactly.

import { fanInOf, type LayerWeights, type Model } from "../spec/model.js";

export interface TensorLayout {
  layer: number;
  kind: "weight" | "bias";
  shape: number[];
  /** First element, counted in i32 words from the start of the params buffer. */
  index: number;
  length: number;
}

export function paramLayout(model: Model): TensorLayout[] {
  const tensors: TensorLayout[] = [];
  let index = 0;
  model.layers.forEach((layer, l) => {
    const fanIn = fanInOf(model, l);
    tensors.push({ layer: l, kind: "weight", shape: [fanIn, layer.units], index, length: fanIn * layer.units });
    index += fanIn * layer.units;
    tensors.push({ layer: l, kind: "bias", shape: [layer.units], index, length: layer.units });
    index += layer.units;
  });
  return tensors;
}

export function paramCount(model: Model): number {
  return model.layers.reduce((n, layer, l) => n + (fanInOf(model, l) + 1) * layer.units, 0);
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
  target: number;
  params: number;
  grads: number;
  /** Per layer: pre-activation z and activation a (q.F), ∂L/∂a and ∂L/∂z (q.G). */
  layers: { z: number; a: number; dA: number; dZ: number }[];
  /** The last layer's activation. */
  output: number;
  /** The tanh table, when a layer uses sigmoid or tanh. */
  table?: number;
  /** The exp table, when the last layer is softmax. */
  expTable?: number;
  /** 16 bytes the cosine loss keeps its norms in. */
  lossScratch: number;
  /** Scratch of the dense kernels: STEP_TABLE_BYTES_PER_UNIT (assembly/dense.ts) bytes per unit of the widest layer. */
  acc: number;
  /** batchCapacity rows of (input, target), then batchCapacity rows of output. */
  batch: number;
  batchOutput: number;
  /** First byte past the buffers. */
  end: number;
  pages: number;
}

/** assembly/dense.ts: four i32 rounding-bias tables per unit for dense_backward_step. */
export const STEP_TABLE_BYTES_PER_UNIT = 16;

/** Nothing lives at address 0, so 0 can mean "no buffer" in the kernels. */
const FIRST_BUFFER = 16;
const ALIGN = 16;
const PAGE_BYTES = 65536;

export function memoryLayout(model: Model, tableEntries: number, expEntries: number): MemoryLayout {
  let at = FIRST_BUFFER;
  const take = (words: number): number => {
    const offset = at;
    at += Math.ceil((words * 4) / ALIGN) * ALIGN;
    return offset;
  };
  const input = take(model.inputs);
  const target = take(model.layers[model.layers.length - 1].units);
  const params = take(paramCount(model));
  const grads = take(paramCount(model));
  const layers = model.layers.map((layer) => ({
    z: take(layer.units),
    a: take(layer.units),
    dA: take(layer.units),
    dZ: take(layer.units),
  }));
  const table = tableEntries > 0 ? take(tableEntries) : undefined;
  const expTable = expEntries > 0 ? take(expEntries) : undefined;
  const lossScratch = take(4);
  const acc = take((STEP_TABLE_BYTES_PER_UNIT / 4) * Math.max(...model.layers.map((layer) => layer.units)));
  const outputs = model.layers[model.layers.length - 1].units;
  const batch = take(model.batchCapacity * (model.inputs + outputs));
  const batchOutput = take(model.batchCapacity * outputs);
  return {
    input, target, params, grads, layers, table, expTable, lossScratch, acc, batch, batchOutput,
    output: layers[layers.length - 1].a,
    end: at,
    pages: Math.max(1, Math.ceil(at / PAGE_BYTES)),
  };
}
