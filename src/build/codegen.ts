// Writes the AssemblyScript entry for one model: shapes, formats, buffer addresses
// and table indexing as compile-time constants, calling the kernels in assembly/.
// Initial data (params, sample, table) is returned separately as data segments,
// which compile.ts places at the layout's addresses.

import { toQ } from "../spec/format.js";
import { OPTIMIZER_CONSTANT_FRAC_BITS } from "../spec/spec.js";
import {
  batchRowBytes,
  flattenParams,
  memoryLayout,
  paramLayout,
  trainableCount,
  type MemoryLayout,
  type TensorLayout,
} from "./layout.js";
import { expTable, lutArgs, lutIndexing, tanhTable, type LutIndexing } from "./lut.js";
import { fanInOf, isTrainable, lowestTrainable, type Activation, type LossType, type Model } from "../spec/model.js";
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

interface LossCode {
  kernel: string;
  value(c: LossContext): string;
  backward(c: LossContext): string;
  /**
   * The loss right after forward_from, from what it returned (its expression `fw`):
   * where forward already computed part of the loss (softmax's Σ e^(z − max)).
   */
  ofForward?: { kernel: string; value(c: LossContext, target: string, fw: string): string };
  /**
   * The loss and its backward in one kernel call, for the fused per-sample steps: it
   * writes what `backward` writes and returns what `value` returns.
   */
  withBackward?: { kernel: string; value(c: LossContext, target: string): string };
}

/** Per loss: its kernel file, the loss() call, and the backward call writing ∂L/∂ŷ (or ∂L/∂z). */
const LOSS_CODE: Record<LossType, LossCode> = {
  l2: {
    kernel: "loss_l2",
    value: ({ last }) => `loss_l2(${last.a}, target, ${last.n}, F, ${accShiftFor(last.n)})`,
    backward: ({ last }) => `loss_l2_backward(${last.a}, target, ${last.dA}, ${last.n}, F, G);`,
    withBackward: {
      kernel: "loss_l2_with_backward",
      value: ({ last }, target) => `loss_l2_with_backward(${last.a}, ${target}, ${last.dA}, ${last.n}, F, G, ${accShiftFor(last.n)})`,
    },
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
    ofForward: {
      kernel: "loss_cross_entropy_of_sum",
      value: ({ last }, target, fw) => `loss_cross_entropy_of_sum(${last.z}, ${target}, ${last.n}, F, ${accShiftFor(last.n)}, ${fw})`,
    },
  },
  cosine: {
    kernel: "loss_cosine",
    value: ({ last }) => `loss_cosine(${last.a}, target, ${last.n}, F, ${evenAccShiftFor(last.n)}, LOSS_SCRATCH)`,
    backward: ({ last }) =>
      `loss_cosine_backward(${last.a}, target, ${last.dA}, ${last.n}, F, G, ${evenAccShiftFor(last.n)}, LOSS_SCRATCH);`,
  },
};


// ---- What a model's module contains ----
//
// Three choices shape the generated entry, each in one function below:
//   which layers get gradients      gradientPlan: trainable layers, where backward stops
//   which optimizer step runs       optimizerCode: plain SGD (fused into backward for
//                                   per-sample training), momentum or Adam over grads
//   which exports exist             trainingEntries, batchEntries: by training mode

/** Imports of the generated entry, by kernel file. */
class Imports {
  private readonly names = new Map<string, Set<string>>();

  add(file: string, ...names: string[]): void {
    const set = this.names.get(file) ?? new Set<string>();
    names.forEach((n) => set.add(n));
    this.names.set(file, set);
  }

  render(): string {
    return [...this.names].map(([file, names]) => `import { ${[...names].sort().join(", ")} } from "./${file}";`).join("\n");
  }
}

/** Byte offsets of a layer's tensors inside params, and inside grads (null for a frozen layer). */
interface LayerTensors {
  weight: number;
  bias: number;
  gradWeight: number | null;
  gradBias: number | null;
}

/** Per layer: where its weight and bias sit in params and, when it trains, in grads. */
export function layerTensors(model: Model): LayerTensors[] {
  const tensors = paramLayout(model);
  return model.layers.map((_, l) => {
    const [w, b] = tensors.filter((t) => t.layer === l);
    const grad = (t: TensorLayout) => (t.gradIndex === null ? null : 4 * t.gradIndex);
    return { weight: 4 * w.index, bias: 4 * b.index, gradWeight: grad(w), gradBias: grad(b) };
  });
}

