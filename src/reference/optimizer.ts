// The float64 reference's optimizer for a whole Model: plain SGD, momentum or Adam
// (sgd.ts, momentum.ts, adam.ts) with the learning-rate decay (decay.ts), stepping the
// trainable layers only, with its state (velocity, moments, step count) kept across
// steps as the module keeps it in memory.

import { isTrainable, type LayerWeights, type Model } from "../spec/model.js";
import { adam_step } from "./adam.js";
import { decayed_rate } from "./decay.js";
import { momentum_step } from "./momentum.js";
import { sgd_step } from "./sgd.js";

/** f of each value, as fresh layers of the same shape (the optimizers' state is shaped like the params). */
export function mapValues(layers: LayerWeights[], f: (value: number) => number): LayerWeights[] {
  return layers.map(({ weight, bias }) => ({ weight: weight.map((row) => row.map(f)), bias: bias.map(f) }));
}

export class Optimizer {
  /** Optimizer steps taken. */
  steps = 0;
  /**
   * Per trainable layer, in layer order: momentum's velocity, Adam's moments; zero at
   * first, and empty for an optimizer that keeps no such state.
   */
  velocity: LayerWeights[] = [];
  m: LayerWeights[] = [];
  v: LayerWeights[] = [];
  private readonly trainable: number[];

  constructor(readonly model: Model) {
    this.trainable = model.layers.flatMap((layer, l) => (isTrainable(layer) ? [l] : []));
    const zeros = () => mapValues(this.trainable.map((l) => model.weights[l]), () => 0);
    const o = model.optimizer;
    if (o.type === "adam") [this.m, this.v] = [zeros(), zeros()];
    else if (o.momentum > 0) this.velocity = zeros();
  }

  /** The learning rate of the next step. */
  get learningRate(): number {
    return decayed_rate(this.model.learningRate, this.model.optimizer.decay, this.steps);
  }

  /**
   * One step from `grads` (a batch step passes the rows' mean gradient): new params,
   * the frozen layers' the very same; `params` and `grads` are left untouched.
   */
  step(params: LayerWeights[], grads: LayerWeights[]): LayerWeights[] {
    const o = this.model.optimizer;
    const lr = this.learningRate;
    this.steps++;
    const p = this.trainable.map((l) => params[l]);
    const g = this.trainable.map((l) => grads[l]);
    let next: LayerWeights[];
    if (o.type === "adam") {
      const stepped = adam_step(p, g, this.m, this.v, this.steps, { ...o, learningRate: lr });
      [next, this.m, this.v] = [stepped.params, stepped.m, stepped.v];
    } else if (o.momentum > 0) {
      const stepped = momentum_step(p, g, this.velocity, lr, o.momentum);
      [next, this.velocity] = [stepped.params, stepped.velocity];
    } else {
      next = sgd_step(p, g, lr);
    }
    const result = params.slice();
    this.trainable.forEach((l, k) => (result[l] = next[k]));
    return result;
  }
}
