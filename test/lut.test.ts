// The table activations (assembly/lut.ts, sigmoid.ts, tanh.ts) against Math, through
// the probe module and through measureLut (src/check/lut_error.ts), plus the table itself
// (src/build/lut.ts).
//
// The bounds come from the scheme, not from a run: inside the table the curve is the
// cubic Hermite spline through exact values and slopes, whose error is at most
// h⁴/384 · max|tanh⁗| (h the spacing); beyond the table the result is the last entry,
// off by at most 1 − tanh(range); then the integer arithmetic (TOLERANCE_LSB) and the
// final rounding to q.F. σ(x) = (1 + tanh(x/2)) / 2 halves the tanh errors.
// see: https://en.wikipedia.org/wiki/Cubic_Hermite_spline (error bound)

import { beforeAll, describe, expect, test } from "vitest";
import { tanhTable } from "../src/build/lut.js";
import { measureLut } from "../src/check/lut_error.js";
import type { LutConfig } from "../src/spec/model.js";
import { buildProbe, type ProbeExports } from "../src/run/probe.js";
import { DEFAULT_LUT } from "../src/spec/spec.js";
import { LUT_ERROR, TOLERANCE_LSB, expectWithin } from "./tolerance.js";
import { mulberry32u32 as mulberry32 } from "./support/random.js";

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** 32 entries over [0, 8], an eighth of RANGE_8_LUT's resolution: large errors, same scheme. */
const COARSE_LUT: LutConfig = { entries: 32, range: 8 };

/** The default before it moved to [0, 12]: a saturation step (1 − tanh 8 ≈ 2.3e-7) above the interpolation error. */
const RANGE_8_LUT: LutConfig = { entries: 256, range: 8 };

/** Points for measureLut beyond the default configuration (its default is 2^21 per function). */
const EXTRA_SWEEP_POINTS = 1 << 18;

/**
 * max |tanh⁗| = 4.0859…: with t = tanh x, tanh⁗ = 8t(1 − t²)(2 − 3t²), whose derivative
 * in t, 8(2 − 15t² + 15t⁴), vanishes at t² = (15 − √105) / 30.
 */
const MAX_TANH_4TH_DERIVATIVE = (() => {
  const t2 = (15 - Math.sqrt(105)) / 30;
  return 8 * Math.sqrt(t2) * (1 - t2) * (2 - 3 * t2);
})();

function spacing(lut: LutConfig): number {
  return lut.range / (lut.entries - 1);
}

/** The interpolation error bound of tanh inside the table; sigmoid's is half of it. */
function hermiteBound(lut: LutConfig): number {
  return (spacing(lut) ** 4 / 384) * MAX_TANH_4TH_DERIVATIVE;
}

/** The error of the last entry standing in for tanh beyond the table; sigmoid's is half of it. */
function tailBound(lut: LutConfig): number {
  return 1 - Math.tanh(lut.range);
}

/** Everything the integer arithmetic adds before the final rounding, absolute. */
const ARITHMETIC = TOLERANCE_LSB.lutArithmeticQ30 * 2 ** -30;