/** Consecutive trainable layers: contiguous in params and in grads, so one optimizer call covers each run. */
export function trainableRuns(model: Model): { params: number; grads: number; length: number }[] {
  const runs: { params: number; grads: number; length: number }[] = [];
  let previousTrains = false;
  for (const t of paramLayout(model)) {
    if (t.gradIndex !== null) {
      if (previousTrains) runs[runs.length - 1].length += t.length;
      else runs.push({ params: t.index, grads: t.gradIndex, length: t.length });
    }
    previousTrains = t.gradIndex !== null;
  }
  return runs;
}

/** How backward writes each trainable layer's gradients. */
type GradientWrite =
  /** Add into grads (backward(), train_batch, and every step of momentum and Adam). */
  | "accumulate"
  /** Plain SGD per sample: dense_backward_step, grads written when keepGrads. */
  | "fused"
  /** Plain SGD per sample with no grads buffer at all. */
  | "fused-lean";

/**
 * The backward pass: the loss's gradient, then from the last layer down to the lowest
 * trainable one (below it nothing needs ∂L/∂x): each layer's activation backward, its
 * ∂L/∂x for the layer below (while one below trains), and, where the layer trains, its
 * gradients by `write`. A frozen layer gets no gradients and no update. A fused step
 * over a tanh layer also gives that layer its dZ (fusesTanhBelow), from a function of
 * its own: `lines` are the caller's body, `functions` go before it.
 */
function gradientPlan(model: Model, code: ModelCode, write: GradientWrite): { lines: string[]; functions: string[] } {
  const last = model.layers.length - 1;
  const lowest = lowestTrainable(model);
  // The fused steps' callers run the loss's backward with its value (stepLoss) where they can.
  const lines = write !== "accumulate" && fusesLoss(code) ? [] : [code.loss.backward(code.lossContext)];
  const functions: string[] = [];
  let dZDone = false; // the fused step of the layer above wrote this layer's dZ
  for (let l = last; l >= lowest; l--) {
    const v = code.names(l);
    const activationBackward = ACTIVATION_CODE[model.layers[l].activation].backward(v);
    if (activationBackward && !dZDone) lines.push(activationBackward);
    dZDone = false;
    const t = code.tensors[l];
    const fanIn = fanInOf(model, l);
    const trains = write === "fused" ? t.gradWeight !== null : write === "fused-lean" && isTrainable(model.layers[l]);
    if (trains && l > lowest && fusesTanhBelow(model, l)) {
      // A function of its own: inlined, its frame would sit on WAMR classic's 2 KiB
      // operand stack beside the next layer's step (test/host.test.ts).
      const full = write === "fused";
      const below = code.names(l - 1);
      functions.push(`function step_tanh_below${l}(${full ? "keepGrads: bool, " : ""}lr: i32): void {
  dense_backward_step_tanh_below(${code.inputOf(l)}, ${v.dZ}, PARAMS + ${t.weight}, PARAMS + ${t.bias}, ${full ? `GRADS + ${t.gradWeight}, GRADS + ${t.gradBias}` : "0, 0"}, STEP_TABLES, ${below.dA}, ${below.dZ}, ${fanIn}, ${v.n}, F, G, lr, ${full ? "keepGrads" : "false"}, ${accShiftFor(v.n)});
}
`);
      lines.push(`step_tanh_below${l}(${full ? "keepGrads, " : ""}lr);`);
      dZDone = true;
      continue;
    }
    if (l > lowest) {
      lines.push(`dense_backward_input(PARAMS + ${t.weight}, ${v.dZ}, DA${l - 1}, ${fanIn}, ${v.n}, F, G, ${accShiftFor(v.n)});`);
    }
    if (t.gradWeight === null || t.gradBias === null) {
      if (write === "fused-lean" && isTrainable(model.layers[l])) {
        lines.push(
          `dense_backward_step(${code.inputOf(l)}, ${v.dZ}, PARAMS + ${t.weight}, PARAMS + ${t.bias}, 0, 0, STEP_TABLES, ${fanIn}, ${v.n}, F, G, lr, false, ${boundedInput(model, l)});`,
        );
      }
      continue;
    }
    const gw = `GRADS + ${t.gradWeight}`;
    const gb = `GRADS + ${t.gradBias}`;
    lines.push(
      write === "accumulate"
        ? `dense_backward(${code.inputOf(l)}, ${v.dZ}, ${gw}, ${gb}, ${fanIn}, ${v.n}, F, G);`
        : `dense_backward_step(${code.inputOf(l)}, ${v.dZ}, PARAMS + ${t.weight}, PARAMS + ${t.bias}, ${gw}, ${gb}, STEP_TABLES, ${fanIn}, ${v.n}, F, G, lr, keepGrads, ${boundedInput(model, l)});`,
    );
  }
  return { lines, functions };
}

