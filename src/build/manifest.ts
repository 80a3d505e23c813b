// model.json: everything a host needs to drive a module without guessing.

import { formatName } from "../spec/format.js";
import { STEP_TABLE_BYTES_PER_UNIT, paramCount, paramLayout, type MemoryLayout } from "./layout.js";
import { outputsOf, type Model } from "../spec/model.js";

export const ABI_VERSION = 1;

export interface ManifestTensor {
  layer: number;
  kind: "weight" | "bias";
  shape: number[];
  /** Absolute byte addresses. */
  offset: number;
  fracBits: number;
  gradOffset: number;
  gradFracBits: number;
}

export interface Manifest {
  abi: number;
  name: string;
  format: { name: string; bits: number; fracBits: number };
  gradFormat: { name: string; bits: number; fracBits: number };
  inputs: number;
  outputs: number;
  buffers: { input: number; output: number; target: number; params: number; grads: number };
  params: ManifestTensor[];
  paramCount: number;
  activations: string[];
  loss: { type: string; delta?: number; fracBits: number };
  learningRate: { value: number; fracBits: number };
  lut: { entries: number; range: number; offset: number | null; fracBits: 30 };
  /** The exp table (softmax), 16 entries of 2^(−i/16) in q2.30. */
  expTable: { offset: number; entries: 16; fracBits: 30 } | null;
  /** The batch buffer and entries (train_samples, train_batch, predict_samples), when the spec asks for them. */
  batch: { capacity: number; offset: number; rowBytes: number; targetInRow: number; outputOffset: number } | null;
  /** 16 bytes the cosine loss writes during loss() and backward(). */
  lossScratch: number;
  /** The dense kernels' scratch, which train_step and the batched entries write (16 bytes per unit of the widest layer). */
  accumulators: { offset: number; bytes: number };
  /** Per layer: z, a (format), dA = ∂L/∂a and dZ = ∂L/∂z (gradFormat); for inspection, not part of ABI v1. */
  scratch: { z: number; a: number; dA: number; dZ: number }[];
  memory: { pages: number; bytesUsed: number };
  module: { bytes: number; target: string };
}

export function buildManifest(model: Model, layout: MemoryLayout, moduleBytes: number, target: string): Manifest {
  const F = model.format.fracBits;
  const G = model.gradFormat.fracBits;
  return {
    abi: ABI_VERSION,
    name: model.name,
    format: { name: formatName(model.format), bits: 32, fracBits: F },
    gradFormat: { name: formatName(model.gradFormat), bits: 32, fracBits: G },
    inputs: model.inputs,
    outputs: outputsOf(model),
    buffers: {
      input: layout.input,
      output: layout.output,
      target: layout.target,
      params: layout.params,
      grads: layout.grads,
    },
    params: paramLayout(model).map((t) => ({
      layer: t.layer,
      kind: t.kind,
      shape: t.shape,
      offset: layout.params + 4 * t.index,
      fracBits: F,
      gradOffset: layout.grads + 4 * t.index,
      gradFracBits: G,
    })),
    paramCount: paramCount(model),
    activations: model.layers.map((layer) => layer.activation),
    loss: { ...model.loss, fracBits: F },
    learningRate: { value: model.learningRate, fracBits: F },
    lut: { entries: model.lut.entries, range: model.lut.range, offset: layout.table ?? null, fracBits: 30 },
    expTable: layout.expTable !== undefined ? { offset: layout.expTable, entries: 16, fracBits: 30 } : null,
    batch:
      model.batchCapacity > 0
        ? {
            capacity: model.batchCapacity,
            offset: layout.batch,
            rowBytes: 4 * (model.inputs + outputsOf(model)),
            targetInRow: 4 * model.inputs,
            outputOffset: layout.batchOutput,
          }
        : null,
    lossScratch: layout.lossScratch,
    accumulators: { offset: layout.acc, bytes: STEP_TABLE_BYTES_PER_UNIT * Math.max(...model.layers.map((layer) => layer.units)) },
    scratch: layout.layers,
    memory: { pages: layout.pages, bytesUsed: layout.end },
    module: { bytes: moduleBytes, target },
  };
}

/** Each layer's width, from its weight tensor (tensor 2l is layer l's weight). */
export function layerUnits(manifest: Manifest): number[] {
  return manifest.scratch.map((_, l) => manifest.params[2 * l].shape[1]);
}
