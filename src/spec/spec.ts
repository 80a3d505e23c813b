// Spec v1: parse, validate and normalize a JSON spec into a Model.
//
// Two passes. The JSON Schema (SPEC_SCHEMA, checked by ajv) settles every field's
// type, range and spelling; the semantic pass then checks what a schema cannot:
// shapes against `inputs` and `layers`, values against the Q format, the
// activation/loss pairings and the memory budget. Either pass throws the FIRST
// problem as a one-line SpecError naming the field, e.g.
// `layers[1].activation: "swish" is not one of sigmoid, tanh, relu, linear, softmax`.
//
// Everything here is linear in the size of the spec: a weights array of many
// megabytes is walked once by ajv and once by the range check, and an error message
// only ever previews a few values of it.

import { Ajv, type ErrorObject, type SchemaObject } from "ajv";
import { lineColumn, locateJson } from "./json_locate.js";
import { formatName, lsb, parseFormat, rangeOf, rangeText, toQ } from "./format.js";
import {
  ACTIVATIONS,
  DEFAULT_HUBER_DELTA,
  LOSSES,
  TRAINING_MODES,
  type Decay,
  type LayerWeights,
  type Model,
  type Optimizer,
  type QFormat,
  type Sample,
  type Training,
  velocityHeadroomBits,
} from "./model.js";