/**
 * Whether layer l's fused step also gives the tanh layer below its dZ
 * (dense_backward_step_tanh_below): at most eight units, so one pass holds all of dZ.
 */
function fusesTanhBelow(model: Model, l: number): boolean {
  return l > 0 && model.layers[l - 1].activation === "tanh" && model.layers[l].units <= 8;
}

/**
 * Whether layer l's input is within ±2^F: the output of a sigmoid or tanh layer below
 * it (the table activations never leave [−1, 1]), which forward writes in the same
 * export call as the fused step reads it. dense_backward_step then skips bounding it.
 */
function boundedInput(model: Model, l: number): boolean {
  return l > 0 && (model.layers[l - 1].activation === "sigmoid" || model.layers[l - 1].activation === "tanh");
}

/** A constant in [0, 1] as the kernels hold it: q1.31, an i64. */
function q31(value: number): string {
  return `${Math.round(value * 2 ** OPTIMIZER_CONSTANT_FRAC_BITS)}`;
}

/**
 * The optimizer: its constants, the learning rate of the step about to run
 * (step_rate, with the decay and the step counter), and optimizer_step(count), which
 * applies one step from the grads buffer (count: the rows a batch step averages).
 * Plain SGD's per-sample steps are fused into backward (gradientPlan).
 */
