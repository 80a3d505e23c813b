// Loads a module with @assemblyscript/loader and reads and writes its buffers as
// floats, using the manifest's formats. Every write is checked: wrong lengths, NaN,
// ±Infinity and values outside the format's range are errors (QRangeError), never
// silently wrapped or saturated.

import { instantiate } from "@assemblyscript/loader";
import { fromQ, QRangeError, toQ } from "../spec/format.js";
import { layerUnits, type Manifest } from "../build/manifest.js";
import type { LayerWeights } from "../spec/model.js";
import type { Trace } from "../reference/network.js";

/**
 * ABI v1 exports: every parameter and result is an i32. What a module leaves out by
 * its training mode (manifest `training`) is optional here: a lean module has no
 * grads_ptr, zero_grad, backward, step or train_batch; an inference-only module has
 * only the pointers to input, output and params, forward and predict_samples.
 */
export interface ModuleExports extends Record<string, unknown> {
  memory: WebAssembly.Memory;
  input_ptr(): number;
  output_ptr(): number;
  target_ptr?(): number;
  params_ptr(): number;
  grads_ptr?(): number;
  forward(): void;
  loss?(): number;
  zero_grad?(): void;
  backward?(): void;
  step?(): void;
  set_learning_rate?(q: number): void;
  train_step?(): number;
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
    if (m.buffers.target === null) throw new QRangeError('target: an inference-only module ("training": "none") has no target');
    this.write(m.buffers.target, values, m.outputs, m.format.fracBits, "target");
  }

  /** An export the training mode may leave out, or an error naming the mode. */
  private entry<K extends keyof ModuleExports>(name: K): NonNullable<ModuleExports[K]> {
    const fn = this.exports[name];
    if (typeof fn !== "function") {
      throw new QRangeError(`${String(name)}: a module built with "training": "${this.manifest.training}" has no ${String(name)}()`);
    }
    return fn.bind(this.exports) as NonNullable<ModuleExports[K]>;
  }

  /** fracBits of the loss and the learning rate: the values' format. */
  private get valueFracBits(): number {
    return this.manifest.format.fracBits;
  }

  output(): number[] {
    const m = this.manifest;
    return this.read(m.buffers.output, m.outputs, m.format.fracBits);
  }

  forward(): void {
    this.exports.forward();
  }

  loss(): number {
    return fromQ(this.entry("loss")(), this.valueFracBits);
  }

  zeroGrad(): void {
    this.entry("zero_grad")();
  }

  backward(): void {
    this.entry("backward")();
  }

  step(): void {
    this.entry("step")();
  }

  /** zero_grad, forward, backward, step; the loss before the update. */
  trainStep(): number {
    return fromQ(this.entry("train_step")(), this.valueFracBits);
  }

  setLearningRate(value: number): void {
    const setter = this.entry("set_learning_rate");
    setter(toQ(value, this.valueFracBits, "learningRate"));
  }

  /** The optimizer steps the module has taken (Adam and a decay count them); null when it keeps no count. */
  stepCount(): number | null {
    const step = this.manifest.optimizer?.step;
    return step ? this.words[step.offset / 4] : null;
  }

  /** An optimizer state buffer ("velocity", "m", "v") as floats, per trainable layer; frozen layers hold NaN. */
  state(name: string): LayerWeights[] {
    const tensors = (this.manifest.optimizer?.state ?? []).filter((t) => t.name === name);
    if (tensors.length === 0) throw new QRangeError(`state: the module keeps no optimizer state "${name}"`);
    const wide = new BigInt64Array(this.exports.memory.buffer);
    return this.assemble((t) => {
      const s = tensors.find((x) => x.layer === t.layer && x.kind === t.kind);
      const length = t.shape.reduce((a, b) => a * b);
      if (!s) return new Array<number>(length).fill(NaN);
      return Array.from(wide.subarray(s.offset / 8, s.offset / 8 + length), (q) => Number(q) / 2 ** s.fracBits);
    });
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

  /** Writes rows of (input, target) floats into the batch buffer; an inference-only module's rows take no target. */
  setBatch(inputs: ArrayLike<number>[], targets?: ArrayLike<number>[]): void {
    const batch = this.requireBatch(inputs.length);
    const targetInRow = batch.targetInRow;
    if (targetInRow !== null && targets?.length !== inputs.length) {
      throw new QRangeError(`batch: ${inputs.length} inputs but ${targets?.length ?? 0} targets`);
    }
    const m = this.manifest;
    const F = m.format.fracBits;
    this.writeAll(
      inputs.flatMap((input, k) => {
        const row = batch.offset + k * batch.rowBytes;
        return [
          { offset: row, words: this.quantize(input, m.inputs, F, `batch[${k}].input`) },
          ...(targetInRow !== null
            ? [{ offset: row + targetInRow, words: this.quantize(targets![k], m.outputs, F, `batch[${k}].target`) }]
            : []),
        ];
      }),
    );
  }

  /** Per-sample training over the first `rows` rows; their mean loss before each update. */
  trainSamples(rows: number): number {
    this.requireBatch(rows);
    return fromQ(this.entry("train_samples")(rows), this.valueFracBits);
  }

  /** One optimizer step on the mean gradient of the first `rows` rows; their mean loss. */
  trainBatch(rows: number): number {
    this.requireBatch(rows);
    return fromQ(this.entry("train_batch")(rows), this.valueFracBits);
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
    return this.assemble((t) => this.read(t.offset, t.shape.reduce((a, b) => a * b), t.fracBits));
  }

  /** The grads buffer as floats; a frozen layer's tensors, which have no gradient in the module, hold NaN. */
  grads(): LayerWeights[] {
    if (this.manifest.buffers.grads === null) {
      throw new QRangeError(`grads: a module built with "training": "${this.manifest.training}" has no grads buffer`);
    }
    return this.assemble((t) => {
      const length = t.shape.reduce((a, b) => a * b);
      if (t.gradOffset === undefined || t.gradFracBits === undefined) return new Array<number>(length).fill(NaN);
      return this.read(t.gradOffset, length, t.gradFracBits);
    });
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

  /** Per layer, weight and bias from each param tensor's flat values. */
  private assemble(values: (t: Manifest["params"][number]) => number[]): LayerWeights[] {
    const layers: LayerWeights[] = [];
    for (const t of this.manifest.params) {
      const flat = values(t);
      const layer = (layers[t.layer] ??= { weight: [], bias: [] });
      if (t.kind === "bias") layer.bias = flat;
      else layer.weight = Array.from({ length: t.shape[0] }, (_, i) => flat.slice(i * t.shape[1], (i + 1) * t.shape[1]));
    }
    return layers;
  }

  /**
   * Forward, loss and a fresh backward for one sample, in the float64 reference's
   * shape. What the module does not compute is NaN: the gradients of frozen layers,
   * ∂L/∂a and ∂L/∂z below the lowest trainable layer (backward stops there), every
   * backward quantity of a lean module (it keeps no grads), and the loss too of an
   * inference-only one (it has no target; `target` is then ignored).
   */
  trace(input: ArrayLike<number>, target: ArrayLike<number>): Trace {
    const m = this.manifest;
    this.setInput(input);
    if (m.training !== "none") this.setTarget(target);
    this.forward();
    const loss = m.training === "none" ? NaN : this.loss();
    const backward = m.training === "full";
    if (backward) {
      this.zeroGrad();
      this.backward();
    }
    const F = m.format.fracBits;
    const G = m.gradFormat.fracBits;
    const units = layerUnits(m);
    const unknown = (l: number) => new Array<number>(units[l]).fill(NaN);
    const delta = (at: number | null, l: number) => (backward && at !== null ? this.read(at, units[l], G) : unknown(l));
    return {
      z: m.scratch.map((s, l) => this.read(s.z, units[l], F)),
      a: m.scratch.map((s, l) => this.read(s.a, units[l], F)),
      output: this.output(),
      loss,
      dA: m.scratch.map((s, l) => delta(s.dA, l)),
      dZ: m.scratch.map((s, l) => delta(s.dZ, l)),
      grads: backward ? this.grads() : this.assemble((t) => new Array<number>(t.shape.reduce((a, b) => a * b)).fill(NaN)),
    };
  }
}
