// Tolerances of the fixed-point tests (q.test.ts, lut.test.ts), kept in one place, and
// the helper that compares arrays and reports the worst index.
//
// Units: an LSB is one unit in the last place of the format under test (2^−F for
// q.F), unless the key says q30 (2^−30, the tables' format). Absolute errors (as
// measureLut reports them) are in LUT_ERROR below, with why they are absolute.

import { expect } from "vitest";

/** Allowed |actual − expected|, in LSBs. */
export const TOLERANCE_LSB = {
  /** Against an exact BigInt oracle (rounding half away from zero, then clamping): bit for bit. */
  exact: 0,
  /** mul against the real product a·b / 2^F computed exactly in float64: one rounding. */
  mul: 0.5,
  /** rescale down by s bits against x / 2^s computed exactly in float64: one rounding. */
  rescale: 0.5,
  /** tanh(−x) against −tanh(x): |x| is taken first and the rounding is symmetric, so exact. */
  tanhOddSymmetry: 0,
  /** σ(x) + σ(−x) against 1: two roundings of halves that sum to 1; both can be ties rounded up. */
  sigmoidSymmetry: 1,
  /** Table entry against tanh(i·h)·2^30 (q30 LSBs): one rounding to nearest. */
  tableEntryQ30: 0.5,
  /** The table activations' final rounding to q.F. */
  activationOutput: 0.5,
  /**
   * The table activations' integer arithmetic before that rounding, in q30 LSBs: the entries
   * (0.5 each), the two Bézier control points (rounded) and three levels of floor lerps (< 1
   * each). Measured: about 2 (0.03 LSB of q8.24); allowed with margin.
   */
  lutArithmeticQ30: 8,
} as const;

/**
 * The table activations' error against Math, absolute, because the project states its
 * target that way for every format (README "Numerics", `qfirm lut-error`).
 */
export const LUT_ERROR = {
  /** The project's target for the default table in q8.24. */
  target: 1e-6,
  /** The hard bound. */
  hardBound: 1e-4,
} as const;

export interface WorstError {
  /** Index of the largest |actual − expected| (NaN counts as largest); −1 for empty arrays. */
  index: number;
  actual: number;
  expected: number;
  error: number;
}

/** The index where |actual − expected| is largest, with both values and the difference. */
export function worstError(actual: ArrayLike<number>, expected: ArrayLike<number>): WorstError {
  if (actual.length !== expected.length) {
    throw new Error(`worstError: ${actual.length} actual values but ${expected.length} expected`);
  }
  let worst: WorstError = { index: -1, actual: NaN, expected: NaN, error: -Infinity };
  for (let i = 0; i < actual.length; i++) {
    const raw = Math.abs(actual[i] - expected[i]);
    const error = Number.isNaN(raw) ? Infinity : raw;
    if (error > worst.error) worst = { index: i, actual: actual[i], expected: expected[i], error };
  }
  return worst;
}

/**
 * Fails unless every |actual[i] − expected[i]| ≤ tolerance, naming the worst index, its
 * values, its difference and (when given) its input.
 */
export function expectWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
  inputs?: ArrayLike<unknown>,
): WorstError {
  expect(actual.length, `${what}: number of results`).toBe(expected.length);
  expect(actual.length, `${what}: nothing to compare`).toBeGreaterThan(0);
  const worst = worstError(actual, expected);
  const input = inputs && worst.index >= 0 ? ` (input ${show(inputs[worst.index])})` : "";
  const message =
    `${what}: worst at index ${worst.index}${input}: got ${worst.actual}, expected ${worst.expected}, ` +
    `|difference| ${worst.error} > ${tolerance}`;
  expect(worst.error <= tolerance, message).toBe(true);
  return worst;
}

function show(input: unknown): string {
  if (typeof input === "bigint") return `${input}n`;
  if (Array.isArray(input)) return `[${input.map(show).join(", ")}]`;
  return String(input);
}

/**
 * An imported model's module against what the file's framework predicts (or a float64
 * forward pass of the stored weights), on 20 seeded inputs, absolute, in the model's
 * units; the README's "Import and export" table gives the measured worst per format.
 * Sources of difference: weights rounded to q8.24 (½ LSB each), the tables' tanh and
 * sigmoid (< 1e-7, `qfirm lut-error`), softmax (< 1e-7), each layer's output rounding,
 * and the framework's own float32 arithmetic (TF.js, ONNX Runtime: ~1e-7 relative).
 */
export const IMPORT_AGREEMENT = {
  /** 16 LSBs of q8.24 (9.5e-7); measured at most 5 (ONNX with a folded BatchNormalization). */
  absolute: 16 * 2 ** -24,
} as const;