function optimizerCode(model: Model, layout: MemoryLayout, imports: Imports): { constants: string[]; functions: string } {
  const o = model.optimizer;
  const constants: string[] = [];
  const functions: string[] = [];
  if (layout.step !== null) {
    imports.add("steps", "advance_step");
    constants.push(`const STEP: usize = ${layout.step}; // optimizer steps taken (i32)`);
  }
  // The learning rate of step t (t ≥ 1 with a step counter): the base rate, decayed where the spec asks.
  let rate = "learningRate";
  if (o.decay) {
    imports.add("decay", "decayed_rate");
    const exponential = o.decay.type === "exponential";
    constants.push(
      exponential
        ? "// decay \"exponential\": η_t = η·rate^(t/steps) = η·rate^⌊t/steps⌋·rho^(t mod steps), rate and rho = rate^(1/steps) in q1.31."
        : "// decay \"step\": η_t = η·rate^⌊t/steps⌋, rate in q1.31 (rho = 1: nothing between the steps).",
      `const DECAY_STEPS: i32 = ${o.decay.steps};`,
      `const DECAY_RATE: i64 = ${q31(o.decay.rate)};`,
      `const DECAY_RHO: i64 = ${q31(exponential ? o.decay.rate ** (1 / o.decay.steps) : 1)};`,
    );
    rate = "decayed_rate(learningRate, t - 1, DECAY_STEPS, DECAY_RATE, DECAY_RHO)";
  }
  const advance = layout.step !== null ? "\n  const t = advance_step(STEP);" : "";
  if (fusesStep(model)) {
    functions.push(`
/** The learning rate of the optimizer step about to run${layout.step !== null ? ", which it counts" : ""}. */
function step_rate(): i32 {${advance}
  return ${rate};
}`);
  }
  if (model.training !== "full") return { constants, functions: functions.join("\n") };

  const runs = trainableRuns(model);
  const state = new Map(layout.state.map((b) => [b.name, b]));
  let calls: string[];
  let prelude = "";
  if (o.type === "adam") {
    imports.add("adam", "adam_step", "bias_correction_q31", "sqrt_q31");
    const G = model.gradFormat.fracBits;
    constants.push(
      `const ADAM_M: usize = ${state.get("m")!.offset}; // i64, q.${G + 31}`,
      `const ADAM_V: usize = ${state.get("v")!.offset}; // i64, q.${2 * G}`,
      `const BETA1: i64 = ${q31(o.beta1)}; // q1.31`,
      `const BETA2: i64 = ${q31(o.beta2)}; // q1.31`,
      `const EPSILON: i64 = ${BigInt(Math.round(o.epsilon * 2 ** (G + 32)))}; // q.${G + 32}`,
    );
    prelude = `
  const c1 = bias_correction_q31(BETA1, t);
  const r2 = sqrt_q31(bias_correction_q31(BETA2, t));`;
    calls = runs.map(
      (r) =>
        `adam_step(PARAMS + ${4 * r.params}, GRADS + ${4 * r.grads}, ADAM_M + ${8 * r.grads}, ADAM_V + ${8 * r.grads}, ${r.length}, lr, F, BETA1, BETA2, c1, r2, EPSILON, count);`,
    );
  } else if (o.momentum > 0) {
    imports.add("momentum", "momentum_step");
    const velocity = state.get("velocity")!;
    constants.push(
      `const VELOCITY: usize = ${velocity.offset}; // i64, q.${velocity.fracBits}`,
      `const MOMENTUM: i64 = ${q31(o.momentum)}; // q1.31`,
    );
    calls = runs.map(
      (r) =>
        `momentum_step(PARAMS + ${4 * r.params}, GRADS + ${4 * r.grads}, VELOCITY + ${8 * r.grads}, ${r.length}, lr, MOMENTUM, G, ${velocity.fracBits}, count);`,
    );
  } else {
    imports.add("sgd", "sgd_step");
    imports.add("q", "div_round_i64");
    prelude = "\n  const rate = count > 1 ? <i32>div_round_i64(lr, count) : lr;";
    calls = runs.map((r) => `sgd_step(PARAMS + ${4 * r.params}, GRADS + ${4 * r.grads}, ${r.length}, rate, F, G, F);`);
  }
  functions.push(`
/** One optimizer step from the grads, averaged over count ≥ 1 rows. */
function optimizer_step(count: i32): void {${advance}
  const lr = ${rate};${prelude}
  ${calls.join("\n  ")}
}`);
  return { constants, functions: functions.join("\n") };
}

/** Everything of one model the generator's functions share. */
interface ModelCode {
  names(l: number): Names;
  inputOf(l: number): string;
  tensors: LayerTensors[];
  loss: LossCode;
  lossContext: LossContext;
  /** forward_from returns what the loss can reuse (LossCode.ofForward). */
  forwardFeedsLoss: boolean;
}

/**
 * Forward on `input`, then its loss against `target` given to `lhs` ("const before =",
 * "sum +="): from what forward returned where the loss can reuse it, else loss_of.
 */
function forwardThenLoss(code: ModelCode, input: string, target: string, lhs: string, indent: string): string {
  const of = code.loss.ofForward;
  if (of && code.forwardFeedsLoss) return `${lhs} ${of.value(code.lossContext, target, `forward_from(${input})`)};`;
  return `forward_from(${input});\n${indent}${lhs} loss_of(${target});`;
}

/** Whether the fused steps take the loss and its backward from one call (LossCode.withBackward). */
function fusesLoss(code: ModelCode): boolean {
  return code.loss.withBackward !== undefined && !code.forwardFeedsLoss;
}

/** forwardThenLoss before backward_step_from: with the loss's backward too where fusesLoss. */
function forwardThenStepLoss(code: ModelCode, input: string, target: string, lhs: string, indent: string): string {
  if (!fusesLoss(code)) return forwardThenLoss(code, input, target, lhs, indent);
  return `forward_from(${input});\n${indent}${lhs} ${code.loss.withBackward!.value(code.lossContext, target)};`;
}

/** Whether per-sample training runs the fused steps: a lean module, or plain SGD (fusesStep). */
function stepsFused(model: Model): boolean {
  return model.training === "lean" || fusesStep(model);
}

/** Plain SGD steps fused into backward (per-sample training); momentum and Adam step from the grads. */
function fusesStep(model: Model): boolean {
  return model.optimizer.type === "sgd" && model.optimizer.momentum === 0;
}