/** Line breaks JSON.stringify leaves raw (and any other), escaped: a message stays one line. */
function oneLine(text: string): string {
  return text.replace(/[\n\r\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export class SpecError extends Error {
  override name = "SpecError";
  /** Where: `layers[1].activation`, `weights[0].weight[2][1]`, `(root)`, `(json)`. */
  readonly path: string;
  /** What is wrong, one line. */
  readonly problem: string;

  constructor(path: string, problem: string) {
    super(`${oneLine(path)}: ${oneLine(problem)}`);
    this.path = oneLine(path);
    this.problem = oneLine(problem);
  }
}

export const DEFAULT_FORMAT = "q8.24";
export const DEFAULT_LOSS = { type: "l2" } as const;
export { DEFAULT_HUBER_DELTA } from "./model.js";
export const DEFAULT_LEARNING_RATE = 0.01;
/** Momentum 0 is plain SGD, bit for bit the module of a spec without the field. */
export const DEFAULT_MOMENTUM = 0;
/** Kingma & Ba's β1 and β2; ε as TF.js and Keras default it. */
export const DEFAULT_ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;
export const DEFAULT_TRAINING: Training = "full";
/** Optimizer constants (momentum, β1, β2, decay rates) are held in q1.31 by the kernels. */
export const OPTIMIZER_CONSTANT_FRAC_BITS = 31;
/**
 * 1 KiB of table. Range 12 puts the saturation step (1 − tanh 12 ≈ 8e-11) below the
 * interpolation error: `qfirm lut-error` measures 5.7e-8 (sigmoid) and 8.3e-8 (tanh) in q8.24.
 */
/** No batch buffer and no batched entries unless the spec asks: nothing unused in the module. */
export const DEFAULT_BATCH_CAPACITY = 0;
export const DEFAULT_LUT = { entries: 256, range: 12 } as const;
/**
 * Gradients get 4 more fraction bits than the values (at most 30): a per-sample
 * gradient is a product of activations and derivatives ≤ 1, so it is smaller than
 * the values it comes from. In the documented example the smallest gradient,
 * 2.8e-5, is then 7,500 LSBs of q4.28 instead of 470 of q8.24.
 */
export const GRAD_EXTRA_FRAC_BITS = 4;
/** 1024 wasm pages: what the generated module may ask for, and what small hosts can give. */
export const MAX_MEMORY_BYTES = 64 * 1024 * 1024;
/** Words of memory the module needs beyond its tensors (stack, scratch, alignment). */
const MEMORY_SLACK_WORDS = 1024;

const NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_-]{0,63}$";
const FORMAT_PATTERN = "^q[0-9]+\\.[0-9]+$";
/** What a failed `pattern` means, in words; keyed by the pattern. */
const PATTERN_PROBLEMS: Record<string, string> = {
  [NAME_PATTERN]: "is not a name: a letter, then at most 63 letters, digits, '_' or '-'",
  [FORMAT_PATTERN]: 'is not a format like "q8.24"',
};

const numberArray = { type: "array", items: { type: "number" } };

/** JSON Schema (draft-07) of spec v1. The semantic checks in parseSpec come on top of it. */
export const SPEC_SCHEMA: SchemaObject = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "qfirm spec, version 1",
  type: "object",
  additionalProperties: false,
  required: ["name", "inputs", "layers"],
  properties: {
    name: {
      description: "Names the module and its files; usable as a C identifier prefix ('-' becomes '_').",
      type: "string",
      pattern: NAME_PATTERN,
    },
    format: {
      description: `qI.F for inputs, outputs, activations and params: I + F = 32, F from 1 to 30. Default "${DEFAULT_FORMAT}".`,
      type: "string",
      pattern: FORMAT_PATTERN,
    },
    gradFormat: {
      description: `qI.F for gradients and backward-pass deltas. Default: format with ${GRAD_EXTRA_FRAC_BITS} more fraction bits, at most 30.`,
      type: "string",
      pattern: FORMAT_PATTERN,
    },
    inputs: { description: "Number of inputs.", type: "integer", minimum: 1 },
    layers: {
      description: "Dense layers, input to output.",
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["units", "activation"],
        properties: {
          units: { description: "Number of units (outputs) of the layer.", type: "integer", minimum: 1 },
          activation: {
            description: '"softmax" only on the last layer, with loss "cross_entropy".',
            type: "string",
            enum: [...ACTIVATIONS],
          },
          trainable: {
            description: "false freezes the layer: no gradient storage, no update. Default true.",
            type: "boolean",
          },
        },
      },
    },
    loss: {
      description: 'Per-sample loss, summed over the outputs. Default { "type": "l2" }.',
      type: "object",
      additionalProperties: false,
      required: ["type"],
      properties: {
        type: { type: "string", enum: [...LOSSES] },
        delta: {
          description: `Huber only: where the loss turns from quadratic to linear. Default ${DEFAULT_HUBER_DELTA}.`,
          type: "number",
          exclusiveMinimum: 0,
        },
      },
    },
    optimizer: {
      description: `Default { "type": "sgd", "learningRate": ${DEFAULT_LEARNING_RATE} }.`,
      type: "object",
      additionalProperties: false,
      required: ["type", "learningRate"],
      properties: {
        type: { type: "string", enum: ["sgd", "adam"] },
        learningRate: { description: "At least one LSB of format.", type: "number", exclusiveMinimum: 0 },
        momentum: {
          description: `sgd only: v ← μ·v + g; p ← p − η·v. Default ${DEFAULT_MOMENTUM} (plain SGD).`,
          type: "number",
          minimum: 0,
          exclusiveMaximum: 1,
        },
        beta1: { description: `adam only. Default ${DEFAULT_ADAM.beta1}.`, type: "number", minimum: 0, exclusiveMaximum: 1 },
        beta2: { description: `adam only. Default ${DEFAULT_ADAM.beta2}.`, type: "number", minimum: 0, exclusiveMaximum: 1 },
        epsilon: { description: `adam only. Default ${DEFAULT_ADAM.epsilon}.`, type: "number", exclusiveMinimum: 0, maximum: 1 },
        decay: {
          description: "Learning rate at optimizer step t (from 0): η·rate^(t/steps) (exponential) or η·rate^⌊t/steps⌋ (step). Default: none.",
          type: "object",
          additionalProperties: false,
          required: ["type", "rate", "steps"],
          properties: {
            type: { type: "string", enum: ["exponential", "step"] },
            rate: { type: "number", exclusiveMinimum: 0, maximum: 1 },
            steps: { type: "integer", minimum: 1, maximum: 2147483647 },
          },
        },
      },
    },
    training: {
      description: `"full": grads buffer and every training entry; "lean": per-sample training fused into backward, no grads buffer; "none": inference only. Default "${DEFAULT_TRAINING}".`,
      type: "string",
      enum: [...TRAINING_MODES],
    },
    lut: {
      description: `Sigmoid and tanh tables: entries values of tanh on [0, range]; range / (entries − 1) ≤ 1. Default ${JSON.stringify(DEFAULT_LUT)}.`,
      type: "object",
      additionalProperties: false,
      required: ["entries", "range"],
      properties: {
        entries: { type: "integer", minimum: 8, maximum: 4096 },
        range: { type: "number", exclusiveMinimum: 0, maximum: 32 },
      },
    },
    weights: {
      description: "One entry per layer; weight[i][j] from input i to unit j (fanIn × units), bias[j]. Exclusive with init.",
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["weight", "bias"],
        properties: {
          weight: { type: "array", items: numberArray },
          bias: numberArray,
        },
      },
    },
    init: {
      description: "Seeded Glorot-uniform initialisation (see initWeights). Exclusive with weights.",
      type: "object",
      additionalProperties: false,
      required: ["seed"],
      properties: { seed: { type: "integer", minimum: 0, maximum: 4294967295 } },
    },
    batch: {
      description: "Rows the module's batch buffer holds; adds the batched entries train_samples, train_batch, predict_samples. Default: none.",
      type: "object",
      additionalProperties: false,
      required: ["capacity"],
      properties: { capacity: { type: "integer", minimum: 1, maximum: 65536 } },
    },
    sample: {
      description: "One input and its target, for `qfirm check` and the module's initial buffers (an inference-only spec may leave the target out).",
      type: "object",
      additionalProperties: false,
      required: ["input"],
      properties: { input: numberArray, target: numberArray },
    },
  },
  oneOf: [{ required: ["weights"] }, { required: ["init"] }],
};

