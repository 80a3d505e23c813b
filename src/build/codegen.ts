// Writes the AssemblyScript entry for one model: shapes, formats, buffer addresses
// and table indexing as compile-time constants, calling the kernels in assembly/.
// Initial data (params, sample, table) is returned separately as data segments,
// which compile.ts places at the layout's addresses.

import { toQ } from "../spec/format.js";
import { flattenParams, memoryLayout, paramCount, type MemoryLayout } from "./layout.js";
import { expTable, lutArgs, lutIndexing, tanhTable, type LutIndexing } from "./lut.js";
import { fanInOf, type Activation, type LossType, type Model } from "../spec/model.js";
import type { Target } from "./compile.js";

export interface DataSegment {
  offset: number;
  words: Int32Array;
}

export interface GeneratedEntry {
  source: string;
  layout: MemoryLayout;
  segments: DataSegment[];
}

/** ceil(log2(terms + 1)): the pre-shift that keeps a sum of `terms` products of two i32 in an i64. */
export function accShiftFor(terms: number): number {
  return Math.ceil(Math.log2(terms + 1));
}

export function usesTable(model: Model): boolean {
  return model.layers.some((layer) => layer.activation === "sigmoid" || layer.activation === "tanh");
}


interface Names {
  z: string;
  a: string;
  dA: string;
  dZ: string;
  n: number;
}

interface TableIndexing {
  sigmoid: LutIndexing;
  tanh: LutIndexing;
}

/** Per activation: the forward call (z → a) and backward call (dA → dZ, from a). */
const ACTIVATION_CODE: Record<
  Activation,
  { kernel: string; forward(v: Names, lut: TableIndexing): string; backward(v: Names): string }
> = {
  sigmoid: {
    kernel: "sigmoid",
    forward: (v, lut) => `sigmoid_forward(${v.z}, ${v.a}, ${v.n}, F, ${lutArgs(lut.sigmoid, "TANH_TABLE", "TABLE_ENTRIES")});`,
    backward: (v) => `sigmoid_backward(${v.a}, ${v.dA}, ${v.dZ}, ${v.n}, F, G);`,
  },
  tanh: {
    kernel: "tanh",
    forward: (v, lut) => `tanh_forward(${v.z}, ${v.a}, ${v.n}, F, ${lutArgs(lut.tanh, "TANH_TABLE", "TABLE_ENTRIES")});`,
    backward: (v) => `tanh_backward(${v.a}, ${v.dA}, ${v.dZ}, ${v.n}, F, G);`,
  },
  relu: {
    kernel: "relu",
    forward: (v) => `relu_forward(${v.z}, ${v.a}, ${v.n});`,
    backward: (v) => `relu_backward(${v.a}, ${v.dA}, ${v.dZ}, ${v.n});`,
  },
  linear: {
    kernel: "linear",
    forward: (v) => `linear_forward(${v.z}, ${v.a}, ${v.n});`,
    backward: (v) => `linear_backward(${v.dA}, ${v.dZ}, ${v.n});`,
  },
  softmax: {
    kernel: "softmax",
    forward: (v) => `softmax_forward(${v.z}, ${v.a}, ${v.n}, F, EXP_TABLE);`,
    // The cross-entropy loss writes ∂L/∂z through softmax itself (spec: softmax only with cross_entropy).
    backward: () => "",
  },
};

interface LossContext {
  /** The last layer's buffers and width. */
  last: Names;
  delta: number;
}

