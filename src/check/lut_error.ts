// Measures the table activations against Math over a dense sweep, through the probe
// module (the real fixed-point code, not a model of it).

import { buildModel } from "../build/build.js";
import { buildProbe } from "../run/probe.js";
import { parseSpec } from "../spec/spec.js";
import type { LutConfig } from "../spec/model.js";

export interface SweepResult {
  maxError: number;
  /** Where the error peaks. */
  at: number;
  /** maxError in units of the format's LSB. */
  lsbs: number;
  monotonic: boolean;
  points: number;
}

export interface LutError {
  sigmoid: SweepResult;
  tanh: SweepResult;
}

/** `points` evenly spaced Q values over [−reach, reach]: fn (Q → Q) against exact (float64). */
function sweep(fn: (q: number) => number, exact: (x: number) => number, reach: number, fracBits: number, points: number): SweepResult {
  const scale = 2 ** fracBits;
  const lo = -Math.round(Math.min(reach * scale, 2 ** 31));
  const stride = Math.max(1, Math.floor((-2 * lo) / points));
  const result: SweepResult = { maxError: 0, at: 0, lsbs: 0, monotonic: true, points: 0 };
  let previous = -Infinity;
  for (let q = lo; q <= -lo && q <= 2 ** 31 - 1; q += stride) {
    const y = fn(q);
    if (y < previous) result.monotonic = false;
    previous = y;
    const error = Math.abs(y / scale - exact(q / scale));
    if (error > result.maxError) {
      result.maxError = error;
      result.at = q / scale;
    }
    result.points++;
  }
  result.lsbs = result.maxError * scale;
  return result;
}

export function sigmoidMath(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Sweeps x over [−reach, reach] (reach: past where each function saturates in the
 * table, 2·range + 4 for sigmoid and range + 4 for tanh) with `points` evenly spaced
 * Q values, each compared with Math in float64.
 */
export async function measureLut(fracBits: number, lut: LutConfig, points = 1 << 21): Promise<LutError> {
  const probe = await buildProbe(fracBits, lut);
  return {
    sigmoid: sweep((q) => probe.sigmoid(q), sigmoidMath, 2 * lut.range + 4, fracBits, points),
    tanh: sweep((q) => probe.tanh(q), Math.tanh, lut.range + 4, fracBits, points),
  };
}

/**
 * Softmax's exp (2^k range reduction, assembly/exp.ts) and division, measured end
 * to end: a two-unit softmax over logits (x, 0) gives σ(x) exactly in real
 * arithmetic, so its first output is compared with Math over x ∈ [−reach, reach].
 */
export async function measureSoftmax(fracBits: number, reach = 24, points = 1 << 20): Promise<SweepResult> {
  const model = parseSpec({
    name: "softmax-probe",
    format: `q${32 - fracBits}.${fracBits}`,
    inputs: 1,
    layers: [{ units: 2, activation: "softmax" }],
    loss: { type: "cross_entropy" },
    weights: [{ weight: [[1, 0]], bias: [0, 0] }],
  });
  const { wasm, manifest } = await buildModel(model);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
  const forward = instance.exports.forward as () => void;
  const words = new Int32Array((instance.exports.memory as WebAssembly.Memory).buffer);
  const input = manifest.buffers.input / 4;
  const output = manifest.buffers.output / 4;
  const forwardAt = (q: number): number => {
    words[input] = q;
    forward();
    return words[output];
  };
  return sweep(forwardAt, sigmoidMath, reach, fracBits, points);
}