/** The spec as the schema guarantees it, before defaults. */
interface RawSpec {
  name: string;
  format?: string;
  gradFormat?: string;
  inputs: number;
  layers: { units: number; activation: Model["layers"][number]["activation"]; trainable?: boolean }[];
  loss?: { type: Model["loss"]["type"]; delta?: number };
  optimizer?: RawOptimizer;
  training?: Training;
  lut?: { entries: number; range: number };
  weights?: LayerWeights[];
  init?: { seed: number };
  batch?: { capacity: number };
  sample?: { input: number[]; target?: number[] };
}

interface RawOptimizer {
  type: "sgd" | "adam";
  learningRate: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  decay?: Decay;
}

type Validate = ReturnType<Ajv["compile"]>;
let validators: { spec: Validate; fields: Validate } | undefined;

function validateSchema(value: unknown): void {
  validators ??= compileValidators();
  if (validators.spec(value)) return;
  let errors = validators.spec.errors ?? [];
  // ajv checks the root oneOf (weights or init) before the type and the fields, so
  // `[]` would pass both branches and `{}` would first lack "weights". Field errors
  // come first; only a spec that is otherwise valid hears about weights/init.
  if (errors.some((e) => e.schemaPath.startsWith("#/oneOf")) && !validators.fields(value)) {
    errors = validators.fields.errors ?? [];
  }
  const error = errors.find((e) => e.keyword === "oneOf") ?? errors[0];
  if (!error) throw new SpecError("(root)", "is not a valid spec");
  throw schemaError(error);
}

function compileValidators(): { spec: Validate; fields: Validate } {
  // verbose: errors carry the failing value and its schema, for the messages below.
  // strictRequired is off because the root oneOf names properties declared beside it.
  const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, strictRequired: false });
  const { oneOf: _, ...fieldsOnly } = SPEC_SCHEMA;
  return { spec: ajv.compile(SPEC_SCHEMA), fields: ajv.compile(fieldsOnly) };
}

export function parseSpecText(text: string, source?: string): Model {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw jsonError(text.replace(/^\uFEFF/, ""), e instanceof Error ? e.message : String(e), source);
  }
  return parseSpec(value);
}

