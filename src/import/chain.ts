// From a reader's steps to a qfirm spec: the chain of dense layers, with separate
// activations and BatchNormalization folded into the dense layer before them, the
// weights rounded to the chosen Q format (out of range: an error naming the tensor,
// its largest value and a format that holds every weight), and the loss and
// optimizer taken from the file where it records them, else the defaults. Every
// choice becomes a printed line; nothing is dropped without one.
//
// A dense layer the file marks not trainable becomes a frozen layer
// (`"trainable": false`). What is folded into it trains or stays frozen with it:
// an activation has nothing to train, and a folded BatchNormalization is part of
// the layer's weights, so the layer takes its Dense layer's flag (a line says so
// when the BatchNormalization's own flag differs).

import { formatName, parseFormat, rangeOf, toQ, fromQ } from "../spec/format.js";
import { ACTIVATIONS, type Activation, type QFormat, type Training } from "../spec/model.js";
import { DEFAULT_FORMAT, DEFAULT_LEARNING_RATE, parseSpec } from "../spec/spec.js";
import { chooseTraining, type TrainingChoice } from "./training.js";
import { ImportError, plural, type ExactRecord, type NamedTensor, type ReadModel, type Step } from "./steps.js";

export interface ChainLayer {
  units: number;
  activation: Activation;
  /** Row-major [fanIn, units]. */
  weight: NamedTensor;
  bias: NamedTensor;
  /** False when the file marks the Dense layer not trainable. */
  trainable: boolean;
}

export interface Chain {
  inputs: number;
  layers: ChainLayer[];
  lines: string[];
}

const SUPPORTED = ACTIVATIONS.join(", ");

function activationOf(name: string, where: string): Activation {
  const a = name === "" || name === "none" ? "linear" : name;
  if ((ACTIVATIONS as readonly string[]).includes(a)) return a as Activation;
  throw new ImportError(`${where}: activation "${name}" is not supported; qfirm has ${SUPPORTED}`);
}

function describeLayer(layer: ChainLayer): string {
  return `${layer.weight.shape[0]}→${layer.units}, ${layer.activation}`;
}

/** Folds the steps into dense layers (see the header). */
export function foldChain(steps: Step[]): Chain {
  const layers: (ChainLayer & { where: string })[] = [];
  const lines: string[] = [];
  let inputs = 0;
  for (const step of steps) {
    const last = layers[layers.length - 1];
    switch (step.kind) {
      case "skip":
        lines.push(`${step.where}: ${step.what}, skipped (${step.why})`);
        break;
      case "dense": {
        const [fanIn, units] = step.kernel.shape;
        if (step.kernel.shape.length !== 2) {
          throw new ImportError(`${step.where}: kernel ${step.kernel.name} has shape [${step.kernel.shape.join(", ")}]; a dense layer's is [inputs, units]`);
        }
        if (last && last.activation === "softmax") {
          throw new ImportError(`${step.where}: a layer after softmax; qfirm takes softmax on the last layer only`);
        }
        if (last && last.units !== fanIn) {
          throw new ImportError(`${step.where}: takes ${plural(fanIn, "input")} but the layer before has ${plural(last.units, "unit")}`);
        }
        if (!last) inputs = fanIn;
        const bias = step.bias ?? { name: "(no bias: zeros)", shape: [units], values: new Float64Array(units) };
        if (bias.values.length !== units) {
          throw new ImportError(`${step.where}: bias ${bias.name} has ${plural(bias.values.length, "value")}; the layer has ${plural(units, "unit")}`);
        }
        const trainable = step.trainable !== false;
        const layer = { where: step.where, units, activation: activationOf(step.activation, step.where), weight: step.kernel, bias, trainable };
        layers.push(layer);
        lines.push(`${step.where}: Dense ${describeLayer(layer)}${step.bias ? "" : " (no bias)"}`);
        if (!trainable) lines.push(`${step.where}: not trainable: the spec's layers[${layers.length - 1}] is frozen ("trainable": false)`);
        break;
      }
      case "activation": {
        const activation = activationOf(step.activation, step.where);
        if (!last) throw new ImportError(`${step.where}: activation ${activation} before any dense layer; qfirm imports chains of dense layers`);
        if (activation === "linear") {
          lines.push(`${step.where}: linear activation, skipped (changes nothing)`);
          break;
        }
        if (last.activation !== "linear") {
          throw new ImportError(`${step.where}: ${activation} after ${last.activation} cannot be folded; qfirm has one activation per dense layer`);
        }
        last.activation = activation;
        lines.push(`${step.where}: ${activation}, folded into ${last.where}`);
        break;
      }
      case "batchnorm": {
        if (!last) throw new ImportError(`${step.where}: BatchNormalization before any dense layer; qfirm folds it into the dense layer it follows`);
        if (last.activation !== "linear") {
          throw new ImportError(`${step.where}: BatchNormalization after ${last.activation} cannot be folded into ${last.where}; only after a linear dense layer`);
        }
        foldBatchNorm(last, step);
        lines.push(`${step.where}: BatchNormalization (inference statistics, epsilon ${step.epsilon}), folded into ${last.where}'s weights and bias`);
        if ((step.trainable !== false) !== last.trainable) {
          lines.push(
            `${step.where}: ${step.trainable === false ? "not trainable" : "trainable"}, but folded into ${last.where}, which ${last.trainable ? "trains: the folded layer trains whole" : "is frozen: the folded layer stays frozen"}`,
          );
        }
        break;
      }
    }
  }
  if (layers.length === 0) throw new ImportError("the model has no dense layer; qfirm imports chains of dense layers");
  if (layers.every((layer) => !layer.trainable)) {
    // A spec that trains needs one trainable layer; an inference-only build ignores the flags anyway.
    for (const layer of layers) layer.trainable = true;
    lines.push("every dense layer is marked not trainable; a spec that trains needs one, so all are written trainable (qfirm build --inference-only builds a module that only infers)");
  }
  return { inputs, layers: layers.map(({ where: _, ...layer }) => layer), lines };
}

