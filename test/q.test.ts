// The Q helpers (assembly/q.ts) through the probe module: mul, add, sub and rescale
// on raw i32 Q values, against an exact BigInt oracle written here from the contract
// in q.ts (exact result, then round half away from zero, then clamp to
// [INT32_MIN, INT32_MAX]), and against float64 where float64 is exact.
//
// Expected values are derived from the definitions: by hand for the edges, by the
// oracle for seeded random inputs. None is copied from running the kernels.

import { beforeAll, describe, expect, test } from "vitest";
import { buildProbe, type ProbeExports } from "../src/run/probe.js";
import { DEFAULT_LUT } from "../src/spec/spec.js";
import { TOLERANCE_LSB, expectWithin } from "./tolerance.js";
import { mulberry32u32 as mulberry32 } from "./support/random.js";

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

// ---------------------------------------------------------------------------------
// The oracle: exact integers, rounding by comparing the remainder with one half.

/** x / 2^shift rounded half away from zero (shift ≥ 1). */
function divPow2RoundHalfAway(x: bigint, shift: number): bigint {
  const divisor = 1n << BigInt(shift);
  const magnitude = x < 0n ? -x : x;
  let quotient = magnitude / divisor; // BigInt division truncates; magnitude ≥ 0
  const remainder = magnitude - quotient * divisor;
  if (2n * remainder >= divisor) quotient += 1n;
  return x < 0n ? -quotient : quotient;
}

function clampI32(x: bigint): bigint {
  if (x > BigInt(INT32_MAX)) return BigInt(INT32_MAX);
  if (x < BigInt(INT32_MIN)) return BigInt(INT32_MIN);
  return x;
}

/** x (q.from) in q.to: exact scaling, rounding half away from zero when bits drop, then clamping. */
function rescaleOracle(x: bigint, from: number, to: number): number {
  const scaled = from > to ? divPow2RoundHalfAway(x, from - to) : x * (1n << BigInt(to - from));
  return Number(clampI32(scaled));
}

function mulOracle(a: number, b: number, fracBits: number): number {
  return rescaleOracle(BigInt(a) * BigInt(b), 2 * fracBits, fracBits);
}

function addOracle(a: number, b: number): number {
  return Number(clampI32(BigInt(a) + BigInt(b)));
}

function subOracle(a: number, b: number): number {
  return Number(clampI32(BigInt(a) - BigInt(b)));
}

// ---------------------------------------------------------------------------------
// Seeded inputs.


/** A random i32 whose magnitude is spread over every scale (a random i32 shifted right 0–31 bits). */
function randomI32(next: () => number): number {
  return (next() | 0) >> (next() % 32);
}

/** A random i64, its magnitude spread over every scale. */
function randomI64(next: () => number): bigint {
  const bits = BigInt.asIntN(64, (BigInt(next()) << 32n) | BigInt(next()));
  return bits >> BigInt(next() % 64);
}

/** The probe's rescale takes the i64 as hi·2^32 + lo, lo unsigned. */
function probeRescale(probe: ProbeExports, x: bigint, from: number, to: number): number {
  const hi = Number(BigInt.asIntN(32, x >> 32n));
  const lo = Number(BigInt.asUintN(32, x));
  return probe.rescale(hi, lo, from, to);
}

/** round_shift_i64's documented precondition when `shift` bits drop: |x| ≤ 2^63 − 2^shift. */
function withinDownShiftBound(x: bigint, shift: number): boolean {
  const magnitude = x < 0n ? -x : x;
  return magnitude <= (1n << 63n) - (1n << BigInt(shift));
}

const RANDOM_PAIRS = 4000;

// ---------------------------------------------------------------------------------