export function parseSpec(value: unknown): Model {
  validateSchema(value);
  const spec = value as RawSpec;

  const format = formatField("format", spec.format ?? DEFAULT_FORMAT);
  const gradFormat =
    spec.gradFormat === undefined
      ? { bits: 32 as const, fracBits: Math.min(format.fracBits + GRAD_EXTRA_FRAC_BITS, 30) }
      : formatField("gradFormat", spec.gradFormat);

  const training = spec.training ?? DEFAULT_TRAINING;
  if (training === "none") checkNoTrainingFields(spec);
  const layers = spec.layers.map(({ units, activation, trainable }) => ({ units, activation, trainable: trainable ?? true }));
  if (training !== "none" && !layers.some((layer) => layer.trainable)) {
    throw new SpecError(
      "layers",
      'every layer has "trainable": false, so nothing would train; make one trainable, or build an inference-only module ("training": "none")',
    );
  }
  const loss = spec.loss ? { ...spec.loss } : { ...DEFAULT_LOSS };
  if (training !== "none") checkPairings(layers, loss);
  if (loss.type === "huber") {
    loss.delta ??= DEFAULT_HUBER_DELTA;
    checkAtLeastOneLsb("loss.delta", loss.delta, format);
  }

  const lut = spec.lut ? { ...spec.lut } : { ...DEFAULT_LUT };
  const spacing = lut.range / (lut.entries - 1);
  if (spacing > 1) {
    // The table step h is held in q2.30 by the kernels, and interpolation over
    // steps wider than 1 is too coarse anyway.
    throw new SpecError(
      "lut.entries",
      `${lut.entries} entries over [0, ${lut.range}] are ${approx(spacing)} apart; range / (entries − 1) must be ≤ 1, so use at least ${Math.ceil(lut.range) + 1} entries`,
    );
  }

  const optimizer = optimizerOf(spec.optimizer, training, format, gradFormat);
  const learningRate = optimizer.learningRate;

  const inputs = spec.inputs;
  const batchCapacity = spec.batch?.capacity ?? DEFAULT_BATCH_CAPACITY;
  checkMemory(inputs, layers, batchCapacity, training, optimizer);

  const shape = { inputs, layers };
  let weights: LayerWeights[];
  if (spec.weights) {
    checkWeightShapes(spec.weights, shape);
    spec.weights.forEach((w, l) => {
      w.weight.forEach((row, i) => checkValues(row, format, () => `weights[${l}].weight[${i}]`));
      checkValues(w.bias, format, () => `weights[${l}].bias`);
    });
    weights = spec.weights.map((w) => ({ weight: w.weight.map((row) => row.slice()), bias: w.bias.slice() }));
  } else {
    weights = initWeights(shape, spec.init!.seed);
  }

  const model: Model = {
    name: spec.name, format, gradFormat, inputs, layers, loss, learningRate, optimizer, training, lut, batchCapacity, weights,
  };
  if (spec.sample) model.sample = checkSample(spec.sample, shape, loss.type, format, training);
  return model;
}

// ---- Deterministic initialisation ----

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): state s starts at `seed`; each draw
 * does s ← s + 0x6D2B79F5 (mod 2^32), t ← s; t ← (t ⊕ t≫15)·(t | 1);
 * t ← t ⊕ (t + (t ⊕ t≫7)·(t | 61)); returns ((t ⊕ t≫14) mod 2^32) / 2^32, in [0, 1).
 * (Products are Math.imul, i.e. mod 2^32.)
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `"init": { "seed": N }`: Glorot (Xavier) uniform weights, zero biases. One
 * mulberry32(N) stream; draws u in params order (layer by layer, weight row-major:
 * weight[i][j] before weight[i][j+1]; biases take no draw);
 * weight[i][j] = (2u − 1) · a with a = sqrt(6 / (fanIn + units)) for that layer.
 * The values are float64; like spec weights, they are rounded to `format` downstream.
 * |w| < a ≤ sqrt(3), so every format holds them.
 */
export function initWeights(shape: { inputs: number; layers: { units: number }[] }, seed: number): LayerWeights[] {
  const next = mulberry32(seed);
  return shape.layers.map((layer, l) => {
    const fanIn = l === 0 ? shape.inputs : shape.layers[l - 1].units;
    const a = Math.sqrt(6 / (fanIn + layer.units));
    const weight = Array.from({ length: fanIn }, () => Array.from({ length: layer.units }, () => (2 * next() - 1) * a));
    return { weight, bias: new Array<number>(layer.units).fill(0) };
  });
}

// ---- Semantic checks ----

function formatField(path: string, text: string): QFormat {
  const parsed = parseFormat(text);
  if (typeof parsed === "string") throw new SpecError(path, parsed);
  return parsed;
}

function checkPairings(layers: Model["layers"], loss: { type: string; delta?: number }): void {
  const last = layers.length - 1;
  layers.forEach((layer, l) => {
    if (layer.activation !== "softmax") return;
    if (l !== last) {
      throw new SpecError(`layers[${l}].activation`, `"softmax" is only allowed on the last layer (layers[${last}])`);
    }
    if (loss.type !== "cross_entropy") {
      throw new SpecError(`layers[${l}].activation`, `"softmax" needs loss.type "cross_entropy", got "${loss.type}"`);
    }
    if (layer.units < 2) {
      throw new SpecError(`layers[${l}].units`, `softmax over ${layer.units} unit is always 1 and cannot learn; needs at least 2 units`);
    }
  });
  if (loss.type === "cross_entropy" && layers[last].activation !== "softmax") {
    throw new SpecError("loss.type", `"cross_entropy" needs activation "softmax" on the last layer (layers[${last}])`);
  }
  if (loss.delta !== undefined && loss.type !== "huber") {
    throw new SpecError("loss.delta", `only loss "huber" takes a delta, not "${loss.type}"`);
  }
}