/** backward_from, backward_step_from and the training exports, by training mode. */
function trainingEntries(model: Model, code: ModelCode): string {
  if (model.training === "none") return "";
  const forwardAndLoss = `
function loss_of(target: usize): i32 {
  return ${code.loss.value(code.lossContext)};
}

export function loss(): i32 {
  return loss_of(TARGET);
}

export function set_learning_rate(q: i32): void {
  learningRate = q;
}
`;
  if (model.training === "lean") {
    const plan = gradientPlan(model, code, "fused-lean");
    return `${forwardAndLoss}
${plan.functions.join("\n")}
/** Backward with each trainable layer's SGD step fused in (dense_backward_step); no grads are kept. */
function backward_step_from(input: usize, target: usize, lr: i32): void {
  ${plan.lines.join("\n  ")}
}

export function train_step(): i32 {
  ${forwardThenStepLoss(code, "INPUT", "TARGET", "const before =", "  ")}
  backward_step_from(INPUT, TARGET, step_rate());
  return before;
}
`;
  }
  const common = `${forwardAndLoss}
function backward_from(input: usize, target: usize): void {
  ${gradientPlan(model, code, "accumulate").lines.join("\n  ")}
}

export function zero_grad(): void {
  q_zero(GRADS, TRAINABLE_COUNT);
}

export function backward(): void {
  backward_from(INPUT, TARGET);
}

export function step(): void {
  optimizer_step(1);
}
`;
  if (!fusesStep(model)) {
    return `${common}
/** zero_grad, forward, backward, step; the loss before the update. */
function train_step_from(input: usize, target: usize): i32 {
  ${forwardThenLoss(code, "input", "target", "const before =", "  ")}
  zero_grad();
  backward_from(input, target);
  optimizer_step(1);
  return before;
}

export function train_step(): i32 {
  return train_step_from(INPUT, TARGET);
}
`;
  }
  const plan = gradientPlan(model, code, "fused");
  return `${common}
${plan.functions.join("\n")}
/**
 * zero_grad, backward_from and step in one pass per layer (dense_backward_step):
 * params bit-identical; grads too with keepGrads, else left alone.
 */
function backward_step_from(input: usize, target: usize, keepGrads: bool, lr: i32): void {
  ${plan.lines.join("\n  ")}
}

export function train_step(): i32 {
  ${forwardThenStepLoss(code, "INPUT", "TARGET", "const before =", "  ")}
  backward_step_from(INPUT, TARGET, true, step_rate());
  return before;
}
`;
}