describe("the BigInt oracle, against hand-computed values", () => {
  // Guards the tests below: an oracle that rounded like the kernels by mistake
  // (or not at all) would make them pass vacuously.
  test("rounds half away from zero and clamps", () => {
    const cases: [bigint, number, bigint][] = [
      [1n, 1, 1n], // 0.5
      [-1n, 1, -1n], // −0.5
      [3n, 1, 2n], // 1.5
      [-3n, 1, -2n], // −1.5
      [5n, 1, 3n], // 2.5 (banker's rounding would give 2)
      [-5n, 1, -3n], // −2.5
      [1n, 2, 0n], // 0.25
      [-1n, 2, 0n], // −0.25
      [3n, 2, 1n], // 0.75
      [-3n, 2, -1n], // −0.75
      [-2n, 2, -1n], // −0.5
      [7n, 3, 1n], // 0.875
      [0n, 5, 0n],
    ];
    const actual = cases.map(([x, shift]) => Number(divPow2RoundHalfAway(x, shift)));
    const expected = cases.map(([, , q]) => Number(q));
    expectWithin(actual, expected, 0, "oracle rounding", cases.map(([x, s]) => `${x}n / 2^${s}`));
    expect(rescaleOracle(1n << 40n, 10, 10)).toBe(INT32_MAX);
    expect(rescaleOracle(-(1n << 40n), 10, 10)).toBe(INT32_MIN);
    expect(rescaleOracle(3n, 0, 4)).toBe(48);
    expect(mulOracle(INT32_MIN, INT32_MIN, 24)).toBe(INT32_MAX);
    expect(mulOracle(3, 1 << 23, 24)).toBe(2);
  });
});

const FORMATS = [24, 16, 30, 1].map((fracBits) => ({ name: `q${32 - fracBits}.${fracBits}`, fracBits }));