/** The fields that only training uses; an inference-only spec names none of them. */
function checkNoTrainingFields(spec: RawSpec): void {
  const why = 'has no use in an inference-only module ("training": "none"); remove it';
  if (spec.optimizer !== undefined) throw new SpecError("optimizer", why);
  if (spec.loss !== undefined) throw new SpecError("loss", why);
  if (spec.gradFormat !== undefined) throw new SpecError("gradFormat", why);
  const frozen = spec.layers.findIndex((layer) => layer.trainable !== undefined);
  if (frozen >= 0) throw new SpecError(`layers[${frozen}].trainable`, why);
}

const SGD_ONLY = ["momentum"] as const;
const ADAM_ONLY = ["beta1", "beta2", "epsilon"] as const;

/** The optimizer with its defaults, after the checks a schema cannot make. */
function optimizerOf(raw: RawOptimizer | undefined, training: Training, format: QFormat, gradFormat: QFormat): Optimizer {
  const given = raw ?? { type: "sgd" as const, learningRate: DEFAULT_LEARNING_RATE };
  // An inference-only module has no optimizer (checkNoTrainingFields): the default is never used.
  if (training === "none") return { type: "sgd", learningRate: given.learningRate, momentum: DEFAULT_MOMENTUM };
  const foreign = given.type === "sgd" ? ADAM_ONLY : SGD_ONLY;
  const misplaced = foreign.find((key) => given[key] !== undefined);
  if (misplaced !== undefined) {
    throw new SpecError(`optimizer.${misplaced}`, `only ${given.type === "sgd" ? '"adam"' : '"sgd"'} takes ${misplaced}, not "${given.type}"`);
  }
  checkAtLeastOneLsb("optimizer.learningRate", given.learningRate, format);
  if (given.decay) checkOptimizerConstant("optimizer.decay.rate", given.decay.rate, false);
  const decay = given.decay ? { decay: { ...given.decay } } : {};
  if (given.type === "sgd") {
    const momentum = given.momentum ?? DEFAULT_MOMENTUM;
    if (momentum > 0) {
      checkOptimizerConstant("optimizer.momentum", momentum, true);
      // The velocity (assembly/momentum.ts) keeps 31 − h more fraction bits than the gradients; h ≤ G keeps it at least 31.
      const headroom = velocityHeadroomBits(momentum);
      if (headroom > gradFormat.fracBits) {
        throw new SpecError(
          "optimizer.momentum",
          `${short(momentum)} lets the velocity grow to 2^${headroom} gradients, more than gradFormat ${formatName(gradFormat)} has fraction bits (${gradFormat.fracBits}); use a smaller momentum or a gradFormat with at least ${headroom} fraction bits`,
        );
      }
    }
    if (momentum > 0 && training === "lean") {
      throw new SpecError(
        "optimizer.momentum",
        'training "lean" fuses a plain SGD step into backward and keeps no velocity; use momentum 0 or training "full"',
      );
    }
    return { type: "sgd", learningRate: given.learningRate, momentum, ...decay };
  }
  if (training === "lean") {
    throw new SpecError(
      "optimizer.type",
      '"adam" keeps two moments per parameter from the gradients; training "lean" takes plain SGD: use training "full"',
    );
  }
  const beta1 = given.beta1 ?? DEFAULT_ADAM.beta1;
  const beta2 = given.beta2 ?? DEFAULT_ADAM.beta2;
  if (beta1 > 0) checkOptimizerConstant("optimizer.beta1", beta1, true);
  if (beta2 > 0) checkOptimizerConstant("optimizer.beta2", beta2, true);
  return { type: "adam", learningRate: given.learningRate, beta1, beta2, epsilon: given.epsilon ?? DEFAULT_ADAM.epsilon, ...decay };
}

/**
 * A constant in [0, 1] the kernels hold in q1.31: it must not round to 0, and, where
 * `belowOne`, not round up to 1 either (momentum and betas < 1 keep the state bounded).
 */
function checkOptimizerConstant(path: string, value: number, belowOne: boolean): void {
  const q = Math.round(value * 2 ** OPTIMIZER_CONSTANT_FRAC_BITS);
  if (q === 0) throw new SpecError(path, `${short(value)} rounds to 0 in q1.31; use 0 or at least ${approx(2 ** -31)}`);
  if (belowOne && q >= 2 ** OPTIMIZER_CONSTANT_FRAC_BITS) {
    throw new SpecError(path, `${short(value)} rounds to 1 in q1.31; the most is ${1 - 2 ** -31}`);
  }
}