/**
 * y = γ (z − μ) / √(σ² + ε) + β with z = x·W + b: per unit j, W'[i][j] = s_j W[i][j]
 * and b'_j = s_j (b_j − μ_j) + β_j, s_j = γ_j / √(σ²_j + ε). Exact in float64 up to
 * rounding; the values are rounded to the Q format afterwards like any weight.
 */
function foldBatchNorm(layer: ChainLayer, bn: Extract<Step, { kind: "batchnorm" }>): void {
  const units = layer.units;
  for (const t of [bn.gamma, bn.beta, bn.mean, bn.variance]) {
    if (t && t.values.length !== units) {
      throw new ImportError(`${bn.where}: ${t.name} has ${plural(t.values.length, "value")}; the layer before has ${plural(units, "unit")}`);
    }
  }
  const fanIn = layer.weight.shape[0];
  const weight = new Float64Array(layer.weight.values);
  const bias = new Float64Array(units);
  for (let j = 0; j < units; j++) {
    const gamma = bn.gamma ? bn.gamma.values[j] : 1;
    const beta = bn.beta ? bn.beta.values[j] : 0;
    const variance = bn.variance.values[j];
    if (!(variance + bn.epsilon > 0)) throw new ImportError(`${bn.where}: ${bn.variance.name}[${j}] is ${variance}; variance + epsilon must be > 0`);
    const s = gamma / Math.sqrt(variance + bn.epsilon);
    for (let i = 0; i < fanIn; i++) weight[i * units + j] *= s;
    bias[j] = s * (layer.bias.values[j] - bn.mean.values[j]) + beta;
  }
  layer.weight = { name: `${layer.weight.name} (BatchNormalization folded in)`, shape: layer.weight.shape, values: weight };
  layer.bias = { name: `${layer.bias.name} (BatchNormalization folded in)`, shape: [units], values: bias };
}

// ---- Q format: rounding and the range check ----

function largestMagnitude(values: Float64Array): { value: number; index: number } {
  let index = 0;
  for (let k = 1; k < values.length; k++) if (!(Math.abs(values[k]) <= Math.abs(values[index]))) index = k;
  return { value: values[index], index };
}

