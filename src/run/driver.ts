// Loads a module with @assemblyscript/loader and reads and writes its buffers as
// floats, using the manifest's formats. Every write is checked: wrong lengths, NaN,
// ±Infinity and values outside the format's range are errors (QRangeError), never
// silently wrapped or saturated.

import { instantiate } from "@assemblyscript/loader";
import { fromQ, QRangeError, toQ } from "../spec/format.js";
import { layerUnits, type Manifest } from "../build/manifest.js";
import type { LayerWeights } from "../spec/model.js";
import type { Trace } from "../reference/network.js";

/** ABI v1 exports: every parameter and result is an i32. */
export interface ModuleExports extends Record<string, unknown> {
  memory: WebAssembly.Memory;
  input_ptr(): number;
  output_ptr(): number;
  target_ptr(): number;
  params_ptr(): number;
  grads_ptr(): number;
  forward(): void;
  loss(): number;
  zero_grad(): void;
  backward(): void;
  step(): void;
  set_learning_rate(q: number): void;
  train_step(): number;
  /** The batched entries, present when the spec has a `batch` capacity. */
  train_samples?(n: number): number;
  train_batch?(n: number): number;
  predict_samples?(n: number): void;
}


export class Firmware {
  private constructor(
    readonly exports: ModuleExports,
    readonly manifest: Manifest,
  ) {}

  static async load(wasm: Uint8Array, manifest: Manifest): Promise<Firmware> {
    const { exports } = await instantiate<ModuleExports>(wasm, {});
    return new Firmware(exports, manifest);
  }

  /** A fresh view each time: views of a memory stay valid only until it grows. */
  private get words(): Int32Array {
    return new Int32Array(this.exports.memory.buffer);
  }

  private read(offset: number, length: number, fracBits: number): number[] {
    return Array.from(this.words.subarray(offset / 4, offset / 4 + length), (q) => fromQ(q, fracBits));
  }

  /** Checks and converts; throws QRangeError naming `what[i]`, having written nothing. */
  private quantize(values: ArrayLike<number>, length: number, fracBits: number, what: string): Int32Array {
    if (values.length !== length) {
      throw new QRangeError(`${what}: has ${values.length} values; the model takes ${length}`);
    }
    return Int32Array.from({ length }, (_, i) => toQ(values[i], fracBits, `${what}[${i}]`));
  }

  /** Writes only after every part converted, so a rejected call leaves memory as it was. */
  private writeAll(parts: { offset: number; words: Int32Array }[]): void {
    const memory = this.words;
    for (const { offset, words } of parts) memory.set(words, offset / 4);
  }

  private write(offset: number, values: ArrayLike<number>, length: number, fracBits: number, what: string): void {
    this.writeAll([{ offset, words: this.quantize(values, length, fracBits, what) }]);
  }

  setInput(values: ArrayLike<number>): void {
    const m = this.manifest;
    this.write(m.buffers.input, values, m.inputs, m.format.fracBits, "input");
  }

  setTarget(values: ArrayLike<number>): void {
    const m = this.manifest;
    this.write(m.buffers.target, values, m.outputs, m.format.fracBits, "target");
  }

  output(): number[] {
    const m = this.manifest;
    return this.read(m.buffers.output, m.outputs, m.format.fracBits);
  }

  forward(): void {
    this.exports.forward();
  }

  loss(): number {
    return fromQ(this.exports.loss(), this.manifest.loss.fracBits);
  }

  zeroGrad(): void {
    this.exports.zero_grad();
  }

  backward(): void {
    this.exports.backward();
  }

  step(): void {
    this.exports.step();
  }

  /** zero_grad, forward, backward, step; the loss before the update. */
  trainStep(): number {
    return fromQ(this.exports.train_step(), this.manifest.loss.fracBits);
  }

  setLearningRate(value: number): void {
    this.exports.set_learning_rate(toQ(value, this.manifest.learningRate.fracBits, "learningRate"));
  }

  /** Rows the batch buffer holds; 0 when the module was built without one. */
  get batchCapacity(): number {
    return this.manifest.batch?.capacity ?? 0;
  }

  private requireBatch(rows: number): NonNullable<Manifest["batch"]> {
    const batch = this.manifest.batch;
    if (!batch) throw new QRangeError(`batch: the module has no batch buffer; give the spec "batch": { "capacity": N }`);
    if (!Number.isInteger(rows) || rows < 0 || rows > batch.capacity) {
      throw new QRangeError(`batch: ${rows} rows; the module holds 0 to ${batch.capacity}`);
    }
    return batch;
  }