/** A constant the kernels multiply by: it must fit the format and not round to zero. */
function checkAtLeastOneLsb(path: string, value: number, format: QFormat): void {
  checkValue(value, format, () => path);
  if (value < lsb(format.fracBits)) {
    throw new SpecError(
      path,
      `${short(value)} is less than one LSB of ${formatName(format)} (${approx(lsb(format.fracBits))})`,
    );
  }
}

/**
 * Every tensor, its gradient and optimizer state where the module keeps them, the
 * buffers and slack, in i32 words, against MAX_MEMORY_BYTES.
 */
function checkMemory(inputs: number, layers: Model["layers"], batchCapacity: number, training: Training, optimizer: Optimizer): void {
  let params = 0;
  let trained = 0;
  let units = 0;
  let biggest = 0;
  let biggestAt = 0;
  layers.forEach((layer, l) => {
    const fanIn = l === 0 ? inputs : layers[l - 1].units;
    const count = (fanIn + 1) * layer.units;
    params += count;
    if (layer.trainable !== false) trained += count;
    units += layer.units;
    if (count > biggest) [biggest, biggestAt] = [count, l];
  });
  // Grads (full training only); momentum's velocity is an i64 per parameter, Adam's two moments too.
  const stateWords = optimizer.type === "adam" ? 4 : optimizer.momentum > 0 ? 2 : 0;
  const perTrained = training === "full" ? 1 + stateWords : 0;
  const outputs = layers[layers.length - 1].units;
  const batchWords = batchCapacity * (inputs + 2 * outputs);
  const modelWords = params + trained * perTrained + inputs + 4 * units + outputs + MEMORY_SLACK_WORDS;
  const bytes = (modelWords + batchWords) * 4;
  if (bytes > MAX_MEMORY_BYTES && modelWords * 4 <= MAX_MEMORY_BYTES) {
    throw new SpecError(
      "batch.capacity",
      `${grouped(batchCapacity)} rows of ${grouped(inputs + 2 * outputs)} values need ${mib(batchWords * 4)}; with the model that exceeds ${mib(MAX_MEMORY_BYTES)} (1024 wasm pages)`,
    );
  }
  if (bytes > MAX_MEMORY_BYTES) {
    const what = perTrained > 1 ? "params, their gradients and optimizer state" : perTrained === 1 ? "params and their gradients" : "params";
    throw new SpecError(
      "layers",
      `the model needs ${mib(bytes)} of memory for ${grouped(params)} ${what}` +
        (layers.length > 1 ? ` (layers[${biggestAt}] has ${grouped(biggest)})` : "") +
        `; the most is ${mib(MAX_MEMORY_BYTES)} (1024 wasm pages)`,
    );
  }
}

type Shape = { inputs: number; layers: { units: number }[] };

function checkWeightShapes(weights: LayerWeights[], shape: Shape): void {
  const { layers } = shape;
  if (weights.length !== layers.length) {
    throw new SpecError("weights", `has ${plural(weights.length, "entry", "entries")}; the model has ${plural(layers.length, "layer")}`);
  }
  weights.forEach(({ weight, bias }, l) => {
    const fanIn = l === 0 ? shape.inputs : layers[l - 1].units;
    const { units } = layers[l];
    if (weight.length !== fanIn) {
      throw new SpecError(`weights[${l}].weight`, `has ${plural(weight.length, "row")}; layer ${l} takes ${plural(fanIn, "input")}`);
    }
    weight.forEach((row, i) => {
      if (row.length !== units) {
        throw new SpecError(`weights[${l}].weight[${i}]`, `has ${plural(row.length, "value")}; layer ${l} has ${plural(units, "unit")}`);
      }
    });
    if (bias.length !== units) {
      throw new SpecError(`weights[${l}].bias`, `has ${plural(bias.length, "value")}; layer ${l} has ${plural(units, "unit")}`);
    }
  });
}