/** Per loss: its kernel file, the loss() call, and the backward call writing ∂L/∂ŷ (or ∂L/∂z). */
const LOSS_CODE: Record<LossType, { kernel: string; value(c: LossContext): string; backward(c: LossContext): string }> = {
  l2: {
    kernel: "loss_l2",
    value: ({ last }) => `loss_l2(${last.a}, target, ${last.n}, F, ${accShiftFor(last.n)})`,
    backward: ({ last }) => `loss_l2_backward(${last.a}, target, ${last.dA}, ${last.n}, F, G);`,
  },
  l1: {
    kernel: "loss_l1",
    value: ({ last }) => `loss_l1(${last.a}, target, ${last.n}, F)`,
    backward: ({ last }) => `loss_l1_backward(${last.a}, target, ${last.dA}, ${last.n}, G);`,
  },
  huber: {
    kernel: "loss_huber",
    value: ({ last }) => `loss_huber(${last.a}, target, ${last.n}, F, HUBER_DELTA, ${accShiftFor(last.n) + 1})`,
    backward: ({ last }) => `loss_huber_backward(${last.a}, target, ${last.dA}, ${last.n}, F, G, HUBER_DELTA);`,
  },
  hinge: {
    kernel: "loss_hinge",
    value: ({ last }) => `loss_hinge(${last.a}, target, ${last.n}, F, ${accShiftFor(last.n) + 1})`,
    backward: ({ last }) => `loss_hinge_backward(${last.a}, target, ${last.dA}, ${last.n}, F, G);`,
  },
  cross_entropy: {
    kernel: "loss_cross_entropy",
    value: ({ last }) => `loss_cross_entropy(${last.z}, target, ${last.n}, F, ${accShiftFor(last.n)}, EXP_TABLE)`,
    backward: ({ last }) => `loss_cross_entropy_backward(${last.a}, target, ${last.dZ}, ${last.n}, F, G);`,
  },
  cosine: {
    kernel: "loss_cosine",
    value: ({ last }) => `loss_cosine(${last.a}, target, ${last.n}, F, ${evenAccShiftFor(last.n)}, LOSS_SCRATCH)`,
    backward: ({ last }) =>
      `loss_cosine_backward(${last.a}, target, ${last.dA}, ${last.n}, F, G, ${evenAccShiftFor(last.n)}, LOSS_SCRATCH);`,
  },
};

/** The batched entries (an extension of ABI v1), for a model with a batch buffer. */
function batchEntries(model: Model, outputs: number): string {
  return `
// Batched entries (an extension of ABI v1): rows of (input, target) at BATCH, so a
// host crosses into the module once per batch. Row counts clamp to [0, capacity].

export function batch_ptr(): usize { return BATCH; }
export function batch_output_ptr(): usize { return BATCH_OUTPUT; }
export function batch_capacity(): i32 { return BATCH_CAPACITY; }

function row_at(k: i32): usize {
  return BATCH + <usize>k * ROW_BYTES;
}

function rows(n: i32): i32 {
  return n < 0 ? 0 : n > BATCH_CAPACITY ? BATCH_CAPACITY : n;
}

/** Per-sample SGD over the first n rows, in order; the mean loss before each update. */
export function train_samples(n: i32): i32 {
  const count = rows(n);
  let sum: i64 = 0;
  for (let k = 0; k < count; k++) {
    const input = row_at(k);
    const target = input + TARGET_IN_ROW;
    forward_from(input);
    sum += loss_of(target);
    backward_step_from(input, target, k == count - 1); // grads: the last row's, as train_step leaves them
  }
  return count == 0 ? 0 : <i32>div_round_i64(sum, count);
}

/** One SGD step on the mean gradient of the first n rows; their mean loss before it. */
export function train_batch(n: i32): i32 {
  const count = rows(n);
  if (count == 0) return 0;
  zero_grad();
  let sum: i64 = 0;
  for (let k = 0; k < count; k++) {
    const input = row_at(k);
    const target = input + TARGET_IN_ROW;
    forward_from(input);
    sum += loss_of(target);
    backward_from(input, target);
  }
  sgd_step(PARAMS, GRADS, PARAM_COUNT, <i32>div_round_i64(learningRate, count), F, G, F);
  return <i32>div_round_i64(sum, count);
}

/** Forward for each of the first n rows; row k's output goes to batch_output_ptr() + k·outputs·4. */
export function predict_samples(n: i32): void {
  const count = rows(n);
  for (let k = 0; k < count; k++) {
    forward_from(row_at(k));
    q_copy(A${model.layers.length - 1}, BATCH_OUTPUT + <usize>k * ${4 * outputs}, ${outputs});
  }
}
`;
}

/** accShiftFor rounded up to even, so a square root of the sum shifts back exactly. */
function evenAccShiftFor(terms: number): number {
  const shift = accShiftFor(terms);
  return shift + (shift % 2);
}

/**
 * The dense kernels each target calls: the SIMD ones (same names and signatures, the
 * same results bit for bit) where the runtime has SIMD.
 */
