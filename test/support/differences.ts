// Gradients against central finite differences, and the closeness check both
// reference tests use; failures name the worst index.

import { expect } from "vitest";

/** The finite-difference settings a test states in its tolerance table. */
export interface DifferenceTolerance {
  /** Step of the central differences. */
  finiteDifferenceStep: number;
  /** |analytic − difference| ≤ this · max(|analytic|, |difference|) + the rounding noise. */
  finiteDifferenceRelative: number;
  /** The rounding noise: this many ulps of |f(p + h)| + |f(p − h)|, divided by 2h. */
  evaluationUlps: number;
}

export interface Worst {
  index: number;
  actual: number;
  expected: number;
  diff: number;
  allowed: number;
  excess: number;
}

/** The index where |actual − expected| exceeds its allowance by the most, with the numbers to report. */
export function worstIndex(actual: number[], expected: number[], allowed: (expected: number, actual: number, index: number) => number): Worst {
  expect(actual.length).toBe(expected.length);
  let worst: Worst = { index: -1, actual: NaN, expected: NaN, diff: 0, allowed: 0, excess: -Infinity };
  actual.forEach((a, i) => {
    const diff = Math.abs(a - expected[i]);
    const allowance = allowed(expected[i], a, i);
    const excess = Number.isNaN(diff) ? Infinity : diff - allowance;
    if (excess > worst.excess) worst = { index: i, actual: a, expected: expected[i], diff, allowed: allowance, excess };
  });
  return worst;
}

/** Fails unless |actual_i − expected_i| ≤ relative · max(|a|, |e|) + floor_i everywhere, naming the worst index. */
export function expectClose(actual: number[], expected: number[], relative: number, what: string, floor: number[] | number = 0): void {
  const floorAt = (i: number) => (typeof floor === "number" ? floor : floor[i] ?? 0);
  const worst = worstIndex(actual, expected, (e, a, i) => relative * Math.max(Math.abs(e), Math.abs(a)) + floorAt(i));
  const report = `${what}: worst at index ${worst.index}: ${worst.actual} vs ${worst.expected}`;
  expect(worst.excess <= 0, `${report} (|diff| ${worst.diff} > ${worst.allowed})`).toBe(true);
}

/** Central differences of f at x, one coordinate at a time, with each one's rounding noise. */
export function centralDifferences(
  f: (x: number[]) => number,
  x: number[],
  tol: DifferenceTolerance,
): { slope: number[]; noise: number[] } {
  const h = tol.finiteDifferenceStep;
  const slope: number[] = [];
  const noise: number[] = [];
  x.forEach((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i] += h;
    minus[i] -= h;
    const [fPlus, fMinus] = [f(plus), f(minus)];
    slope.push((fPlus - fMinus) / (2 * h));
    noise.push((tol.evaluationUlps * 2 ** -52 * (Math.abs(fPlus) + Math.abs(fMinus))) / (2 * h));
  });
  return { slope, noise };
}

/** Analytic gradient against the central differences of f, within the tolerance. */
export function expectMatchesDifferences(
  analytic: number[],
  f: (x: number[]) => number,
  x: number[],
  what: string,
  tol: DifferenceTolerance,
): void {
  const { slope, noise } = centralDifferences(f, x, tol);
  expectClose(analytic, slope, tol.finiteDifferenceRelative, what, noise);
}