function checkSample(sample: NonNullable<RawSpec["sample"]>, shape: Shape, lossType: string, format: QFormat, training: Training): Sample {
  const outputs = shape.layers[shape.layers.length - 1].units;
  const { input, target } = sample;
  if (input.length !== shape.inputs) {
    throw new SpecError("sample.input", `has ${plural(input.length, "value")}; the model takes ${plural(shape.inputs, "input")}`);
  }
  if (target === undefined && training !== "none") {
    throw new SpecError("sample.target", 'missing (required unless "training" is "none")');
  }
  if (target !== undefined && target.length !== outputs) {
    throw new SpecError("sample.target", `has ${plural(target.length, "value")}; the model has ${plural(outputs, "output")}`);
  }
  checkValues(input, format, () => "sample.input");
  if (target === undefined) {
    // Nothing reads an inference-only module's target: zeros keep Sample's shape.
    return { input: input.slice(), target: new Array<number>(outputs).fill(0) };
  }
  checkValues(target, format, () => "sample.target");
  if (lossType === "hinge") {
    const i = target.findIndex((t) => t !== 1 && t !== -1);
    if (i >= 0) throw new SpecError(`sample.target[${i}]`, `${short(target[i])} is not -1 or 1, as loss "hinge" needs`);
  }
  return { input: input.slice(), target: target.slice() };
}

/** Each value converts to the format (format.ts's rule). The path is built only on failure. */
function checkValues(values: number[], format: QFormat, pathOf: () => string): void {
  let k = 0;
  try {
    for (; k < values.length; k++) toQ(values[k], format.fracBits);
  } catch {
    checkValue(values[k], format, () => `${pathOf()}[${k}]`);
  }
}

function checkValue(value: number, format: QFormat, pathOf: () => string): void {
  try {
    toQ(value, format.fracBits);
  } catch {
    if (!Number.isFinite(value)) throw new SpecError(pathOf(), `${value} is not a finite number`);
    throw new SpecError(pathOf(), `${short(value)} is outside the range of ${rangeText(format.fracBits)}`);
  }
}

// ---- Messages ----

/** ajv's first error as a SpecError: its JSON pointer as a field path, its keyword in words. */
function schemaError(error: ErrorObject): SpecError {
  const path = pointerToPath(error.instancePath);
  const data: unknown = error.data;
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as SchemaObject;
  switch (error.keyword) {
    case "required": {
      // ajv checks `required` before unknown fields, but "units" missing beside an
      // unknown "unit" is a typo: name the typo.
      const allowed = Object.keys((parent.properties ?? {}) as object);
      const unknown = Object.keys(data as object).find((key) => !allowed.includes(key));
      if (unknown !== undefined) return unknownField(path, unknown, allowed);
      return new SpecError(joinPath(path, String(params.missingProperty)), "missing (required)");
    }
    case "additionalProperties":
      return unknownField(path, String(params.additionalProperty), Object.keys((parent.properties ?? {}) as object));
    case "enum": {
      const allowed = (error.schema as unknown[]).map(String);
      if (allowed.length === 1) return new SpecError(path, `must be "${allowed[0]}", got ${preview(data)}`);
      return new SpecError(path, `${preview(data)} is not one of ${allowed.join(", ")}`);
    }
    case "type":
      // ajv's strictNumbers turns away NaN and ±Infinity (JSON's 1e999) as not numbers.
      if (typeof data === "number" && !Number.isFinite(data)) return new SpecError(path, `${data} is not a finite number`);
      return new SpecError(path, `must be ${describe(parent)}, got ${preview(data)}`);
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return new SpecError(path, `must be ${describe(parent)}, got ${preview(data)}`);
    case "pattern": {
      const problem = PATTERN_PROBLEMS[String(params.pattern)] ?? `does not match ${String(params.pattern)}`;
      return new SpecError(path, `${preview(data)} ${problem}`);
    }
    case "minItems": {
      const length = Array.isArray(data) ? data.length : 0;
      return new SpecError(path, `must have at least ${plural(Number(params.limit), "entry", "entries")}, got ${length}`);
    }
    case "maxItems": {
      const length = Array.isArray(data) ? data.length : 0;
      return new SpecError(path, `must have at most ${plural(Number(params.limit), "entry", "entries")}, got ${length}`);
    }
    case "oneOf":
      // The only oneOf is the root's: weights XOR init.
      return params.passingSchemas
        ? new SpecError("(root)", 'has both "weights" and "init"; give one of them')
        : new SpecError("weights", 'missing (required unless "init": { "seed": N } is given)');
    default:
      return new SpecError(path, error.message ?? `fails "${error.keyword}"`);
  }
}

