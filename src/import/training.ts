// The loss and optimizer a file records (Keras compile config, TF.js trainingConfig),
// in qfirm's terms, with a printed line for each choice and for each setting dropped.
//
// An update rule is kept where qfirm's is the framework's, step for step:
// - TF.js's tf.train.momentum is qfirm's v ← μ·v + g; p ← p − η·v. Keras' SGD keeps
//   v ← μ·v − η·g; p ← p + v, the same steps while η holds (its velocity is −η times
//   qfirm's); under a decaying rate Keras weighs each gradient by its own step's rate
//   and qfirm the whole velocity by the current one.
// - TF.js's tf.train.adam is qfirm's Adam (ε added to √v̂). Keras adds ε to √v (its
//   "epsilon hat"), which is qfirm's ε/√(1 − β2^t): the same steps while √v̂ ≫ ε.
// - Keras' ExponentialDecay is qfirm's decay: η·r^(t/s), floored with staircase, t
//   counted from 0 at the first step in both.
// A rule qfirm lacks (Nesterov, AMSGrad, RMSprop, AdamW, …) falls back to plain SGD at
// the file's learning rate; a setting on top of a kept rule that qfirm lacks (weight
// decay, clipping, EMA, gradient accumulation, another schedule) is dropped. Both are
// named in the output.

import type { Decay, LossType } from "../spec/model.js";
import { DEFAULT_ADAM, DEFAULT_HUBER_DELTA, DEFAULT_LEARNING_RATE } from "../spec/spec.js";
import type { Chain } from "./chain.js";
import type { TrainingRecord } from "./steps.js";

