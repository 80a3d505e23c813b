// Seeded two-layer nets (4 inputs, 5 hidden, 3 outputs) for every activation and
// loss pairing the spec allows, each with a sample that clears every kink: shared by
// the reference's gradient tests and the module's parity tests.

import type { Activation, LayerWeights, LossType, Model } from "../../src/spec/model.js";
import { forward } from "../../src/reference/network.js";
import { mulberry32, parseSpec } from "../../src/spec/spec.js";
import { randomSpec } from "./models.js";

/**
 * No sample may sit closer than this to a kink (a ReLU pre-activation at 0, |ŷ − y| at 0
 * for L1 or at δ for Huber, y·ŷ at 1 for hinge, ‖ŷ‖ at 0 for cosine).
 */
export const KINK_MARGIN = 1e-3;
/** Seeds tried per case before giving up on finding a sample that clears every kink. */
export const MAX_DRAWS = 50;
export const HUBER_DELTA = 0.3;

export interface Case {
  name: string;
  activations: [Activation, Activation];
  loss: LossType;
}

export const HIDDEN: Activation[] = ["sigmoid", "tanh", "relu", "linear"];
export const OUTPUT: Activation[] = ["sigmoid", "tanh", "relu", "linear"];
export const ELEMENTWISE_LOSSES: LossType[] = ["l2", "l1", "huber", "hinge", "cosine"];

/** Every hidden activation × every output activation × every loss; softmax only with cross_entropy, as the spec allows. */
export const CASES: Case[] = [
  ...ELEMENTWISE_LOSSES.flatMap((loss) =>
    HIDDEN.flatMap((hidden) => OUTPUT.map((output): Case => ({ name: `${hidden} → ${output}, ${loss}`, activations: [hidden, output], loss }))),
  ),
  ...HIDDEN.map((hidden): Case => ({ name: `${hidden} → softmax, cross_entropy`, activations: [hidden, "softmax"], loss: "cross_entropy" })),
];

export interface Net {
  model: Model;
  params: LayerWeights[];
  input: number[];
  target: number[];
  seed: number;
}

/**
 * A seeded net for the case: randomSpec's Glorot weights, biases redrawn in [−0.5, 0.5)
 * (Glorot's are 0), and a target the loss accepts: ±1 for hinge, one-hot for
 * cross_entropy, values in [−1, 1) for cosine, randomSpec's (0.1, 0.9) otherwise.
 */
export function netFor(c: Case, seed: number): Net {
  const spec = randomSpec({ seed, activations: c.activations, loss: c.loss, inputs: 4, hidden: 5, outputs: 3 });
  const draw = mulberry32(seed ^ 0xc0ffee);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * draw();
  const sample = spec.sample as { input: number[]; target: number[] };
  if (c.loss === "hinge") sample.target = sample.target.map(() => (draw() < 0.5 ? -1 : 1));
  if (c.loss === "cross_entropy") {
    const hot = Math.floor(draw() * sample.target.length);
    sample.target = sample.target.map((_, j) => (j === hot ? 1 : 0));
  }
  if (c.loss === "cosine") sample.target = sample.target.map(() => uniform(-1, 1));
  if (c.loss === "huber") spec.loss = { type: "huber", delta: HUBER_DELTA };
  const model = parseSpec(spec);
  const params = model.weights.map((w) => ({ weight: w.weight, bias: w.bias.map(() => uniform(-0.5, 0.5)) }));
  return { model, params, input: model.sample!.input, target: model.sample!.target, seed };
}

/** How close the net's sample comes to a kink of its activations or its loss (Infinity when it has none). */
export function kinkDistance(net: Net): number {
  const { model, params, input, target } = net;
  const { z, a } = forward(model, params, input);
  const yHat = a[a.length - 1];
  const distances: number[] = [];
  model.layers.forEach((layer, l) => {
    if (layer.activation === "relu") distances.push(...z[l].map(Math.abs));
  });
  const delta = model.loss.delta ?? 1;
  switch (model.loss.type) {
    case "l1":
      distances.push(...yHat.map((p, j) => Math.abs(p - target[j])));
      break;
    case "huber":
      distances.push(...yHat.map((p, j) => Math.abs(Math.abs(p - target[j]) - delta)));
      break;
    case "hinge":
      distances.push(...yHat.map((p, j) => Math.abs(target[j] * p - 1)));
      break;
    case "cosine":
      distances.push(Math.hypot(...yHat));
      break;
  }
  return Math.min(Infinity, ...distances);
}

/**
 * Whether the sample gives the loss something to push, judged from the forward pass alone
 * (not from the backward under test). All-zero gradients would check nothing: a ReLU output
 * layer with no unit above 0; a hinge with every margin met; a cosine loss with fewer than
 * two nonzero outputs (ŷ then stays on one axis, so cos θ cannot change).
 */
export function hasSignal(net: Net): boolean {
  const { z, a } = forward(net.model, net.params, net.input);
  const last = net.model.layers.length - 1;
  if (net.model.layers[last].activation === "relu" && z[last].every((v) => v <= 0)) return false;
  if (net.model.loss.type === "hinge" && a[last].every((p, j) => net.target[j] * p >= 1)) return false;
  if (net.model.loss.type === "cosine" && a[last].filter((p) => p !== 0).length < 2) return false;
  return true;
}

/** The first seed of the case's range whose sample clears every kink by kinkMargin and has a signal. */
export function drawNet(c: Case, caseIndex: number): Net {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const net = netFor(c, 1000 * (caseIndex + 1) + draw);
    if (kinkDistance(net) >= KINK_MARGIN && hasSignal(net)) return net;
  }
  throw new Error(`${c.name}: no sample among ${MAX_DRAWS} seeds clears every kink by ${KINK_MARGIN} and has a nonzero gradient`);
}