function unknownField(path: string, field: string, allowed: string[]): SpecError {
  const near = allowed.find((name) => editDistance(name, field) <= 2);
  const hint = near ? `did you mean "${near}"?` : `allowed: ${allowed.join(", ")}`;
  return new SpecError(joinPath(path, field), `unknown field (${hint})`);
}

/** "/layers/1/activation" → "layers[1].activation"; "" → "(root)". */
function pointerToPath(pointer: string): string {
  if (pointer === "") return "(root)";
  let path = "";
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path = /^(0|[1-9][0-9]*)$/.test(segment) ? `${path}[${segment}]` : joinPath(path || "(root)", segment);
  }
  return path;
}

function joinPath(path: string, field: string): string {
  const key = /^[A-Za-z_$][A-Za-z0-9_$]{0,39}$/.test(field) ? field : JSON.stringify(truncate(field, 40));
  const isIdentifier = !key.startsWith('"');
  if (path === "(root)" || path === "") return isIdentifier ? key : `[${key}]`;
  return isIdentifier ? `${path}.${key}` : `${path}[${key}]`;
}

/** "an integer ≥ 1", "a number > 0 and ≤ 32", "an integer from 8 to 4096". */
function describe(schema: SchemaObject): string {
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.join(", ")}`;
  const type = String(schema.type);
  const noun: Record<string, string> = {
    integer: "an integer",
    number: "a number",
    string: "a string",
    array: "an array",
    object: "an object",
    boolean: "true or false",
  };
  const base = noun[type] ?? `of type ${type}`;
  if (typeof schema.minimum === "number" && typeof schema.maximum === "number") {
    return `${base} from ${schema.minimum} to ${schema.maximum}`;
  }
  const bounds: string[] = [];
  if (typeof schema.minimum === "number") bounds.push(`≥ ${schema.minimum}`);
  if (typeof schema.exclusiveMinimum === "number") bounds.push(`> ${schema.exclusiveMinimum}`);
  if (typeof schema.maximum === "number") bounds.push(`≤ ${schema.maximum}`);
  if (typeof schema.exclusiveMaximum === "number") bounds.push(`< ${schema.exclusiveMaximum}`);
  return bounds.length ? `${base} ${bounds.join(" and ")}` : base;
}

/** A value in a message: at most about 40 characters, looking at a few elements only. */
function preview(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return truncate(JSON.stringify(truncate(value, 40)), 42);
  if (typeof value === "number") return short(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[] (an empty array)";
    const head = value.slice(0, 4).map((v) => (Array.isArray(v) ? "[…]" : typeof v === "object" && v ? "{…}" : preview(v)));
    const more = value.length > head.length ? ", …" : "";
    return truncate(`[${head.join(", ")}${more}]`, 40) + (value.length > 1 ? ` (${value.length} entries)` : "");
  }
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value);
    return keys.length ? truncate(`an object {${keys.join(", ")}}`, 40) : "{} (an empty object)";
  }
  return String(value);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function short(value: number): string {
  return truncate(String(value), 24);
}

function approx(value: number): string {
  return String(Number(value.toPrecision(4)));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function grouped(n: number): string {
  return n < 1e15 ? n.toLocaleString("en-US") : n.toExponential(2);
}

function mib(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return `${Number.isFinite(value) && value < 1e6 ? Number(value.toFixed(1)) : value.toExponential(2)} MiB`;
}

/** Levenshtein distance, for "did you mean"; names are short. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || b.length > 64) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

// ---- Invalid JSON ----

/** JSON.parse's message, cleaned to one line, with a line and column. */
function jsonError(text: string, message: string, source?: string): SpecError {
  const atPosition = /in JSON at position (\d+)/.exec(message);
  const position = atPosition
    ? Number(atPosition[1])
    : /end of JSON input/.test(message)
      ? text.length
      : (locateJson(text, undefined).stop ?? -1);
  const what = message
    .replace(/\s*\(line \d+ column \d+\)/, "")
    .replace(/\s*in JSON at position \d+/, "")
    .replace(/,\s*(\.\.\.)?"[\s\S]*" is not valid JSON$/, "")
    .replace(/\s+/g, " ")
    .trim();
  const at = position >= 0 ? ` at ${where(text, position)}` : "";
  const subject = source ? `${source} is not valid JSON` : "not valid JSON";
  return new SpecError("(json)", `${subject}: ${truncate(what, 80)}${at}`);
}

function where(text: string, position: number): string {
  const { line, column } = lineColumn(text, position);
  return `line ${line}, column ${column}`;
}