  /**
   * Writes already-quantized rows: row k's input (q.F) then target (q.F), as in the
   * batch buffer. For hosts that quantize a data set once; `setBatch` checks floats.
   */
  setBatchWords(words: Int32Array, rows: number): void {
    const batch = this.requireBatch(rows);
    const length = (rows * batch.rowBytes) / 4;
    if (words.length < length) throw new QRangeError(`batch: ${words.length} words for ${rows} rows of ${batch.rowBytes / 4}`);
    this.words.set(words.subarray(0, length), batch.offset / 4);
  }

  /** Writes rows of (input, target) floats into the batch buffer. */
  setBatch(inputs: ArrayLike<number>[], targets: ArrayLike<number>[]): void {
    const batch = this.requireBatch(inputs.length);
    if (targets.length !== inputs.length) {
      throw new QRangeError(`batch: ${inputs.length} inputs but ${targets.length} targets`);
    }
    const m = this.manifest;
    const F = m.format.fracBits;
    this.writeAll(
      inputs.flatMap((input, k) => {
        const row = batch.offset + k * batch.rowBytes;
        return [
          { offset: row, words: this.quantize(input, m.inputs, F, `batch[${k}].input`) },
          { offset: row + batch.targetInRow, words: this.quantize(targets[k], m.outputs, F, `batch[${k}].target`) },
        ];
      }),
    );
  }

  /** Per-sample SGD over the first `rows` rows; their mean loss before each update. */
  trainSamples(rows: number): number {
    this.requireBatch(rows);
    return fromQ(this.exports.train_samples!(rows), this.manifest.loss.fracBits);
  }

  /** One SGD step on the mean gradient of the first `rows` rows; their mean loss. */
  trainBatch(rows: number): number {
    this.requireBatch(rows);
    return fromQ(this.exports.train_batch!(rows), this.manifest.loss.fracBits);
  }

  /** Forward for the first `rows` rows; their outputs. */
  predictSamples(rows: number): number[][] {
    const batch = this.requireBatch(rows);
    this.exports.predict_samples!(rows);
    const m = this.manifest;
    return Array.from({ length: rows }, (_, k) =>
      this.read(batch.outputOffset + 4 * k * m.outputs, m.outputs, m.format.fracBits),
    );
  }

  params(): LayerWeights[] {
    return this.tensors("offset", "fracBits");
  }

  grads(): LayerWeights[] {
    return this.tensors("gradOffset", "gradFracBits");
  }

  setParams(weights: LayerWeights[]): void {
    this.writeAll(
      this.manifest.params.map((t) => {
        const values = t.kind === "weight" ? weights[t.layer]?.weight?.flat() : weights[t.layer]?.bias;
        const words = this.quantize(values ?? [], t.shape.reduce((a, b) => a * b), t.fracBits, `params[${t.layer}].${t.kind}`);
        return { offset: t.offset, words };
      }),
    );
  }

  private tensors(offset: "offset" | "gradOffset", fracBits: "fracBits" | "gradFracBits"): LayerWeights[] {
    const layers: LayerWeights[] = [];
    for (const t of this.manifest.params) {
      const flat = this.read(t[offset], t.shape.reduce((a, b) => a * b), t[fracBits]);
      const layer = (layers[t.layer] ??= { weight: [], bias: [] });
      if (t.kind === "bias") layer.bias = flat;
      else layer.weight = Array.from({ length: t.shape[0] }, (_, i) => flat.slice(i * t.shape[1], (i + 1) * t.shape[1]));
    }
    return layers;
  }

  /** Forward, loss and a fresh backward for one sample, in the float64 reference's shape. */
  trace(input: ArrayLike<number>, target: ArrayLike<number>): Trace {
    this.setInput(input);
    this.setTarget(target);
    this.forward();
    const loss = this.loss();
    this.zeroGrad();
    this.backward();
    const m = this.manifest;
    const F = m.format.fracBits;
    const G = m.gradFormat.fracBits;
    const units = layerUnits(m);
    return {
      z: m.scratch.map((s, l) => this.read(s.z, units[l], F)),
      a: m.scratch.map((s, l) => this.read(s.a, units[l], F)),
      output: this.output(),
      loss,
      dA: m.scratch.map((s, l) => this.read(s.dA, units[l], G)),
      dZ: m.scratch.map((s, l) => this.read(s.dZ, units[l], G)),
      grads: this.grads(),
    };
  }
}
