// model.json: everything a host needs to drive a module without guessing.

import { formatName } from "../spec/format.js";
import { STEP_TABLE_BYTES_PER_UNIT, batchRowBytes, paramCount, paramLayout, trainableCount, type MemoryLayout } from "./layout.js";
import { outputsOf, type Decay, type Model, type Training } from "../spec/model.js";

export const ABI_VERSION = 1;

export interface ManifestTensor {
  layer: number;
  kind: "weight" | "bias";
  shape: number[];
  /** Absolute byte addresses. */
  offset: number;
  fracBits: number;
  /** Whether the optimizer updates it (false for a frozen layer and in an inference-only module). */
  trainable: boolean;
  /** Where its gradient is: only for a trainable tensor of a module with a grads buffer (training "full"). */
  gradOffset?: number;
  gradFracBits?: number;
}

/** One optimizer state tensor: i64 elements (little-endian), laid out like its param tensor. */
export interface ManifestStateTensor {
  /** "velocity" (momentum), "m" and "v" (Adam). */
  name: string;
  layer: number;
  kind: "weight" | "bias";
  shape: number[];
  offset: number;
  bits: 64;
  fracBits: number;
}

export interface ManifestOptimizer {
  type: "sgd" | "adam";
  learningRate: { value: number; fracBits: number };
  /** sgd: 0 is plain SGD (no state). */
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  decay: Decay | null;
  /** Each state buffer whole (every trainable tensor's state, in params order). */
  buffers: { name: string; offset: number; bytes: number; bits: 64; fracBits: number }[];
  /** Each state tensor. */
  state: ManifestStateTensor[];
  /** The optimizer step counter (an i32: the steps taken), when Adam or a decay needs it. */
  step: { offset: number; bits: 32 } | null;
}

export interface Manifest {
  abi: number;
  name: string;
  /** "full" (grads and every training entry), "lean" (fused per-sample SGD, no grads) or "none" (inference only). */
  training: Training;
  format: { name: string; bits: number; fracBits: number };
  gradFormat: { name: string; bits: number; fracBits: number };
  inputs: number;
  outputs: number;
  /** target is null in an inference-only module; grads is null unless training is "full". */
  buffers: { input: number; output: number; target: number | null; params: number; grads: number | null };
  params: ManifestTensor[];
  paramCount: number;
  /** Elements of the trainable tensors: the length of grads and of each optimizer state buffer. */
  trainableParamCount: number;
  activations: string[];
  /** null in an inference-only module. */
  loss: { type: string; delta?: number; fracBits: number } | null;
  /** The base learning rate (also optimizer.learningRate); null in an inference-only module. */
  learningRate: { value: number; fracBits: number } | null;
  optimizer: ManifestOptimizer | null;
  lut: { entries: number; range: number; offset: number | null; fracBits: 30 };
  /** The exp table (softmax), 16 entries of 2^(−i/16) in q2.30. */
  expTable: { offset: number; entries: 16; fracBits: 30 } | null;
  /**
   * The batch buffer and entries (train_samples, train_batch, predict_samples, as the
   * training mode has them), when the spec asks for them. Rows hold no target
   * (targetInRow null) in an inference-only module.
   */
  batch: { capacity: number; offset: number; rowBytes: number; targetInRow: number | null; outputOffset: number } | null;
  /** 16 bytes the cosine loss writes during loss() and backward(); null in an inference-only module. */
  lossScratch: number | null;
  /** The dense kernels' scratch, which train_step and the batched entries write (STEP_TABLE_BYTES_PER_UNIT per unit of the widest layer). */
  accumulators: { offset: number; bytes: number };
  /**
   * Per layer: z, a (format), dA = ∂L/∂a and dZ = ∂L/∂z (gradFormat; null below the
   * lowest trainable layer, where backward stops); for inspection, not part of ABI v1.
   */
  scratch: { z: number; a: number; dA: number | null; dZ: number | null }[];
  memory: { pages: number; bytesUsed: number };
  module: { bytes: number; target: string };
}

export function buildManifest(model: Model, layout: MemoryLayout, moduleBytes: number, target: string): Manifest {
  const F = model.format.fracBits;
  const G = model.gradFormat.fracBits;
  const trains = model.training !== "none";
  const tensors = paramLayout(model);
  return {
    abi: ABI_VERSION,
    name: model.name,
    training: model.training,
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
    params: tensors.map((t) => ({
      layer: t.layer,
      kind: t.kind,
      shape: t.shape,
      offset: layout.params + 4 * t.index,
      fracBits: F,
      trainable: t.trainable,
      ...(t.gradIndex !== null && layout.grads !== null ? { gradOffset: layout.grads + 4 * t.gradIndex, gradFracBits: G } : {}),
    })),
    paramCount: paramCount(model),
    trainableParamCount: trains ? trainableCount(model) : 0,
    activations: model.layers.map((layer) => layer.activation),
    loss: trains ? { ...model.loss, fracBits: F } : null,
    learningRate: trains ? { value: model.learningRate, fracBits: F } : null,
    optimizer: trains ? manifestOptimizer(model, layout) : null,
    lut: { entries: model.lut.entries, range: model.lut.range, offset: layout.table ?? null, fracBits: 30 },
    expTable: layout.expTable !== undefined ? { offset: layout.expTable, entries: 16, fracBits: 30 } : null,
    batch:
      model.batchCapacity > 0
        ? {
            capacity: model.batchCapacity,
            offset: layout.batch,
            rowBytes: batchRowBytes(model),
            targetInRow: trains ? 4 * model.inputs : null,
            outputOffset: layout.batchOutput,
          }
        : null,
    lossScratch: layout.lossScratch,
    accumulators: { offset: layout.acc, bytes: model.training === "none" ? 0 : STEP_TABLE_BYTES_PER_UNIT * Math.max(...model.layers.map((layer) => layer.units)) },
    scratch: layout.layers,
    memory: { pages: layout.pages, bytesUsed: layout.end },
    module: { bytes: moduleBytes, target },
  };
}

function manifestOptimizer(model: Model, layout: MemoryLayout): ManifestOptimizer {
  const o = model.optimizer;
  const constants =
    o.type === "adam" ? { beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon } : { momentum: o.momentum };
  const trained = trainableCount(model);
  const tensors = paramLayout(model).filter((t) => t.gradIndex !== null);
  return {
    type: o.type,
    learningRate: { value: o.learningRate, fracBits: model.format.fracBits },
    ...constants,
    decay: o.decay ? { ...o.decay } : null,
    buffers: layout.state.map((b) => ({ name: b.name, offset: b.offset, bytes: 8 * trained, bits: 64 as const, fracBits: b.fracBits })),
    state: layout.state.flatMap((b) =>
      tensors.map((t) => ({
        name: b.name,
        layer: t.layer,
        kind: t.kind,
        shape: t.shape,
        offset: b.offset + 8 * t.gradIndex!,
        bits: 64 as const,
        fracBits: b.fracBits,
      })),
    ),
    step: layout.step !== null ? { offset: layout.step, bits: 32 } : null,
  };
}

/** Each layer's width, from its weight tensor (tensor 2l is layer l's weight). */
export function layerUnits(manifest: Manifest): number[] {
  return manifest.scratch.map((_, l) => manifest.params[2 * l].shape[1]);
}