describe.each(FORMATS)("$name", ({ name, fracBits: F }) => {
  let probe: ProbeExports;
  beforeAll(async () => {
    probe = await buildProbe(F, DEFAULT_LUT);
  });

  const ONE = 2 ** F; // 1.0 in q.F (fits an i32: F ≤ 30)
  const HALF = 2 ** (F - 1); // 0.5 in q.F

  describe("mul", () => {
    test("edges, expected values by hand", () => {
      // [a, b, expected]: a·b / 2^F rounded half away from zero, then clamped.
      const cases: [number, number, number][] = [
        // ±full scale: (2^31)² / 2^F ≥ 2^32 for every F ≤ 30.
        [INT32_MAX, INT32_MAX, INT32_MAX],
        [INT32_MIN, INT32_MIN, INT32_MAX], // 2^62: a plain i32 multiply would give 0
        [INT32_MIN, INT32_MAX, INT32_MIN],
        [INT32_MAX, INT32_MIN, INT32_MIN],
        [INT32_MIN, -ONE, INT32_MAX], // −(−2^31) = 2^31 does not fit
        [-ONE, INT32_MIN, INT32_MAX],
        [INT32_MIN, ONE, INT32_MIN],
        [INT32_MAX, ONE, INT32_MAX],
        [INT32_MAX, -ONE, -INT32_MAX],
        [INT32_MIN, HALF, -(2 ** 30)],
        [ONE, ONE, ONE],
        [-ONE, -ONE, ONE],
        [ONE, -ONE, -ONE],
        // zero
        [0, 0, 0],
        [0, INT32_MIN, 0],
        [INT32_MAX, 0, 0],
        // 1 LSB · 1 LSB = 2^−F LSB: rounds to 0, except in q31.1 where it is a tie (0.5 → 1).
        [1, 1, F === 1 ? 1 : 0],
        [-1, 1, F === 1 ? -1 : 0],
        // exact ties: 1 LSB · 0.5 = 0.5 LSB, and odd multiples of it
        [1, HALF, 1],
        [-1, HALF, -1],
        [1, -HALF, -1],
        [3, HALF, 2], // 1.5
        [-3, HALF, -2], // −1.5
        [5, HALF, 3], // 2.5
        [-5, -HALF, 3],
        [-5, HALF, -3], // −2.5
        // next to a tie: 0.5 LSB ∓ 2^−F LSB
        [1, HALF - 1, 0],
        [-1, HALF - 1, 0],
        [1, HALF + 1, 1],
        [-1, HALF + 1, -1],
      ];
      const actual = cases.map(([a, b]) => probe.mul(a, b));
      const expected = cases.map(([, , q]) => q);
      const inputs = cases.map(([a, b]) => `${a} · ${b}`);
      expectWithin(actual, expected, TOLERANCE_LSB.exact, `${name} mul edges`, inputs);
      // The oracle agrees with the hand values (it is what the random cases trust).
      expectWithin(cases.map(([a, b]) => mulOracle(a, b, F)), expected, 0, `${name} mul oracle edges`, inputs);
    });

    test(`${RANDOM_PAIRS} seeded pairs equal the BigInt oracle bit for bit`, () => {
      const next = mulberry32(0x5eed0000 + F);
      const pairs = Array.from({ length: RANDOM_PAIRS }, () => [randomI32(next), randomI32(next)] as const);
      // A tie for every pair: b = 0.5 or 1.5 times an odd a lands on a half LSB.
      const ties = Array.from({ length: 200 }, () => [(randomI32(next) >> 1) | 1, (next() & 1 ? -1 : 1) * HALF * (1 + 2 * (next() & 1))] as const);
      const all = [...pairs, ...ties];
      expectWithin(
        all.map(([a, b]) => probe.mul(a, b)),
        all.map(([a, b]) => mulOracle(a, b, F)),
        TOLERANCE_LSB.exact,
        `${name} mul vs oracle`,
        all.map(([a, b]) => `${a} · ${b}`),
      );
    });

    test("within half an LSB of the real product where float64 holds it exactly", () => {
      // |a|, |b| < 2^26: a·b < 2^52 is exact in float64, and so is the division by 2^F.
      const next = mulberry32(0xf10a7 + F);
      const pairs: [number, number][] = [];
      while (pairs.length < 2000) {
        const a = randomI32(next) >> 5;
        const b = randomI32(next) >> 5;
        if (Math.abs((a * b) / ONE) <= INT32_MAX) pairs.push([a, b]);
      }
      expectWithin(
        pairs.map(([a, b]) => probe.mul(a, b)),
        pairs.map(([a, b]) => (a * b) / ONE),
        TOLERANCE_LSB.mul,
        `${name} mul vs float64`,
        pairs.map(([a, b]) => `${a} · ${b}`),
      );
    });
  });

  describe("add and sub", () => {
    test("saturate where a plain i32 operation would wrap, expected values by hand", () => {
      // [a, b, a + b saturated, a − b saturated]
      const cases: [number, number, number, number][] = [
        [INT32_MAX, 1, INT32_MAX, INT32_MAX - 1],
        [INT32_MIN, -1, INT32_MIN, INT32_MIN + 1],
        [INT32_MIN, 1, INT32_MIN + 1, INT32_MIN],
        [INT32_MAX, -1, INT32_MAX - 1, INT32_MAX],
        [INT32_MIN, INT32_MAX, -1, INT32_MIN],
        [INT32_MAX, INT32_MIN, -1, INT32_MAX],
        [INT32_MAX, INT32_MAX, INT32_MAX, 0],
        [INT32_MIN, INT32_MIN, INT32_MIN, 0],
        [0, INT32_MIN, INT32_MIN, INT32_MAX], // −(−2^31) does not fit
        [-1, INT32_MIN, INT32_MIN, INT32_MAX],
        [0, INT32_MAX, INT32_MAX, -INT32_MAX],
        [-1, INT32_MAX, INT32_MAX - 1, INT32_MIN],
        [-2, INT32_MAX, INT32_MAX - 2, INT32_MIN],
        [ONE, ONE, Math.min(2 * ONE, INT32_MAX), 0], // 2.0 saturates only in q2.30
        [0, 0, 0, 0],
      ];
      const inputs = cases.map(([a, b]) => `${a}, ${b}`);
      expectWithin(cases.map(([a, b]) => probe.add(a, b)), cases.map((c) => c[2]), TOLERANCE_LSB.exact, `${name} add edges`, inputs);
      expectWithin(cases.map(([a, b]) => probe.sub(a, b)), cases.map((c) => c[3]), TOLERANCE_LSB.exact, `${name} sub edges`, inputs);
      expectWithin(cases.map(([a, b]) => addOracle(a, b)), cases.map((c) => c[2]), 0, `${name} add oracle edges`, inputs);
      expectWithin(cases.map(([a, b]) => subOracle(a, b)), cases.map((c) => c[3]), 0, `${name} sub oracle edges`, inputs);
    });

    test(`${RANDOM_PAIRS} seeded pairs equal the BigInt oracle`, () => {
      const next = mulberry32(0xadd00 + F);
      const pairs = Array.from({ length: RANDOM_PAIRS }, () => [randomI32(next), randomI32(next)] as const);
      const inputs = pairs.map(([a, b]) => `${a}, ${b}`);
      expectWithin(pairs.map(([a, b]) => probe.add(a, b)), pairs.map(([a, b]) => addOracle(a, b)), TOLERANCE_LSB.exact, `${name} add vs oracle`, inputs);
      expectWithin(pairs.map(([a, b]) => probe.sub(a, b)), pairs.map(([a, b]) => subOracle(a, b)), TOLERANCE_LSB.exact, `${name} sub vs oracle`, inputs);
    });
  });

  describe("rescale", () => {
    function check(cases: [bigint, number, number, number][], what: string): void {
      const inputs = cases.map(([x, from, to]) => `${x}n q.${from} → q.${to}`);
      const expected = cases.map((c) => c[3]);
      expectWithin(cases.map(([x, from, to]) => probeRescale(probe, x, from, to)), expected, TOLERANCE_LSB.exact, `${name} rescale ${what}`, inputs);
      expectWithin(cases.map(([x, from, to]) => rescaleOracle(x, from, to)), expected, 0, `${name} rescale oracle ${what}`, inputs);
    }

    test("down-shifts: ties of both signs round away from zero, for every shift 1–62", () => {
      const cases: [bigint, number, number, number][] = [];
      for (let shift = 1; shift <= 62; shift++) {
        const half = 1n << BigInt(shift - 1);
        const from = F + shift;
        // [x, from, to, expected]
        cases.push([half, from, F, 1], [-half, from, F, -1]); // ±0.5
        cases.push([3n * half, from, F, 2], [-3n * half, from, F, -2]); // ±1.5
        cases.push([5n * half, from, F, 3], [-5n * half, from, F, -3]); // ±2.5
        if (shift >= 2) {
          cases.push([half - 1n, from, F, 0], [-(half - 1n), from, F, 0]); // just under ±0.5
          cases.push([half + 1n, from, F, 1], [-(half + 1n), from, F, -1]); // just over ±0.5
        }
        // The largest magnitudes round_shift_i64 accepts, ±(2^63 − 2^shift): exactly
        // ±(2^(63 − shift) − 1) after the shift, which saturates for shifts up to 31.
        const bound = (1n << 63n) - (1n << BigInt(shift));
        const shifted = 2 ** (63 - shift) - 1;
        cases.push([bound, from, F, Math.min(shifted, INT32_MAX)], [-bound, from, F, Math.max(-shifted, INT32_MIN)]);
      }
      // ±3·2^61 and ±5·2^61 (shift 62) exceed that bound (2^62): not in the contract.
      const inContract = cases.filter(([x, from, to]) => withinDownShiftBound(x, from - to));
      expect(cases.length - inContract.length).toBe(4);
      check(inContract, "ties");
    });

    test("down-shifts: rounding into and out of saturation", () => {
      const two32 = 1n << 32n;
      check(
        [
          [two32 - 2n, 1, 0, INT32_MAX], // 2^31 − 1 exactly
          [two32 - 3n, 1, 0, INT32_MAX], // 2^31 − 1.5 rounds away to 2^31 − 1
          [two32 - 1n, 1, 0, INT32_MAX], // 2^31 − 0.5 rounds to 2^31: saturates
          [-two32, 1, 0, INT32_MIN], // −2^31 exactly
          [-(two32 - 1n), 1, 0, INT32_MIN], // −2^31 + 0.5 rounds away to −2^31
          [-(two32 - 3n), 1, 0, INT32_MIN + 1], // −2^31 + 1.5 rounds away to −2^31 + 1
          [-(two32 + 1n), 1, 0, INT32_MIN], // −2^31 − 0.5 rounds to −2^31 − 1: saturates
        ],
        "near saturation",
      );
    });

    test("the extreme i64 values the kernels produce", () => {
      const min = BigInt(INT32_MIN);
      const max = BigInt(INT32_MAX);
      const one = 1n << BigInt(F);
      check(
        [
          // INT32_MIN · INT32_MIN = 2^62, the largest product, from q.2F to q.F: saturates …
          [min * min, 2 * F, F, INT32_MAX],
          // … and is exactly 1.0 from q.62 (two q1.31 values) to q2.30.
          [min * min, 62, 30, 2 ** 30],
          [min * max, 2 * F, F, INT32_MIN], // −2^62 + 2^31, the most negative product
          [max * max, 2 * F, F, INT32_MAX],
          [min * max, 62, 30, -(2 ** 30)], // −1 + 2^−31 in q2.30 is −2^30 + 0.5 LSB: rounds away to −2^30
          // sigmoid_backward: y·(1 − y) with y = INT32_MIN, |1 − y| = 2^31 + 2^F
          [min * (one - min), 2 * F, F, INT32_MIN],
          // accumulators stay below 2^62 + 2^61 (q.ts)
          [(1n << 62n) + (1n << 61n) - 1n, 2 * F, F, INT32_MAX],
          [-((1n << 62n) + (1n << 61n) - 1n), 2 * F, F, INT32_MIN],
          // from == to: a clamp
          [max, F, F, INT32_MAX],
          [max + 1n, F, F, INT32_MAX],
          [min, F, F, INT32_MIN],
          [min - 1n, F, F, INT32_MIN],
          [1n << 62n, F, F, INT32_MAX],
          [-(1n << 63n), F, F, INT32_MIN],
          [-12345n, F, F, -12345],
        ],
        "kernel extremes",
      );
    });

    test("up-shifts: exact up to the limit, saturating past it, for every shift 1–29", () => {
      const cases: [bigint, number, number, number][] = [];
      for (let shift = 1; shift <= 29; shift++) {
        const from = 1;
        const to = from + shift;
        const scale = 2 ** shift;
        const largest = Math.floor(INT32_MAX / scale); // largest x with x·2^shift ≤ INT32_MAX
        const smallest = -(2 ** (31 - shift)); // x·2^shift = INT32_MIN exactly
        cases.push([BigInt(largest), from, to, largest * scale]);
        cases.push([BigInt(largest + 1), from, to, INT32_MAX]);
        cases.push([BigInt(smallest), from, to, INT32_MIN]);
        cases.push([BigInt(smallest + 1), from, to, INT32_MIN + scale]);
        cases.push([BigInt(smallest - 1), from, to, INT32_MIN]);
        cases.push([-1n, from, to, -scale], [1n, from, to, scale], [0n, from, to, 0]);
        // Far out of range: compared before shifting, so nothing wraps.
        cases.push([1n << 40n, from, to, INT32_MAX], [-(1n << 40n), from, to, INT32_MIN]);
        cases.push([(1n << 63n) - 1n, from, to, INT32_MAX], [-(1n << 63n), from, to, INT32_MIN]);
        cases.push([1n << BigInt(63 - shift), from, to, INT32_MAX]); // x·2^shift = 2^63 would wrap to INT64_MIN
      }
      check(cases, "up-shifts");
    });

    test("seeded i64 values and shifts equal the BigInt oracle; down-shifts within half an LSB of float64", () => {
      const next = mulberry32(0x5ca1e + F);
      const cases: [bigint, number, number][] = [];
      while (cases.length < RANDOM_PAIRS) {
        const x = randomI64(next);
        const to = 1 + (next() % 30); // formats q.1 … q.30
        const from = next() & 1 ? to + 1 + (next() % 62) : Math.max(1, to - 1 - (next() % 29)); // down to 62 bits dropped, up to 29 added
        if (from > to && (from - to > 62 || !withinDownShiftBound(x, from - to))) continue;
        cases.push([x, from, to]);
      }
      const inputs = cases.map(([x, from, to]) => `${x}n q.${from} → q.${to}`);
      const actual = cases.map(([x, from, to]) => probeRescale(probe, x, from, to));
      expectWithin(actual, cases.map(([x, from, to]) => rescaleOracle(x, from, to)), TOLERANCE_LSB.exact, `${name} rescale vs oracle`, inputs);

      // |x| < 2^53: exact in float64, and so is x / 2^shift.
      const floatCases = cases
        .map((c, i) => ({ c, i, real: Number(c[0]) / 2 ** (c[1] - c[2]) }))
        .filter(({ c: [x, from, to], real }) => from > to && x < 1n << 53n && x > -(1n << 53n) && Math.abs(real) <= INT32_MAX);
      expect(floatCases.length, "enough in-range down-shifts").toBeGreaterThan(500);
      expectWithin(
        floatCases.map(({ i }) => actual[i]),
        floatCases.map(({ real }) => real),
        TOLERANCE_LSB.rescale,
        `${name} rescale vs float64`,
        floatCases.map(({ i }) => inputs[i]),
      );
    });
  });
});