function sigmoidMath(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Allowed error in LSBs of q.F, given the absolute error of tanh's table and tail. */
function allowedLsb(fn: "tanh" | "sigmoid", fracBits: number, absolute: number): number {
  const scale = fn === "sigmoid" ? 0.5 : 1;
  return TOLERANCE_LSB.activationOutput + (scale * absolute + ARITHMETIC) * 2 ** fracBits;
}

/** The first Q value in [lo, hi] where fn is below its value one step before, or null. */
function firstDecrease(fn: (q: number) => number, lo: number, hi: number): string | null {
  let previous = fn(lo);
  for (let q = lo + 1; q <= hi; q++) {
    const y = fn(q);
    if (y < previous) return `f(${q}) = ${y} < f(${q - 1}) = ${previous}`;
    previous = y;
  }
  return null;
}


// ---------------------------------------------------------------------------------

describe.each([
  { name: "default", lut: DEFAULT_LUT as LutConfig },
  { name: "256 over [0, 8]", lut: RANGE_8_LUT },
  { name: "coarse", lut: COARSE_LUT },
])("tanhTable, $name table", ({ lut }) => {
  const table = tanhTable(lut);

  test("entry i is tanh(i·h) in q2.30, to half an LSB", () => {
    expect(table.length).toBe(lut.entries);
    const expected = table.map((_, i) => Math.tanh((i * lut.range) / (lut.entries - 1)) * 2 ** 30);
    expectWithin(table, expected, TOLERANCE_LSB.tableEntryQ30, `tanhTable(${JSON.stringify(lut)})`, table.map((_, i) => `i = ${i}`));
    expect(table.every(Number.isInteger), "integer entries").toBe(true);
  });

  test("starts at 0, never decreases, rises wherever tanh rises by an LSB, never exceeds 1.0", () => {
    expect(table[0]).toBe(0);
    // Rounding is monotonic and round(v + 1) = round(v) + 1, so an exact step of at least one
    // q30 LSB must show; smaller steps (near 1, for long ranges) may round to a plateau.
    const problems = table.flatMap((v, i) => {
      if (i === 0) return [];
      const step = (Math.tanh((i * lut.range) / (lut.entries - 1)) - Math.tanh(((i - 1) * lut.range) / (lut.entries - 1))) * 2 ** 30;
      const ok = step >= 1 ? v > table[i - 1] : v >= table[i - 1];
      return ok ? [] : [`entry ${i}: ${v} after ${table[i - 1]} (exact step ${step} LSB)`];
    });
    expect(problems, "entries out of order").toEqual([]);
    expect(Math.max(...table)).toBeLessThanOrEqual(2 ** 30);
  });
});

describe("measureLut", () => {
  test("default table, q8.24: within the 1e-6 target (the issue's hard bound is 1e-4), monotonic", async () => {
    const { sigmoid, tanh } = await measureLut(24, DEFAULT_LUT);
    for (const [fn, result] of [["sigmoid", sigmoid], ["tanh", tanh]] as const) {
      const where = `${fn}: max error ${result.maxError} at x = ${result.at}`;
      expect(result.points, `${fn} points`).toBeGreaterThanOrEqual(1 << 21);
      expect(result.maxError, where).toBeLessThanOrEqual(LUT_ERROR.target);
      expect(result.lsbs, where).toBeLessThanOrEqual(allowedLsb(fn, 24, hermiteBound(DEFAULT_LUT) + tailBound(DEFAULT_LUT)));
      expect(result.maxError, where).toBeLessThanOrEqual(LUT_ERROR.hardBound);
      expect(result.monotonic, `${fn} monotonic`).toBe(true);
    }
  });

  test("256 entries over [0, 8], q8.24: within the 1e-6 target too, monotonic", async () => {
    const { sigmoid, tanh } = await measureLut(24, RANGE_8_LUT, EXTRA_SWEEP_POINTS);
    for (const [fn, result] of [["sigmoid", sigmoid], ["tanh", tanh]] as const) {
      const where = `${fn}: max error ${result.maxError} at x = ${result.at}`;
      expect(result.maxError, where).toBeLessThanOrEqual(LUT_ERROR.target);
      expect(result.lsbs, where).toBeLessThanOrEqual(allowedLsb(fn, 24, hermiteBound(RANGE_8_LUT) + tailBound(RANGE_8_LUT)));
      expect(result.monotonic, `${fn} monotonic`).toBe(true);
    }
  });

  test("coarse table, q8.24: errors far above the target but within the spline's bound, still monotonic", async () => {
    const { sigmoid, tanh } = await measureLut(24, COARSE_LUT, EXTRA_SWEEP_POINTS);
    for (const [fn, result] of [["sigmoid", sigmoid], ["tanh", tanh]] as const) {
      const where = `${fn}: max error ${result.maxError} at x = ${result.at}`;
      // The sweep does see interpolation error: h⁴ is 8⁴ = 4096 times that of 256 entries over [0, 8].
      expect(result.maxError, where).toBeGreaterThan(10 * LUT_ERROR.target);
      const allowed = allowedLsb(fn, 24, hermiteBound(COARSE_LUT) + tailBound(COARSE_LUT));
      expect(result.lsbs, where).toBeLessThanOrEqual(allowed);
      expect(result.maxError, where).toBeLessThanOrEqual(LUT_ERROR.hardBound);
      expect(result.monotonic, `${fn} monotonic`).toBe(true);
    }
  });

  test("default table, q16.16: half an LSB of rounding plus the table's error, monotonic", async () => {
    const { sigmoid, tanh } = await measureLut(16, DEFAULT_LUT, EXTRA_SWEEP_POINTS);
    for (const [fn, result] of [["sigmoid", sigmoid], ["tanh", tanh]] as const) {
      const where = `${fn}: max error ${result.maxError} at x = ${result.at}`;
      expect(result.lsbs, where).toBeLessThanOrEqual(allowedLsb(fn, 16, hermiteBound(DEFAULT_LUT) + tailBound(DEFAULT_LUT)));
      expect(result.monotonic, `${fn} monotonic`).toBe(true);
    }
  });
});

const CONFIGS = [
  { name: "default table, q8.24", fracBits: 24, lut: DEFAULT_LUT as LutConfig },
  { name: "coarse table, q8.24", fracBits: 24, lut: COARSE_LUT },
  { name: "default table, q16.16", fracBits: 16, lut: DEFAULT_LUT as LutConfig },
];

describe.each(CONFIGS)("$name", ({ name, fracBits: F, lut }) => {
  let probe: ProbeExports;
  beforeAll(async () => {
    probe = await buildProbe(F, lut);
  });

  const ONE = 2 ** F;
  /** Where each function leaves the table, in q.F: tanh at range, sigmoid at 2·range. */
  const edge = { tanh: Math.ceil(lut.range * ONE), sigmoid: Math.ceil(2 * lut.range * ONE) };
  const math = { tanh: Math.tanh, sigmoid: sigmoidMath };
  const run = (fn: "tanh" | "sigmoid") => (q: number) => probe[fn](q);

  test("zero: tanh(0) = 0, σ(0) = 1/2 exactly", () => {
    expect(probe.tanh(0)).toBe(0);
    expect(probe.sigmoid(0)).toBe(ONE / 2);
  });

  test("inside the table: within the spline's bound plus rounding", () => {
    for (const fn of ["tanh", "sigmoid"] as const) {
      // About 200 000 Q values; an odd stride lands between knots as well as on them.
      const stride = Math.floor((2 * edge[fn]) / 200_000) | 1;
      const inputs: number[] = [];
      for (let q = -edge[fn]; q <= edge[fn]; q += stride) inputs.push(q);
      inputs.push(edge[fn]);
      expectWithin(
        inputs.map(run(fn)),
        inputs.map((q) => math[fn](q / ONE) * ONE),
        allowedLsb(fn, F, hermiteBound(lut)),
        `${name} ${fn} inside the table (LSBs)`,
        inputs.map((q) => `x = ${q / ONE}`),
      );
    }
  });

  test("monotonic: every Q value around each knot, where intervals meet and rounding changes", () => {
    const window = 300;
    for (const fn of ["tanh", "sigmoid"] as const) {
      const knotStep = fn === "tanh" ? spacing(lut) : 2 * spacing(lut);
      for (let k = 0; k < lut.entries; k++) {
        const knot = Math.round(k * knotStep * ONE);
        for (const centre of [knot, -knot]) {
          const found = firstDecrease(run(fn), centre - window, centre + window);
          expect(found, `${name} ${fn} near knot ${k} (x = ${centre / ONE})`).toBeNull();
        }
      }
      // And past the end of the table.
      expect(firstDecrease(run(fn), edge[fn] - window, edge[fn] + 10 * window), `${name} ${fn} past the table`).toBeNull();
    }
  });

  if (F <= 16) {
    test("monotonic: every Q value from −(2·range + 1) to 2·range + 1", () => {
      const reach = Math.ceil((2 * lut.range + 1) * ONE);
      for (const fn of ["tanh", "sigmoid"] as const) {
        expect(firstDecrease(run(fn), -reach, reach), `${name} ${fn}`).toBeNull();
      }
    });
  }

  test("table boundaries and beyond: saturated into [0, 1] and [−1, 1], flat, within bound of Math", () => {
    for (const fn of ["tanh", "sigmoid"] as const) {
      const e = edge[fn];
      const inputs = [
        ...[e, e - 1, e + 1, 2 * e, 4 * e, INT32_MAX].flatMap((q) => [q, -q]),
        INT32_MIN,
        INT32_MIN + 1,
      ];
      const actual = inputs.map(run(fn));
      const [lo, hi] = fn === "tanh" ? [-ONE, ONE] : [0, ONE];
      const outside = actual.flatMap((y, i) => (y < lo || y > hi ? [`x = ${inputs[i] / ONE}: ${y}`] : []));
      expect(outside, `${name} ${fn} outside [${lo / ONE}, ${hi / ONE}]`).toEqual([]);
      expectWithin(
        actual,
        inputs.map((q) => math[fn](q / ONE) * ONE),
        allowedLsb(fn, F, hermiteBound(lut) + tailBound(lut)),
        `${name} ${fn} at the boundaries (LSBs)`,
        inputs.map((q) => `x = ${q / ONE}`),
      );
      if (F === 24 && lut === DEFAULT_LUT) {
        expectWithin(
          actual.map((y) => y / ONE),
          inputs.map((q) => math[fn](q / ONE)),
          LUT_ERROR.target,
          `${name} ${fn} at the boundaries (absolute)`,
          inputs.map((q) => `x = ${q / ONE}`),
        );
      }

      // Beyond the table the result is the last entry's: the same for every x ≥ edge.
      const next = mulberry32(0xed9e + F);
      const beyond = Array.from({ length: 2000 }, () => e + (next() % (INT32_MAX - e + 1)));
      const top = probe[fn](INT32_MAX);
      const bottom = probe[fn](INT32_MIN);
      expectWithin(beyond.map(run(fn)), beyond.map(() => top), TOLERANCE_LSB.exact, `${name} ${fn} flat above the table`, beyond);
      expectWithin(beyond.map((q) => probe[fn](-q)), beyond.map(() => bottom), TOLERANCE_LSB.exact, `${name} ${fn} flat below the table`, beyond.map((q) => -q));
      expect(probe[fn](e - 1), `${name} ${fn} just inside the table`).toBeLessThanOrEqual(top);
    }
  });

  test("symmetry: tanh(−x) = −tanh(x) exactly, σ(x) + σ(−x) = 1 within 1 LSB", () => {
    const next = mulberry32(0x5a11 + F);
    const reach = Math.ceil((2 * lut.range + 1) * ONE);
    // Half near the table (where interpolation happens), half over every scale of i32.
    const inputs = Array.from({ length: 20_000 }, (_, i) =>
      i % 2 === 0 ? (next() % (2 * reach + 1)) - reach : (next() | 0) >> (next() % 32),
    ).filter((q) => q !== INT32_MIN); // −INT32_MIN is not an i32
    inputs.push(0, 1, -1, INT32_MAX, edge.tanh, edge.sigmoid);
    expectWithin(
      inputs.map((q) => probe.tanh(-q)),
      inputs.map((q) => -probe.tanh(q)),
      TOLERANCE_LSB.tanhOddSymmetry,
      `${name} tanh(−x) vs −tanh(x)`,
      inputs.map((q) => `x = ${q}`),
    );
    expectWithin(
      inputs.map((q) => probe.sigmoid(q) + probe.sigmoid(-q)),
      inputs.map(() => ONE),
      TOLERANCE_LSB.sigmoidSymmetry,
      `${name} σ(x) + σ(−x) vs 1`,
      inputs.map((q) => `x = ${q}`),
    );
    // With INT32_MIN, whose magnitude the kernels take in i64.
    expect(probe.tanh(INT32_MIN)).toBe(-probe.tanh(INT32_MAX));
  });
});