const DENSE_KERNELS: Record<Target, string> = { mcu: "dense", web: "dense_simd" };

export function generateEntry(model: Model, target: Target = "mcu"): GeneratedEntry {
  const table = usesTable(model) ? tanhTable(model.lut) : [];
  const usesExp = model.layers[model.layers.length - 1].activation === "softmax";
  const exp = usesExp ? expTable() : [];
  const layout = memoryLayout(model, table.length, exp.length);
  const F = model.format.fracBits;
  const lut: TableIndexing = { sigmoid: lutIndexing(model.lut, F, 0.5), tanh: lutIndexing(model.lut, F, 1) };

  const segments: DataSegment[] = [];
  const words = (values: number[], fracBits: number, where: string) =>
    Int32Array.from(values, (v, i) => toQ(v, fracBits, `${where}[${i}]`));
  segments.push({ offset: layout.params, words: words(flattenParams(model.weights), F, "params") });
  if (model.sample) {
    segments.push({ offset: layout.input, words: words(model.sample.input, F, "sample.input") });
    segments.push({ offset: layout.target, words: words(model.sample.target, F, "sample.target") });
  }
  if (layout.table !== undefined) segments.push({ offset: layout.table, words: Int32Array.from(table) });
  if (layout.expTable !== undefined) segments.push({ offset: layout.expTable, words: Int32Array.from(exp) });

  const last = model.layers.length - 1;
  const lastUnits = model.layers[last].units;
  const count = paramCount(model);

  // Element offsets of each layer's weight and bias inside params / grads.
  let index = 0;
  const tensorAt = model.layers.map((layer, l) => {
    const weight = index;
    index += fanInOf(model, l) * layer.units;
    const bias = index;
    index += layer.units;
    return { weight: weight * 4, bias: bias * 4 };
  });

  const names = (l: number): Names => ({ z: `Z${l}`, a: `A${l}`, dA: `DA${l}`, dZ: `DZ${l}`, n: model.layers[l].units });
  const inputOf = (l: number) => (l === 0 ? "input" : `A${l - 1}`);
  const kernels = new Set(model.layers.map((layer) => ACTIVATION_CODE[layer.activation].kernel));

  const forwardLines = model.layers.flatMap((layer, l) => {
    const v = names(l);
    return [
      `dense_forward(${inputOf(l)}, PARAMS + ${tensorAt[l].weight}, PARAMS + ${tensorAt[l].bias}, ${v.z}, ${fanInOf(model, l)}, ${v.n}, F, ${accShiftFor(fanInOf(model, l))});`,
      ACTIVATION_CODE[layer.activation].forward(v, lut),
    ];
  });
  const loss = LOSS_CODE[model.loss.type];
  const lossContext: LossContext = { last: names(last), delta: model.loss.delta ?? 1 };
  // Backward, then for per-sample training the same with each layer's SGD step fused in.
  const backwardLines = (fusedStep: boolean) => {
    const lines = [loss.backward(lossContext)];
    for (let l = last; l >= 0; l--) {
      const v = names(l);
      const activationBackward = ACTIVATION_CODE[model.layers[l].activation].backward(v);
      if (activationBackward) lines.push(activationBackward);
      const [fanIn, w, b] = [fanInOf(model, l), tensorAt[l].weight, tensorAt[l].bias];
      if (l > 0) {
        lines.push(`dense_backward_input(PARAMS + ${w}, ${v.dZ}, DA${l - 1}, ${fanIn}, ${v.n}, F, G, ${accShiftFor(v.n)});`);
      }
      lines.push(
        fusedStep
          ? `dense_backward_step(${inputOf(l)}, ${v.dZ}, PARAMS + ${w}, PARAMS + ${b}, GRADS + ${w}, GRADS + ${b}, STEP_TABLES, ${fanIn}, ${v.n}, F, G, learningRate, keepGrads);`
          : `dense_backward(${inputOf(l)}, ${v.dZ}, GRADS + ${w}, GRADS + ${b}, ${fanIn}, ${v.n}, F, G);`,
      );
    }
    return lines;
  };

  const bufferLines = [
    `const INPUT: usize = ${layout.input};`,
    `const TARGET: usize = ${layout.target};`,
    `const PARAMS: usize = ${layout.params};`,
    `const GRADS: usize = ${layout.grads};`,
    ...layout.layers.map((b, l) => `const Z${l}: usize = ${b.z}; const A${l}: usize = ${b.a}; const DA${l}: usize = ${b.dA}; const DZ${l}: usize = ${b.dZ};`),
  ];
  if (layout.table !== undefined) {
    bufferLines.push(`// tanh table: entry i = tanh(i·${model.lut.range}/${model.lut.entries - 1}) in q2.30 (src/build/lut.ts).`);
    bufferLines.push(`const TANH_TABLE: usize = ${layout.table};`, `const TABLE_ENTRIES: i32 = ${model.lut.entries};`);
  }
  if (layout.expTable !== undefined) {
    bufferLines.push(`// exp table: entry i = 2^(−i/16) in q2.30 (src/build/lut.ts).`, `const EXP_TABLE: usize = ${layout.expTable};`);
  }
  bufferLines.push(`const LOSS_SCRATCH: usize = ${layout.lossScratch};`, `const STEP_TABLES: usize = ${layout.acc};`);
  if (model.batchCapacity > 0) {
    bufferLines.push(
      `const BATCH: usize = ${layout.batch};`,
      `const BATCH_OUTPUT: usize = ${layout.batchOutput};`,
      `const BATCH_CAPACITY: i32 = ${model.batchCapacity};`,
      `const ROW_BYTES: usize = ${4 * (model.inputs + lastUnits)};`,
      `const TARGET_IN_ROW: usize = ${4 * model.inputs};`,
    );
  }
  if (model.loss.type === "huber") bufferLines.push(`const HUBER_DELTA: i32 = ${toQ(lossContext.delta, F, "loss.delta")};`);

  const source = `// Generated by qfirm from the spec "${model.name}". Do not edit: change the spec and rebuild.
// Values and params q${32 - F}.${F} (F); gradients and deltas q${32 - model.gradFormat.fracBits}.${model.gradFormat.fracBits} (G).
import { div_round_i64, q_copy, q_zero } from "./q";
import { dense_backward, dense_backward_input, dense_backward_step, dense_forward } from "./${DENSE_KERNELS[target]}";
${[...kernels].map((k) => `import { ${k}_forward${k === "softmax" ? "" : `, ${k}_backward`} } from "./${k}";`).join("\n")}
import { ${loss.kernel}, ${loss.kernel}_backward } from "./${loss.kernel}";
import { sgd_step } from "./sgd";

const F: i32 = ${F};
const G: i32 = ${model.gradFormat.fracBits};
const PARAM_COUNT: i32 = ${count};

${bufferLines.join("\n")}

let learningRate: i32 = ${toQ(model.learningRate, F, "learningRate")};

export function input_ptr(): usize { return INPUT; }
export function output_ptr(): usize { return A${last}; }
export function target_ptr(): usize { return TARGET; }
export function params_ptr(): usize { return PARAMS; }
export function grads_ptr(): usize { return GRADS; }

function forward_from(input: usize): void {
  ${forwardLines.join("\n  ")}
}

function loss_of(target: usize): i32 {
  return ${loss.value(lossContext)};
}

function backward_from(input: usize, target: usize): void {
  ${backwardLines(false).join("\n  ")}
}

/**
 * zero_grad, backward_from and step in one pass per layer (dense_backward_step):
 * params bit-identical; grads too with keepGrads, else left alone.
 */
function backward_step_from(input: usize, target: usize, keepGrads: bool): void {
  ${backwardLines(true).join("\n  ")}
}

export function forward(): void {
  forward_from(INPUT);
}

export function loss(): i32 {
  return loss_of(TARGET);
}

export function zero_grad(): void {
  q_zero(GRADS, PARAM_COUNT);
}

export function backward(): void {
  backward_from(INPUT, TARGET);
}

export function step(): void {
  sgd_step(PARAMS, GRADS, PARAM_COUNT, learningRate, F, G, F);
}

export function set_learning_rate(q: i32): void {
  learningRate = q;
}

export function train_step(): i32 {
  forward_from(INPUT);
  const before = loss_of(TARGET);
  backward_step_from(INPUT, TARGET, true);
  return before;
}
${model.batchCapacity > 0 ? batchEntries(model, lastUnits) : ""}`;
  return { source, layout, segments };
}
