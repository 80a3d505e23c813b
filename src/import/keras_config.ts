// The Keras model config (what `model.to_json()` writes, what a .h5 file's
// `model_config` and a .keras file's config.json hold, and what TF.js Layers keeps as
// its modelTopology) turned into steps. TF.js, Keras 2 and Keras 3 differ only in
// where the config and the weights live, so one walker serves them all; the readers
// pass the layers' weights, in the order the file stores them.

import { ImportError, plural, type NamedTensor, type Step, type TrainingRecord } from "./steps.js";

type Json = Record<string, unknown>;

export interface KerasLayer {
  class_name: string;
  config: Json;
  inbound_nodes?: unknown;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The model config's layers, checked to be a chain (Sequential, or a Functional model without branches). */
export function configLayers(modelConfig: unknown, where: string): { name?: string; layers: KerasLayer[] } {
  if (!isObject(modelConfig) || typeof modelConfig.class_name !== "string" || !isObject(modelConfig.config)) {
    throw new ImportError(`${where}: no Keras model config (class_name and config) found`);
  }
  const cls = modelConfig.class_name;
  const config = modelConfig.config;
  const layers = config.layers;
  if (!Array.isArray(layers) || !layers.every((l) => isObject(l) && typeof l.class_name === "string" && isObject(l.config))) {
    throw new ImportError(`${where}: ${cls} config has no list of layers`);
  }
  const name = typeof config.name === "string" ? config.name : undefined;
  if (cls === "Sequential") return { name, layers: layers as unknown as KerasLayer[] };
  if (cls !== "Functional" && cls !== "Model") {
    throw new ImportError(`${where}: a ${cls} model is not supported; qfirm imports Sequential and Functional chains of dense layers`);
  }
  const list = layers as unknown as KerasLayer[];
  list.forEach((layer, i) => {
    const inbound = inboundNames(layer.inbound_nodes);
    const label = `layers[${i}] "${String(layer.config.name)}"`;
    if (i === 0) {
      if (inbound.length > 0) throw new ImportError(`${label}: the first layer takes another layer's output; qfirm imports chains`);
      return;
    }
    const previous = String(list[i - 1].config.name);
    if (inbound.length !== 1 || inbound[0] !== previous) {
      throw new ImportError(
        `${label}: takes ${inbound.length === 0 ? "no input" : inbound.map((n) => `"${n}"`).join(", ")}, not the layer before ("${previous}"); qfirm imports chains of dense layers without branches`,
      );
    }
  });
  return { name, layers: list };
}

/** Names of the layers feeding a layer: Keras 2 and TF.js `[[["dense", 0, 0, {}]]]`, Keras 3 `[{ args: [keras tensors] }]`. */
function inboundNames(nodes: unknown): string[] {
  if (!Array.isArray(nodes)) return [];
  const names: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      if (typeof value[0] === "string" && typeof value[1] === "number") names.push(value[0]);
      else value.forEach(visit);
    } else if (isObject(value)) {
      if (value.class_name === "__keras_tensor__" && isObject(value.config) && Array.isArray(value.config.keras_history)) {
        names.push(String(value.config.keras_history[0]));
      } else {
        Object.values(value).forEach(visit);
      }
    }
  };
  nodes.forEach(visit);
  return names;
}

/** "relu", or Keras 3's serialized function `{ class_name: "function", config: "relu" }`; lower case. */
function activationName(value: unknown): string {
  if (value === undefined || value === null) return "linear";
  if (typeof value === "string") return value.toLowerCase();
  if (isObject(value) && typeof value.config === "string") return value.config.toLowerCase();
  if (isObject(value) && typeof value.class_name === "string") return value.class_name.toLowerCase();
  return JSON.stringify(value);
}

/** The last segment of a weight's name without ":0": "dense/kernel:0" → "kernel". */
function role(name: string): string {
  return name.replace(/:\d+$/, "").split("/").pop() ?? name;
}

/**
 * Picks each named role from a layer's weights: by name where the file names them
 * (kernel, bias, gamma...), else by position (Keras 3 stores vars/0, vars/1...).
 */
function pick(weights: NamedTensor[], roles: string[], label: string): Map<string, NamedTensor> {
  const byName = new Map<string, NamedTensor>();
  for (const w of weights) byName.set(role(w.name), w);
  const out = new Map<string, NamedTensor>();
  if (roles.every((r) => byName.has(r))) {
    for (const r of roles) out.set(r, byName.get(r)!);
    return out;
  }
  if (weights.length !== roles.length) {
    throw new ImportError(`${label}: has ${plural(weights.length, "weight")} (${weights.map((w) => w.name).join(", ") || "none"}); expected ${roles.join(", ")}`);
  }
  roles.forEach((r, k) => out.set(r, weights[k]));
  return out;
}

function isLastAxis(axis: unknown, rank: number | undefined): boolean {
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  return a === -1 || a === undefined || (rank !== undefined && a === rank - 1);
}