/** The batched entries (an extension of ABI v1), for a model with a batch buffer, by training mode. */
function batchEntries(model: Model, code: ModelCode, outputs: number): string {
  const predict = `
/** Forward for each of the first n rows; row k's output goes to batch_output_ptr() + k·outputs·4. */
export function predict_samples(n: i32): void {
  const count = rows(n);
  for (let k = 0; k < count; k++) {
    forward_from(row_at(k));
    q_copy(A${model.layers.length - 1}, BATCH_OUTPUT + <usize>k * ${4 * outputs}, ${outputs});
  }
}
`;
  const header = `
// Batched entries (an extension of ABI v1): rows of (input${model.training === "none" ? "" : ", target"}) at BATCH, so a
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
`;
  if (model.training === "none") return header + predict;
  const sampleStep =
    model.training === "lean"
      ? "backward_step_from(input, target, step_rate());"
      : fusesStep(model)
        ? "backward_step_from(input, target, k == count - 1, step_rate()); // grads: the last row's, as train_step leaves them"
        : "zero_grad();\n    backward_from(input, target);\n    optimizer_step(1);";
  const samples = `
/** Per-sample training over the first n rows, in order; the mean loss before each update. */
export function train_samples(n: i32): i32 {
  const count = rows(n);
  let sum: i64 = 0;
  for (let k = 0; k < count; k++) {
    const input = row_at(k);
    const target = input + TARGET_IN_ROW;
    ${stepsFused(model) ? forwardThenStepLoss(code, "input", "target", "sum +=", "    ") : forwardThenLoss(code, "input", "target", "sum +=", "    ")}
    ${sampleStep}
  }
  return count == 0 ? 0 : <i32>div_round_i64(sum, count);
}
`;
  if (model.training === "lean") return header + samples + predict;
  return `${header}${samples}
/** One optimizer step on the mean gradient of the first n rows; their mean loss before it. */
export function train_batch(n: i32): i32 {
  const count = rows(n);
  if (count == 0) return 0;
  zero_grad();
  let sum: i64 = 0;
  for (let k = 0; k < count; k++) {
    const input = row_at(k);
    const target = input + TARGET_IN_ROW;
    ${forwardThenLoss(code, "input", "target", "sum +=", "    ")}
    backward_from(input, target);
  }
  optimizer_step(count);
  return <i32>div_round_i64(sum, count);
}
${predict}`;
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
  const trains = model.training !== "none";

  const segments: DataSegment[] = [];
  const words = (values: number[], fracBits: number, where: string) =>
    Int32Array.from(values, (v, i) => toQ(v, fracBits, `${where}[${i}]`));
  segments.push({ offset: layout.params, words: words(flattenParams(model.weights), F, "params") });
  if (model.sample) {
    segments.push({ offset: layout.input, words: words(model.sample.input, F, "sample.input") });
    if (layout.target !== null) segments.push({ offset: layout.target, words: words(model.sample.target, F, "sample.target") });
  }
  if (layout.table !== undefined) segments.push({ offset: layout.table, words: Int32Array.from(table) });
  if (layout.expTable !== undefined) segments.push({ offset: layout.expTable, words: Int32Array.from(exp) });

  const last = model.layers.length - 1;
  const lastUnits = model.layers[last].units;
  const names = (l: number): Names => ({ z: `Z${l}`, a: `A${l}`, dA: `DA${l}`, dZ: `DZ${l}`, n: model.layers[l].units });
  const loss = LOSS_CODE[model.loss.type];
  // softmax_forward returns Σ e^(z − max), which the cross-entropy loss needs too.
  const forwardFeedsLoss = trains && loss.ofForward !== undefined && model.layers[last].activation === "softmax";
  const code: ModelCode = {
    names,
    inputOf: (l) => (l === 0 ? "input" : `A${l - 1}`),
    tensors: layerTensors(model),
    loss,
    lossContext: { last: names(last), delta: model.loss.delta ?? 1 },
    forwardFeedsLoss,
  };

  const imports = new Imports();
  imports.add("q", "q_copy");
  imports.add(DENSE_KERNELS[target], "dense_forward");
  for (const layer of model.layers) {
    const kernel = ACTIVATION_CODE[layer.activation].kernel;
    imports.add(kernel, `${kernel}_forward`);
  }
  if (trains) {
    imports.add("q", "div_round_i64", "q_zero");
    imports.add(DENSE_KERNELS[target], "dense_backward_input", ...(model.training === "full" ? ["dense_backward"] : []), ...(fusesStep(model) ? ["dense_backward_step"] : []));
    if (stepsFused(model) && model.layers.some((_, l) => fusesTanhBelow(model, l))) imports.add(DENSE_KERNELS[target], "dense_backward_step_tanh_below");
    for (const layer of model.layers) {
      const kernel = ACTIVATION_CODE[layer.activation].kernel;
      if (kernel !== "softmax") imports.add(kernel, `${kernel}_backward`);
    }
    imports.add(loss.kernel, loss.kernel, `${loss.kernel}_backward`);
    if (forwardFeedsLoss) imports.add(loss.kernel, loss.ofForward!.kernel);
    if (fusesLoss(code) && stepsFused(model)) imports.add(loss.kernel, loss.withBackward!.kernel);
  }

  const layerForward = (l: number): string[] => {
    const v = names(l);
    return [
      `dense_forward(${code.inputOf(l)}, PARAMS + ${code.tensors[l].weight}, PARAMS + ${code.tensors[l].bias}, ${v.z}, ${fanInOf(model, l)}, ${v.n}, F, ${accShiftFor(fanInOf(model, l))});`,
      (forwardFeedsLoss && l === last ? "return " : "") + ACTIVATION_CODE[model.layers[l].activation].forward(v, lut),
    ];
  };
  // Each hidden layer in a function of its own, which binaryen inlines where it is
  // small: in one function, a whole forward pass outgrows wasm3's constant table (64
  // slots in microcontroller builds), and every constant past it costs an operation.
  const hiddenForward = model.layers.slice(0, last).map(
    (_, l) => `function forward_layer${l}(${l === 0 ? "input: usize" : ""}): void {\n  ${layerForward(l).join("\n  ")}\n}\n`,
  );
  const forwardLines = [...model.layers.slice(0, last).map((_, l) => `forward_layer${l}(${l === 0 ? "input" : ""});`), ...layerForward(last)];

  const bufferLines = [
    `const INPUT: usize = ${layout.input};`,
    ...(layout.target !== null ? [`const TARGET: usize = ${layout.target};`] : []),
    `const PARAMS: usize = ${layout.params};`,
    ...(layout.grads !== null ? [`const GRADS: usize = ${layout.grads};`, `const TRAINABLE_COUNT: i32 = ${trainableCount(model)};`] : []),
    ...layout.layers.map((b, l) =>
      [`const Z${l}: usize = ${b.z};`, `const A${l}: usize = ${b.a};`, ...(b.dA !== null ? [`const DA${l}: usize = ${b.dA};`, `const DZ${l}: usize = ${b.dZ};`] : [])].join(" "),
    ),
  ];
  if (layout.table !== undefined) {
    bufferLines.push(`// tanh table: entry i = tanh(i·${model.lut.range}/${model.lut.entries - 1}) in q2.30 (src/build/lut.ts).`);
    bufferLines.push(`const TANH_TABLE: usize = ${layout.table};`, `const TABLE_ENTRIES: i32 = ${model.lut.entries};`);
  }
  if (layout.expTable !== undefined) {
    bufferLines.push(`// exp table: entry i = 2^(−i/16) in q2.30 (src/build/lut.ts).`, `const EXP_TABLE: usize = ${layout.expTable};`);
  }
  if (layout.lossScratch !== null) bufferLines.push(`const LOSS_SCRATCH: usize = ${layout.lossScratch};`);
  bufferLines.push(`const STEP_TABLES: usize = ${layout.acc};`);
  if (model.batchCapacity > 0) {
    bufferLines.push(
      `const BATCH: usize = ${layout.batch};`,
      `const BATCH_OUTPUT: usize = ${layout.batchOutput};`,
      `const BATCH_CAPACITY: i32 = ${model.batchCapacity};`,
      `const ROW_BYTES: usize = ${batchRowBytes(model)};`,
      ...(trains ? [`const TARGET_IN_ROW: usize = ${4 * model.inputs};`] : []),
    );
  }
  if (trains && model.loss.type === "huber") bufferLines.push(`const HUBER_DELTA: i32 = ${toQ(code.lossContext.delta, F, "loss.delta")};`);
  const optimizer = trains ? optimizerCode(model, layout, imports) : { constants: [], functions: "" };

  const pointers = [
    "export function input_ptr(): usize { return INPUT; }",
    `export function output_ptr(): usize { return A${last}; }`,
    ...(trains ? ["export function target_ptr(): usize { return TARGET; }"] : []),
    "export function params_ptr(): usize { return PARAMS; }",
    ...(model.training === "full" ? ["export function grads_ptr(): usize { return GRADS; }"] : []),
  ];
  const formats = trains
    ? `Values and params q${32 - F}.${F} (F); gradients and deltas q${32 - model.gradFormat.fracBits}.${model.gradFormat.fracBits} (G).`
    : `Values and params q${32 - F}.${F} (F). Inference only.`;

  // The entry body first: the imports are known once every part has been generated.
  const body = `
const F: i32 = ${F};
${trains ? `const G: i32 = ${model.gradFormat.fracBits};\n` : ""}
${bufferLines.join("\n")}
${optimizer.constants.join("\n")}
${trains ? `\nlet learningRate: i32 = ${toQ(model.learningRate, F, "learningRate")};\n` : ""}
${pointers.join("\n")}

${hiddenForward.join("\n")}
function forward_from(input: usize): ${forwardFeedsLoss ? "i64" : "void"} {
  ${forwardLines.join("\n  ")}
}

export function forward(): void {
  forward_from(INPUT);
}
${optimizer.functions}
${trainingEntries(model, code)}${model.batchCapacity > 0 ? batchEntries(model, code, lastUnits) : ""}`;
  const source = `// Generated by qfirm from the spec "${model.name}". Do not edit: change the spec and rebuild.
// ${formats}
${imports.render()}
${body}`;
  return { source, layout, segments };
}
