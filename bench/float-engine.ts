// A float64 trainer written for speed, as a baseline: the reference engine
// (src/reference/) allocates new arrays every step, so it is no measure of what plain
// JavaScript does. Here every buffer is a Float64Array made once, rows are read in
// place, inputs that are exactly 0 skip their row (as the module's kernels do), and
// per-sample SGD fuses the update into the backward pass (w −= x_i·(η·dZ_j), the
// input gradient taken before the weights change). Same model, losses and row order
// as every other engine.

import type { Dataset } from "../src/train/data.js";
import { fanInOf, type Model } from "../src/spec/model.js";
import type { EngineCases } from "./engine.js";
import { MINI_BATCH, type BenchModel } from "./models.js";

interface Layer {
  fanIn: number;
  units: number;
  activation: Model["layers"][number]["activation"];
  w: Float64Array;
  b: Float64Array;
  gw: Float64Array;
  gb: Float64Array;
  z: Float64Array;
  a: Float64Array;
  dA: Float64Array;
  dZ: Float64Array;
}

class FloatTrainer {
  readonly layers: Layer[];
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly width: number;

  constructor(
    readonly model: Model,
    data: Dataset,
  ) {
    this.layers = model.layers.map((layer, l) => {
      const fanIn = fanInOf(model, l);
      const n = layer.units;
      return {
        fanIn, units: n, activation: layer.activation,
        w: Float64Array.from(model.weights[l].weight.flat()), b: Float64Array.from(model.weights[l].bias),
        gw: new Float64Array(fanIn * n), gb: new Float64Array(n),
        z: new Float64Array(n), a: new Float64Array(n), dA: new Float64Array(n), dZ: new Float64Array(n),
      };
    });
    this.x = Float64Array.from(data.inputs.flat());
    this.y = Float64Array.from(data.targets.flat());
    this.width = model.inputs;
  }

  forward(row: number): void {
    let input = this.x;
    let at = row * this.width;
    for (const L of this.layers) {
      const { w, z, units } = L;
      z.set(L.b);
      for (let i = 0; i < L.fanIn; i++) {
        const xi = input[at + i];
        if (xi === 0) continue;
        const base = i * units;
        for (let j = 0; j < units; j++) z[j] += xi * w[base + j];
      }
      activate(L);
      input = L.a;
      at = 0;
    }
  }

  /** The loss of the last forward; writes ∂L/∂a (or ∂L/∂z through softmax) of the last layer. */
  lossAndGradient(row: number): number {
    const last = this.layers[this.layers.length - 1];
    const { a, z, units } = last;
    const y = this.y;
    const at = row * units;
    let loss = 0;
    if (this.model.loss.type === "cross_entropy") {
      let max = -Infinity;
      for (let j = 0; j < units; j++) max = Math.max(max, z[j]);
      let sum = 0;
      for (let j = 0; j < units; j++) sum += Math.exp(z[j] - max);
      const logSum = Math.log(sum);
      let sumY = 0;
      for (let j = 0; j < units; j++) {
        loss += y[at + j] * (logSum - (z[j] - max));
        sumY += y[at + j];
      }
      for (let j = 0; j < units; j++) last.dZ[j] = a[j] * sumY - y[at + j];
    } else {
      for (let j = 0; j < units; j++) {
        const d = a[j] - y[at + j];
        loss += 0.5 * d * d;
        last.dA[j] = d;
      }
    }
    return loss;
  }