/** Lower case, letters and digits only: "mean_squared_error", "MeanSquaredError" and "meanSquaredError" meet. */
function key(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/**
 * The file's loss in qfirm's terms. `scale` turns the file's learning rate into one
 * that moves the weights as the file's framework would: Keras and TF.js take the
 * MEAN over the outputs (mse = mean (y − ŷ)², gradient 2(ŷ − y)/n) where qfirm's l2
 * is ½ Σ (y − ŷ)² (gradient ŷ − y), so η_qfirm = η · 2/n; likewise 1/n for mae,
 * hinge and huber. Cross-entropy sums over the classes in both; Keras' cosine loss
 * is −cos θ and qfirm's 1 − cos θ: the same gradient.
 */
const LOSS_MAP: Record<string, { type: LossType; scale: (outputs: number) => number; scaleText: string }> = {
  mse: { type: "l2", scale: (n) => 2 / n, scaleText: "× 2/outputs (mean of squares → ½ sum)" },
  meansquarederror: { type: "l2", scale: (n) => 2 / n, scaleText: "× 2/outputs (mean of squares → ½ sum)" },
  mae: { type: "l1", scale: (n) => 1 / n, scaleText: "× 1/outputs (mean → sum)" },
  meanabsoluteerror: { type: "l1", scale: (n) => 1 / n, scaleText: "× 1/outputs (mean → sum)" },
  categoricalcrossentropy: { type: "cross_entropy", scale: () => 1, scaleText: "" },
  sparsecategoricalcrossentropy: { type: "cross_entropy", scale: () => 1, scaleText: "" },
  hinge: { type: "hinge", scale: (n) => 1 / n, scaleText: "× 1/outputs (mean → sum)" },
  huber: { type: "huber", scale: (n) => 1 / n, scaleText: "× 1/outputs (mean → sum)" },
  huberloss: { type: "huber", scale: (n) => 1 / n, scaleText: "× 1/outputs (mean → sum)" },
  cosinesimilarity: { type: "cosine", scale: () => 1, scaleText: "" },
  cosineproximity: { type: "cosine", scale: () => 1, scaleText: "" },
};

/** Settings on top of an update rule that qfirm lacks: named when dropped. */
const MODIFIERS = new Set(["weightdecay", "clipnorm", "clipvalue", "globalclipnorm"]);

/** The spec's `optimizer` field, as a spec file holds it. */
export type OptimizerField =
  | { type: "sgd"; learningRate: number; momentum?: number; decay?: Decay }
  | { type: "adam"; learningRate: number; beta1: number; beta2: number; epsilon: number; decay?: Decay };

export interface TrainingChoice {
  loss: { type: LossType; delta?: number };
  optimizer: OptimizerField;
  lines: string[];
}

function numberField(config: Record<string, unknown>, names: string[]): unknown {
  for (const [k, v] of Object.entries(config)) if (names.includes(key(k))) return v;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The loss, the learning rate's scale and a line for each choice and each setting dropped. */
export function chooseTraining(record: TrainingRecord | undefined, chain: Chain): TrainingChoice {
  const lines: string[] = [];
  const last = chain.layers[chain.layers.length - 1];
  const outputs = last.units;
  const fallback: LossType = last.activation === "softmax" ? "cross_entropy" : "l2";
  const fallbackWhy = last.activation === "softmax" ? "the last layer is softmax" : "the last layer is not softmax";

  let loss: { type: LossType; delta?: number } = { type: fallback };
  let scale = 1;
  let scaleText = "";
  if (record?.loss) {
    const mapped = LOSS_MAP[key(record.loss.name)];
    if (!mapped) {
      lines.push(`loss: ${fallback} (default: ${fallbackWhy}); ${record.source} records "${record.loss.name}", which qfirm does not have`);
    } else if ((mapped.type === "cross_entropy") !== (last.activation === "softmax")) {
      lines.push(
        `loss: ${fallback} (default: ${fallbackWhy}); ${record.source} records "${record.loss.name}", but qfirm pairs cross_entropy with a softmax last layer only`,
      );
    } else {
      loss = { type: mapped.type };
      if (mapped.type === "huber") {
        const delta = numberField(record.loss.config, ["delta"]);
        loss.delta = typeof delta === "number" ? delta : DEFAULT_HUBER_DELTA;
      }
      scale = mapped.scale(outputs);
      scaleText = mapped.scaleText;
      const extra = key(record.loss.name) === "sparsecategoricalcrossentropy" ? "; targets are one-hot vectors, not class indices" : "";
      lines.push(`loss: ${loss.type}${loss.delta !== undefined ? ` (delta ${loss.delta})` : ""} (${record.source} records "${record.loss.name}")${extra}`);
    }
    const fromLogits = record.loss.config.from_logits ?? record.loss.config.fromLogits;
    if (fromLogits === true) lines.push(`loss: from_logits is dropped; qfirm's cross_entropy takes the softmax layer's logits itself`);
  } else {
    lines.push(`loss: ${fallback} (default: ${fallbackWhy}; the file records no loss)`);
  }

  if (!record?.optimizer) {
    lines.push(`optimizer: sgd, learning rate ${DEFAULT_LEARNING_RATE} (default; the file records no optimizer)`);
    return { loss, optimizer: { type: "sgd", learningRate: DEFAULT_LEARNING_RATE }, lines };
  }
  const { optimizer, lines: optimizerLines } = chooseOptimizer(record.optimizer, record, { factor: scale, text: scaleText });
  return { loss, optimizer, lines: [...lines, ...optimizerLines] };
}

/** The learning rate a config records: a number, or a schedule's initial rate and, for ExponentialDecay, the decay. */
function learningRateOf(config: Record<string, unknown>, dropped: string[]): { rate: unknown; decay?: Decay; recorded: string } {
  const value = numberField(config, ["learningrate", "lr"]);
  if (!isObject(value) || typeof value.class_name !== "string") return { rate: value, recorded: `${value}` };
  const schedule = value.class_name;
  const c = isObject(value.config) ? value.config : {};
  const rate = numberField(c, ["initiallearningrate"]);
  const recorded = `${schedule}(${Object.entries(c).filter(([k]) => k !== "name").map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(", ")})`;
  const initial = typeof rate === "number" ? "the initial rate is used" : "it names no initial rate";
  if (schedule === "ExponentialDecay") {
    const steps = numberField(c, ["decaysteps"]);
    const decayRate = numberField(c, ["decayrate"]);
    if (Number.isInteger(steps) && (steps as number) >= 1 && typeof decayRate === "number" && decayRate > 0 && decayRate <= 1) {
      const type = numberField(c, ["staircase"]) === true ? "step" : "exponential";
      return { rate, decay: { type, rate: decayRate, steps: steps as number }, recorded };
    }
    dropped.push(`the schedule ${recorded} (qfirm decays by a rate in (0, 1] over a whole number of steps; ${initial})`);
    return { rate, recorded };
  }
  dropped.push(`the schedule ${recorded} (qfirm decays exponentially or in steps; ${initial})`);
  return { rate, recorded };
}

/** The optimizer the spec gets (see the header) and its lines. */
function chooseOptimizer(
  opt: NonNullable<TrainingRecord["optimizer"]>,
  record: TrainingRecord,
  scale: { factor: number; text: string },
): { optimizer: OptimizerField; lines: string[] } {
  const lines: string[] = [];
  const config = opt.config;
  const dropped: string[] = [];
  const { rate, decay, recorded } = learningRateOf(config, dropped);
  const name = key(opt.name);
  const momentum = numberField(config, ["momentum"]) ?? 0;
  const nesterov = numberField(config, ["nesterov", "usenesterov"]) === true;
  const amsgrad = numberField(config, ["amsgrad"]) === true;
  const keras = record.framework === "keras";

  // The rule: sgd (with momentum), adam, or the fallback with what it cannot keep.
  let rule: "sgd" | "momentum" | "adam" | undefined;
  let lost: string | undefined;
  if ((name === "sgd" || name === "momentum") && typeof momentum === "number" && momentum >= 0 && momentum < 1) {
    if (nesterov && momentum > 0) lost = `Nesterov momentum ${momentum} (qfirm's momentum is not Nesterov's)`;
    else rule = momentum > 0 ? "momentum" : "sgd";
  } else if (name === "sgd" || name === "momentum") {
    lost = `momentum ${JSON.stringify(momentum)} (qfirm takes momentum in [0, 1))`;
  } else if (name === "adam") {
    if (amsgrad) lost = "AMSGrad (qfirm's Adam has no AMSGrad)";
    else rule = "adam";
  } else {
    lost = `${opt.name}'s own update rule`;
  }
  const legacyDecay = numberField(config, ["decay"]);
  if (typeof legacyDecay === "number" && legacyDecay !== 0) dropped.push(`decay ${legacyDecay} (Keras 2's inverse-time decay)`);
  for (const [k, v] of Object.entries(config)) {
    const field = key(k);
    if ((MODIFIERS.has(field) && typeof v === "number" && v !== 0) || (field === "useema" && v === true) || (field === "gradientaccumulationsteps" && typeof v === "number" && v > 1)) {
      dropped.push(`${k} ${JSON.stringify(v)}`);
    }
  }

  const source = record.source;
  if (typeof rate !== "number" || !(rate > 0)) {
    lines.push(
      `optimizer: sgd, learning rate ${DEFAULT_LEARNING_RATE} (default; ${source} records ${opt.name} with learning rate ${JSON.stringify(rate ?? null)}, not a number qfirm can use)`,
    );
    if (lost) dropped.unshift(lost);
    if (dropped.length > 0) lines.push(`optimizer: dropped: ${dropped.join("; ")}`);
    return { optimizer: { type: "sgd", learningRate: DEFAULT_LEARNING_RATE }, lines };
  }

  const decayed = decay ? `, ${decay.type} decay by ${decay.rate} every ${decay.steps} steps` : "";
  let optimizer: OptimizerField;
  if (rule === "adam") {
    // Adam's step does not change with the gradient's scale; epsilon, added to √v̂, does.
    const beta1 = numberField(config, ["beta1"]);
    const beta2 = numberField(config, ["beta2"]);
    const epsilon = numberField(config, ["epsilon"]);
    const b1 = typeof beta1 === "number" ? beta1 : DEFAULT_ADAM.beta1;
    const b2 = typeof beta2 === "number" ? beta2 : DEFAULT_ADAM.beta2;
    const eps = typeof epsilon === "number" && epsilon > 0 ? epsilon : DEFAULT_ADAM.epsilon;
    const scaled = eps / scale.factor;
    const epsText = scale.factor !== 1 ? `${eps} ${scale.text.replace(/^× /, "÷ ")} = ${scaled}` : `${eps}`;
    optimizer = { type: "adam", learningRate: rate, beta1: b1, beta2: b2, epsilon: scaled, ...(decay ? { decay } : {}) };
    lines.push(`optimizer: adam, learning rate ${rate}, beta1 ${b1}, beta2 ${b2}, epsilon ${epsText}${decayed} (${source} records ${opt.name} at ${recorded})`);
    if (scale.factor !== 1) lines.push(`optimizer: Adam's step does not depend on the gradient's scale, so the learning rate stays; epsilon, added to √v̂, takes the loss's scale`);
    if (keras) lines.push(`optimizer: Keras adds epsilon to √v, not to √v̂ ("epsilon hat"); the steps agree while √v̂ ≫ epsilon`);
  } else if (rule === "momentum" || rule === "sgd") {
    const learningRate = rate * scale.factor;
    const how = scale.factor !== 1 ? `${rate} ${scale.text} = ${learningRate}` : `${rate}`;
    const withMomentum = rule === "momentum" ? `, momentum ${momentum}` : "";
    optimizer = { type: "sgd", learningRate, ...(rule === "momentum" ? { momentum: momentum as number } : {}), ...(decay ? { decay } : {}) };
    lines.push(`optimizer: sgd, learning rate ${how}${withMomentum}${decayed} (${source} records ${opt.name} at ${recorded}${withMomentum})`);
    if (rule === "momentum" && keras && decay) {
      lines.push(`optimizer: with momentum and a decaying rate, Keras weighs each gradient by its own step's rate and qfirm the velocity by the current one; the steps agree while the rate holds`);
    }
  } else {
    const learningRate = rate * scale.factor;
    const how = scale.factor !== 1 ? `${rate} ${scale.text} = ${learningRate}` : `${rate}`;
    optimizer = { type: "sgd", learningRate, ...(decay ? { decay } : {}) };
    lines.push(`optimizer: sgd, learning rate ${how}${decayed} (${source} records ${opt.name} at ${recorded})`);
    lines.push(`optimizer: qfirm trains with plain SGD; dropped: ${[lost, ...dropped].join("; ")}`);
    return { optimizer, lines };
  }
  if (dropped.length > 0) lines.push(`optimizer: dropped (qfirm has no such setting): ${dropped.join("; ")}`);
  return { optimizer, lines };
}