/** The format with the most fraction bits whose range holds every value (rounded), or undefined. */
export function formatHolding(largest: number): QFormat | undefined {
  for (let fracBits = 30; fracBits >= 1; fracBits--) {
    try {
      toQ(largest, fracBits);
      toQ(-largest, fracBits);
      return { bits: 32, fracBits };
    } catch {
      // does not fit; one fraction bit fewer doubles the range
    }
  }
  return undefined;
}

function rangeText(format: QFormat): string {
  const { min } = rangeOf(format.fracBits);
  return `[${min}, ${-min})`;
}

/** Every weight as its Q value; an error names the worst tensor when one does not fit. */
function quantizeAll(chain: Chain, format: QFormat): Int32Array[] {
  const tensors = chain.layers.flatMap((l) => [l.weight, l.bias]);
  for (const t of tensors) {
    const k = t.values.findIndex((v) => !Number.isFinite(v));
    if (k >= 0) throw new ImportError(`${t.name}: value [${k}] is ${t.values[k]}, not a finite number`);
  }
  const out: Int32Array[] = [];
  let worst: { tensor: NamedTensor; value: number } | undefined;
  for (const t of tensors) {
    try {
      out.push(Int32Array.from(t.values, (v) => toQ(v, format.fracBits)));
    } catch {
      const { value } = largestMagnitude(t.values);
      if (!worst || Math.abs(value) > Math.abs(worst.value)) worst = { tensor: t, value };
    }
  }
  if (worst) {
    const overall = Math.max(...tensors.map((t) => Math.abs(largestMagnitude(t.values).value)));
    const holding = formatHolding(overall);
    const hint = holding
      ? `--format ${formatName(holding)} holds every weight (range ${rangeText(holding)})`
      : "no 32-bit Q format holds it";
    throw new ImportError(
      `${worst.tensor.name}: largest value ${worst.value} is outside the range of ${formatName(format)} ${rangeText(format)}; ${hint}`,
    );
  }
  return out;
}

// ---- The spec ----

export interface ImportOptions {
  /** Overrides the name from the file. */
  name?: string;
  /** qI.F; default q8.24, or the format `qfirm export` recorded. */
  format?: string;
  /** The name to use when neither the option nor the file gives one. */
  fallbackName: string;
}

export interface Imported {
  spec: Record<string, unknown>;
  lines: string[];
}

/** A spec name from any text: letters, digits, '_' and '-', starting with a letter, ≤ 64 characters. */
export function specName(text: string): string {
  let name = text.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^[^A-Za-z]+/, "");
  if (name === "") name = "imported";
  return name.slice(0, 64);
}

function floatOf(q: Int32Array, fracBits: number): number[] {
  return Array.from(q, (k) => fromQ(k, fracBits));
}

/** Every exported Q value, as float32, equals the float32 weight the file holds. */
function exactMatches(exact: Int32Array, chain: Chain, fracBits: number): boolean {
  const stored = chain.layers.flatMap((l) => [...l.weight.values, ...l.bias.values]);
  return stored.length === exact.length && stored.every((v, k) => Math.fround(fromQ(exact[k], fracBits)) === v);
}

/** Training, loss, optimizer and frozen layers as the record holds them (version 1 records have loss and learning rate only). */
function recordedTraining(exact: ExactRecord, chain: Chain): { training: Training; loss?: TrainingChoice["loss"]; optimizer?: Record<string, unknown>; trainable: boolean[] } {
  const r = exact.spec as { training?: Training; loss?: TrainingChoice["loss"]; optimizer?: Record<string, unknown>; trainable?: boolean[] };
  const training = r.training ?? "full";
  if (training === "none") return { training, trainable: chain.layers.map(() => true) };
  if (r.trainable && r.trainable.length !== chain.layers.length) {
    throw new ImportError(`the qfirm record has ${plural(r.trainable.length, "trainable flag")} for ${plural(chain.layers.length, "layer")}`);
  }
  return {
    training,
    loss: r.loss ?? { type: "l2" },
    optimizer: r.optimizer ?? { type: "sgd", learningRate: DEFAULT_LEARNING_RATE },
    trainable: r.trainable ?? chain.layers.map(() => true),
  };
}

