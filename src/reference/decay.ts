// Float64 reference of the learning-rate decay, counted in optimizer steps t = 0, 1, …
// (the steps taken before this one). Mirrors assembly/decay.ts.

import type { Decay } from "../spec/model.js";

/** η·rate^(t/steps) ("exponential") or η·rate^⌊t/steps⌋ ("step"); η itself without a decay. */
export function decayed_rate(learningRate: number, decay: Decay | undefined, t: number): number {
  if (!decay) return learningRate;
  const periods = decay.type === "exponential" ? t / decay.steps : Math.floor(t / decay.steps);
  return learningRate * decay.rate ** periods;
}