  /** Backward from the last layer's gradient; per-sample SGD fused in (rate > 0), or gradients added into gw, gb. */
  backward(row: number, rate: number): void {
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l];
      const { units, dZ, w } = L;
      derive(L);
      const input = l === 0 ? this.x : this.layers[l - 1].a;
      const at = l === 0 ? row * this.width : 0;
      if (l > 0) {
        const dX = this.layers[l - 1].dA;
        for (let i = 0; i < L.fanIn; i++) {
          let s = 0;
          const base = i * units;
          for (let j = 0; j < units; j++) s += w[base + j] * dZ[j];
          dX[i] = s;
        }
      }
      if (rate > 0) {
        for (let j = 0; j < units; j++) {
          dZ[j] *= rate;
          L.b[j] -= dZ[j];
        }
        for (let i = 0; i < L.fanIn; i++) {
          const xi = input[at + i];
          if (xi === 0) continue;
          const base = i * units;
          for (let j = 0; j < units; j++) w[base + j] -= xi * dZ[j];
        }
      } else {
        for (let j = 0; j < units; j++) L.gb[j] += dZ[j];
        for (let i = 0; i < L.fanIn; i++) {
          const xi = input[at + i];
          if (xi === 0) continue;
          const base = i * units;
          for (let j = 0; j < units; j++) L.gw[base + j] += xi * dZ[j];
        }
      }
    }
  }

  trainRow(row: number): number {
    this.forward(row);
    const loss = this.lossAndGradient(row);
    this.backward(row, this.model.learningRate);
    return loss;
  }

  /** One SGD step on the mean gradient of rows 0 … n−1. */
  trainBatch(n: number): number {
    for (const L of this.layers) {
      L.gw.fill(0);
      L.gb.fill(0);
    }
    let loss = 0;
    for (let k = 0; k < n; k++) {
      this.forward(k);
      loss += this.lossAndGradient(k);
      this.backward(k, 0);
    }
    const rate = this.model.learningRate / n;
    for (const L of this.layers) {
      for (let k = 0; k < L.w.length; k++) L.w[k] -= rate * L.gw[k];
      for (let j = 0; j < L.units; j++) L.b[j] -= rate * L.gb[j];
    }
    return loss / n;
  }
}

function activate(L: Layer): void {
  const { z, a, units } = L;
  switch (L.activation) {
    case "sigmoid":
      for (let j = 0; j < units; j++) a[j] = 1 / (1 + Math.exp(-z[j]));
      break;
    case "tanh":
      for (let j = 0; j < units; j++) a[j] = Math.tanh(z[j]);
      break;
    case "relu":
      for (let j = 0; j < units; j++) a[j] = z[j] > 0 ? z[j] : 0;
      break;
    case "linear":
      a.set(z);
      break;
    case "softmax": {
      let max = -Infinity;
      for (let j = 0; j < units; j++) max = Math.max(max, z[j]);
      let sum = 0;
      for (let j = 0; j < units; j++) sum += a[j] = Math.exp(z[j] - max);
      for (let j = 0; j < units; j++) a[j] /= sum;
      break;
    }
  }
}

/** dZ from dA and the output a (softmax: the loss wrote dZ). */
function derive(L: Layer): void {
  const { a, dA, dZ, units } = L;
  switch (L.activation) {
    case "sigmoid":
      for (let j = 0; j < units; j++) dZ[j] = dA[j] * a[j] * (1 - a[j]);
      break;
    case "tanh":
      for (let j = 0; j < units; j++) dZ[j] = dA[j] * (1 - a[j] * a[j]);
      break;
    case "relu":
      for (let j = 0; j < units; j++) dZ[j] = a[j] > 0 ? dA[j] : 0;
      break;
    case "linear":
      dZ.set(dA);
      break;
    case "softmax":
      break;
  }
}

export function floatCases(bench: BenchModel): EngineCases {
  const loss = bench.model.loss.type;
  if (loss !== "l2" && loss !== "cross_entropy") throw new Error(`${bench.name}: the float64 trainer has no ${loss} loss`);
  const trainer = new FloatTrainer(bench.model, bench.data);
  const rows = bench.data.inputs.length;
  return {
    trainSamples: () => {
      for (let k = 0; k < rows; k++) trainer.trainRow(k);
      return rows;
    },
    trainBatch: () => (trainer.trainBatch(MINI_BATCH), MINI_BATCH),
    predictSamples: () => {
      for (let k = 0; k < rows; k++) trainer.forward(k);
      return rows;
    },
    dispose() {},
  };
}

/** The trainer's params after `passes` per-sample passes over the rows (for the test against the reference). */
export function floatTrainedParams(bench: BenchModel, passes: number): { weight: number[]; bias: number[] }[] {
  const trainer = new FloatTrainer(bench.model, bench.data);
  for (let p = 0; p < passes; p++) for (let k = 0; k < bench.data.inputs.length; k++) trainer.trainRow(k);
  return trainer.layers.map((L) => ({ weight: Array.from(L.w), bias: Array.from(L.b) }));
}