function recordedText(training: Training, loss: TrainingChoice["loss"] | undefined, optimizer: Record<string, unknown> | undefined, trainable: boolean[]): string {
  if (training === "none") return "inference only";
  const o = optimizer ?? {};
  const constants = Object.entries(o).filter(([k]) => k !== "type" && k !== "decay").map(([k, v]) => `${k} ${v}`).join(", ");
  const decay = o.decay ? `, decay ${JSON.stringify(o.decay)}` : "";
  const frozen = trainable.flatMap((t, i) => (t ? [] : [i]));
  return `training ${training}, loss ${loss?.type}, ${String(o.type)} (${constants})${decay}${frozen.length ? `, ${frozen.length === 1 ? "layer" : "layers"} ${frozen.join(", ")} frozen` : ""}`;
}

export function buildSpec(read: ReadModel, options: ImportOptions): Imported {
  const chain = foldChain(read.steps);
  const lines = [`read ${read.description}`, ...read.notes, ...chain.lines];

  let exact = read.exact;
  if (exact && options.format !== undefined && options.format !== exact.format) {
    lines.push(`qfirm export recorded exact ${exact.format} values; --format ${options.format} takes the weights instead`);
    exact = undefined;
  }
  const formatText = options.format ?? exact?.format ?? DEFAULT_FORMAT;
  const format = parseFormat(formatText);
  if (typeof format === "string") throw new ImportError(`--format: ${format}`);
  if (exact && !exactMatches(exact.params, chain, format.fracBits)) {
    lines.push(`qfirm export recorded exact ${exact.format} values, but the weights have changed since: the weights are used`);
    exact = undefined;
  }

  let params: Int32Array[];
  let training: Training = "full";
  let loss: TrainingChoice["loss"] | undefined;
  let optimizer: Record<string, unknown> | undefined;
  let trainable = chain.layers.map((l) => l.trainable);
  if (exact) {
    let k = 0;
    params = chain.layers.flatMap((l) => [l.weight, l.bias]).map((t) => exact!.params.slice(k, (k += t.values.length)));
    lines.push(`weights: the exact ${formatName(format)} values qfirm export recorded (each matches the file's float32 weight)`);
    ({ training, loss, optimizer, trainable } = recordedTraining(exact, chain));
    lines.push(`training: as qfirm export recorded it (${recordedText(training, loss, optimizer, trainable)})`);
  } else {
    params = quantizeAll(chain, format);
    const worst = Math.max(
      0,
      ...chain.layers.flatMap((l, i) => [l.weight, l.bias].map((t, b) => Math.max(0, ...t.values.map((v, k) => Math.abs(v - fromQ(params[2 * i + b][k], format.fracBits)))))),
    );
    lines.push(`weights: rounded to ${formatName(format)} (half away from zero); largest rounding ${worst.toPrecision(2)} (${(worst * 2 ** format.fracBits).toFixed(2)} LSB)`);
    const choice = chooseTraining(read.training, chain);
    ({ loss, optimizer } = choice);
    lines.push(...choice.lines);
  }

  const name = options.name ?? (exact?.spec.name as string | undefined) ?? specName(read.name ?? options.fallbackName);
  const trains = training !== "none";
  const spec: Record<string, unknown> = {
    name,
    format: formatName(format),
    ...(trains && exact?.spec.gradFormat !== undefined ? { gradFormat: exact.spec.gradFormat } : {}),
    inputs: chain.inputs,
    layers: chain.layers.map((l, i) => ({ units: l.units, activation: l.activation, ...(trains && !trainable[i] ? { trainable: false } : {}) })),
    ...(trains ? { loss, optimizer } : {}),
    ...(training !== "full" ? { training } : {}),
    ...(exact?.spec.lut !== undefined ? { lut: exact.spec.lut } : {}),
    ...(exact?.spec.batch !== undefined ? { batch: exact.spec.batch } : {}),
    weights: chain.layers.map((l, i) => {
      const w = floatOf(params[2 * i], format.fracBits);
      return {
        weight: Array.from({ length: l.weight.shape[0] }, (_, r) => w.slice(r * l.units, (r + 1) * l.units)),
        bias: floatOf(params[2 * i + 1], format.fracBits),
      };
    }),
  };
  parseSpec(spec); // the spec's own checks (learning rate ≥ 1 LSB, name, memory): a SpecError is exit 2 too
  return { spec, lines };
}
