// The loss and optimizer a file records (Keras compile config, TF.js trainingConfig),
// in qfirm's terms, with a printed line for each choice and for each setting dropped.

import type { LossType } from "../spec/model.js";
import { DEFAULT_HUBER_DELTA, DEFAULT_LEARNING_RATE } from "../spec/spec.js";
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

/** Settings that change what a step does, beyond momentum and decay: named when dropped. */
const CLIPPING = new Set(["clipnorm", "clipvalue", "globalclipnorm"]);

export interface TrainingChoice {
  loss: { type: LossType; delta?: number };
  learningRate: number;
  lines: string[];
}

function numberField(config: Record<string, unknown>, names: string[]): unknown {
  for (const [k, v] of Object.entries(config)) if (names.includes(key(k))) return v;
  return undefined;
}

/** The loss and learning rate to write, and a line for each choice and each setting dropped. */
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

  let learningRate = DEFAULT_LEARNING_RATE;
  const opt = record?.optimizer;
  if (!opt) {
    lines.push(`optimizer: sgd, learning rate ${DEFAULT_LEARNING_RATE} (default; the file records no optimizer)`);
    return { loss, learningRate, lines };
  }
  const rate = numberField(opt.config, ["learningrate", "lr"]);
  const isSgd = key(opt.name) === "sgd";
  const dropped: string[] = [];
  if (!isSgd) dropped.push(`${opt.name}'s own update rule`);
  const momentum = numberField(opt.config, ["momentum"]);
  if (typeof momentum === "number" && momentum !== 0) dropped.push(`momentum ${momentum}`);
  if (numberField(opt.config, ["nesterov", "usenesterov"]) === true) dropped.push("nesterov");
  const decay = numberField(opt.config, ["decay"]);
  if (typeof decay === "number" && decay !== 0) dropped.push(`decay ${decay}`);
  for (const [k, v] of Object.entries(opt.config)) {
    const name = key(k);
    if ((name === "weightdecay" && typeof v === "number" && v !== 0) || (CLIPPING.has(name) && typeof v === "number") || (name === "useema" && v === true)) {
      dropped.push(`${k} ${JSON.stringify(v)}`);
    }
  }
  if (typeof rate === "number" && rate > 0) {
    learningRate = rate * scale;
    const how = scale !== 1 ? `${rate} ${scaleText} = ${learningRate}` : `${rate}`;
    lines.push(`optimizer: sgd, learning rate ${how} (${record!.source} records ${opt.name} at ${rate})`);
  } else {
    lines.push(
      `optimizer: sgd, learning rate ${DEFAULT_LEARNING_RATE} (default; ${record!.source} records ${opt.name} with learning rate ${JSON.stringify(rate ?? null)}, not a number qfirm can use)`,
    );
  }
  if (dropped.length > 0) lines.push(`optimizer: qfirm trains with plain SGD; dropped: ${dropped.join(", ")}`);
  return { loss, learningRate, lines };
}