const SKIPPED: Record<string, string> = {
  InputLayer: "the input",
  Dropout: "does nothing at inference",
  Flatten: "qfirm takes the input flattened, row-major",
};

/** Steps for a chain of Keras layers; `weightsOf` gives a layer's weights in file order. */
export function kerasSteps(layers: KerasLayer[], weightsOf: (name: string, index: number) => NamedTensor[]): Step[] {
  let rank: number | undefined;
  return layers.map((layer, i): Step => {
    const name = String(layer.config.name ?? `layer${i}`);
    const where = `layers[${i}] "${name}"`;
    const cfg = layer.config;
    const shape = (cfg.batch_input_shape ?? cfg.batch_shape ?? cfg.batchInputShape) as unknown;
    if (Array.isArray(shape)) rank = shape.length;
    const cls = layer.class_name;
    if (cls in SKIPPED) {
      if (cls === "Flatten") rank = 2;
      return { kind: "skip", where, what: cls, why: SKIPPED[cls] };
    }
    switch (cls) {
      case "Dense": {
        const useBias = cfg.use_bias !== false && cfg.useBias !== false;
        const w = pick(weightsOf(name, i), useBias ? ["kernel", "bias"] : ["kernel"], where);
        if (rank !== undefined && rank > 2) {
          throw new ImportError(`${where}: a Dense layer on a rank-${rank} input (applied along the last axis) is not a dense layer of the flat input; add a Flatten before it`);
        }
        return {
          kind: "dense",
          where,
          kernel: w.get("kernel")!,
          bias: w.get("bias"),
          activation: activationName(cfg.activation),
          trainable: cfg.trainable === false ? false : undefined,
        };
      }
      case "Activation":
        return { kind: "activation", where, activation: activationName(cfg.activation) };
      case "ReLU": {
        const maxValue = cfg.max_value ?? cfg.maxValue;
        const slope = cfg.negative_slope ?? 0;
        const threshold = cfg.threshold ?? 0;
        if ((maxValue !== undefined && maxValue !== null) || slope !== 0 || threshold !== 0) {
          throw new ImportError(`${where}: ReLU with max_value, negative_slope or threshold is not supported; qfirm's relu is max(0, z)`);
        }
        return { kind: "activation", where, activation: "relu" };
      }
      case "Softmax":
        if (!isLastAxis(cfg.axis, rank)) throw new ImportError(`${where}: Softmax over axis ${JSON.stringify(cfg.axis)}; qfirm takes it over the units`);
        return { kind: "activation", where, activation: "softmax" };
      case "BatchNormalization": {
        if (!isLastAxis(cfg.axis, rank)) throw new ImportError(`${where}: BatchNormalization over axis ${JSON.stringify(cfg.axis)}; qfirm folds it over the units`);
        const center = cfg.center !== false;
        const scale = cfg.scale !== false;
        const roles = [...(scale ? ["gamma"] : []), ...(center ? ["beta"] : []), "moving_mean", "moving_variance"];
        const w = pick(weightsOf(name, i), roles, where);
        return {
          kind: "batchnorm",
          where,
          gamma: w.get("gamma"),
          beta: w.get("beta"),
          mean: w.get("moving_mean")!,
          variance: w.get("moving_variance")!,
          epsilon: typeof cfg.epsilon === "number" ? cfg.epsilon : 1e-3,
          trainable: cfg.trainable === false ? false : undefined,
        };
      }
      default:
        throw new ImportError(`${where}: ${cls} is not supported; qfirm imports chains of dense layers`);
    }
  });
}

/** A loss or optimizer as a string ("mse", "adam") or a serialized object ({ class_name, config }). */
function named(value: unknown): { name: string; config: Json } | undefined {
  if (typeof value === "string") return { name: value, config: {} };
  if (isObject(value) && typeof value.class_name === "string") {
    return { name: value.class_name.replace(/^Custom>/, ""), config: isObject(value.config) ? value.config : {} };
  }
  return undefined;
}

/**
 * Keras 2's training_config `{ loss, optimizer_config }`, Keras 3's compile_config
 * `{ loss, optimizer }`, TF.js's trainingConfig `{ loss, optimizer_config }`.
 */
export function trainingRecord(config: unknown, source: string, framework: TrainingRecord["framework"], notes: string[]): TrainingRecord | undefined {
  if (!isObject(config)) return undefined;
  const record: TrainingRecord = { source, framework };
  const loss = config.loss;
  if (loss !== undefined && loss !== null) {
    record.loss = named(loss);
    if (!record.loss) notes.push(`${source}: a loss per output (${JSON.stringify(loss).slice(0, 60)}) is not supported; qfirm has one loss`);
  }
  const optimizer = config.optimizer_config ?? config.optimizer;
  if (optimizer !== undefined && optimizer !== null) record.optimizer = named(optimizer);
  return record.loss || record.optimizer ? record : undefined;
}
