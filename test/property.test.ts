// Property tests of the fixed-point kernels (assembly/q.ts, lut.ts, sigmoid.ts, tanh.ts,
// exp.ts, softmax.ts, dense.ts) through the probe module (src/run/probe.ts), with fast-check.
//
// Every property is a claim of the kernels' contracts, checked on generated inputs
// that always include the extremes: arbitraries mix the whole i32 range, magnitudes
// spread over every scale, values near 1.0, and the edges (INT32_MIN, INT32_MAX, 0,
// ±1, ±2^F, ±2^(F−1), …) as constants. Oracles are exact (BigInt) where the contract
// is exact, and float64 where it is an approximation, with the error bound stated
// and derived in ERROR below.
//
// Runs are seeded (SEED, or QFIRM_PROPERTY_SEED to explore others); a failure prints
// fast-check's seed, path and shrunk counterexample, so it replays exactly.

import { fc, test } from "@fast-check/vitest";
import { beforeAll, describe, expect } from "vitest";
import { accShiftFor } from "../src/build/codegen.js";
import { LUT_FRAC_BITS, expTable, lutIndexing, tanhTable } from "../src/build/lut.js";
import { sigmoidMath } from "../src/check/lut_error.js";
import { buildProbe, type ProbeExports } from "../src/run/probe.js";
import { DEFAULT_LUT } from "../src/spec/spec.js";
import { LUT_ERROR } from "./tolerance.js";

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const Q30 = 2 ** 30;

/** A dense layer's buffers for the kernels: inputs drawn from x, params and grads from w. */
const layerCase = (fanIn: number, units: number, lr: number, dZ: number[], x: fc.Arbitrary<number>, w: fc.Arbitrary<number>) =>
  fc.record({
    fanIn: fc.constant(fanIn), units: fc.constant(units), lr: fc.constant(lr), dZ: fc.constant(dZ),
    x: fc.array(x, { minLength: fanIn, maxLength: fanIn }),
    w: fc.array(w, { minLength: fanIn * units, maxLength: fanIn * units }),
    b: fc.array(w, { minLength: units, maxLength: units }),
    gw: fc.array(w, { minLength: fanIn * units, maxLength: fanIn * units }),
    gb: fc.array(w, { minLength: units, maxLength: units }),
  });

/** ±(a magnitude within 3 of ⌊scale⌋), clamped to [min, INT32_MAX]: inputs at a kernel's bound. */
const nearMagnitude = (scale: number, min: number) =>
  fc.tuple(fc.integer({ min: -3, max: 3 }), fc.boolean()).map(([d, negative]) => {
    const x = Math.max(min, Math.min(INT32_MAX, Math.floor(scale) + d));
    return negative ? -x : x;
  });

/** The base seed; each property gets its own, in declaration order, so the file replays exactly. */
const SEED = Number(process.env.QFIRM_PROPERTY_SEED ?? 0x51f0_0d);
let propertyCount = 0;
/** fast-check parameters for the next property: its own seed, and how many runs. */
function seeded(numRuns: number): { seed: number; numRuns: number } {
  return { seed: SEED + propertyCount++, numRuns };
}

/** Runs per property: cheap ones (one probe call) get more. */
const RUNS = { scalar: 3000, pair: 2000, vector: 600 } as const;

/**
 * Error bounds against float64 (absolute, as reals), each derived from the kernel's
 * scheme; the measured worst case is noted beside each.
 */
const ERROR = {
  /** mul against the real product a·b / 2^F: one rounding, in LSBs. */
  mulLsb: 0.5,
  /**
   * sigmoid and tanh with the default table: the project's target (README "Numerics";
   * measured 5.7e-8 and 8.3e-8 in q8.24, table and rounding included). In q16.16 the
   * final rounding alone (0.5 LSB = 7.6e-6) exceeds it, so that format adds it.
   */
  activation: (fracBits: number): number => LUT_ERROR.target + (fracBits < 24 ? 0.5 * 2 ** -fracBits : 0),
  /**
   * exp_neg_q30, in q30 LSBs: the Taylor remainder x⁵/120 < 1.3e-9 (1.4), the table entry
   * (0.5), five roundings in the polynomial and one in the table product (3), the floor of t
   * (ln 2 · 1 LSB, 0.7), log2 e's rounding (< 0.2) and the final shift's rounding (0.5):
   * 6.3. Measured: 1.7.
   */
  expQ30Lsb: 7,
  /**
   * ln_q30, absolute: the atanh series' remainder, 2·Σ_{k≥7} u^(2k+1)/(2k+1) at u → 1/3,
   * is 1.03e-8 (exp.ts says "< 1e-8"), plus in q30 LSBs: ln 2's rounding times k ≤ 31
   * (1.4), the truncated division for u (≤ 2·1.04), seven Horner roundings doubled (≤ 7):
   * about 10.5. Measured: 1.17e-8 in all.
   */
  ln: 1.04e-8 + 11 * 2 ** -30,
} as const;

// ---------------------------------------------------------------------------------
// Exact oracles (BigInt): the exact result, rounded half away from zero, clamped.

const BIG_MIN = BigInt(INT32_MIN);
const BIG_MAX = BigInt(INT32_MAX);

/** x / 2^shift rounded half away from zero (shift ≥ 1). */
function roundShift(x: bigint, shift: number): bigint {
  const divisor = 1n << BigInt(shift);
  const magnitude = x < 0n ? -x : x;
  let quotient = magnitude / divisor;
  if (2n * (magnitude - quotient * divisor) >= divisor) quotient += 1n;
  return x < 0n ? -quotient : quotient;
}

function clamp(x: bigint): number {
  return Number(x > BIG_MAX ? BIG_MAX : x < BIG_MIN ? BIG_MIN : x);
}

function rescaleOracle(x: bigint, from: number, to: number): number {
  return clamp(from > to ? roundShift(x, from - to) : x << BigInt(to - from));
}

function mulOracle(a: number, b: number, fracBits: number): number {
  return rescaleOracle(BigInt(a) * BigInt(b), 2 * fracBits, fracBits);
}

/**
 * exp_neg_q30's integer scheme as exp.ts states it, every rounding signed (the kernel
 * drops the sign terms: its products are non-negative), the last shift by k rounded
 * half away from zero. e^d in q.30 for d ≤ 0 in q.F.
 */
function expOracle(d: bigint, fracBits: number): number {
  const mul = (a: bigint, b: bigint) => roundShift(a * b, 30);
  const one = 1n << 30n;
  const t = -d * 1549082005n;
  const k = t >> BigInt(fracBits + 30);
  if (k >= 31n) return 0;
  const r = (t >> BigInt(fracBits)) & (one - 1n);
  const x = mul(r & ((1n << 26n) - 1n), 744261118n);
  const p = one - mul(x, one - mul(x, (1n << 29n) - mul(x, 178956971n - mul(x, 44739243n))));
  const y = mul(BigInt(expTable()[Number(r >> 26n)]), p);
  return Number(k === 0n ? y : roundShift(y, Number(k)));
}

/**
 * The table activations' integer scheme as lut.ts states it, with every guard the kernel
 * leaves out by its bounds kept: both clamps of the control points, the sign term of
 * each rounding, the range limit and the last-entry check as two tests, the final
 * rescale saturating. Returns tanh(argScale·x) or σ(x) in q.F.
 */
function lutOracle(x: number, fracBits: number, lut: typeof DEFAULT_LUT, sigmoid: boolean): number {
  const table = tanhTable(lut).map(BigInt);
  const last = table.length - 1;
  const argScale = sigmoid ? 0.5 : 1;
  const { posMul, posShift, hThirdQ30 } = lutIndexing(lut, fracBits, argScale);
  const rangeLimit = BigInt(Math.ceil((lut.range / argScale) * 2 ** fracBits));
  const ax = BigInt(Math.abs(x));
  const floorShift = (v: bigint, s: number) => v >> BigInt(s); // BigInt >> floors, like i64.shr_s
  let y: bigint;
  const pos = (ax * posMul) >> BigInt(posShift);
  if (ax >= rangeLimit || Number(pos >> 30n) >= last) y = table[last];
  else {
    const i = Number(pos >> 30n);
    const t = pos & ((1n << 30n) - 1n);
    const [p0, p3] = [table[i], table[i + 1]];
    const one = 1n << 30n;
    const clampTo = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);
    const p1 = clampTo(p0 + roundShift(hThirdQ30 * (one - roundShift(p0 * p0, 30)), 30), p0, p3);
    const p2 = clampTo(p3 - roundShift(hThirdQ30 * (one - roundShift(p3 * p3, 30)), 30), p1, p3);
    const lerp = (a: bigint, b: bigint) => a + floorShift(t * (b - a), 30);
    const [q0, q1, q2] = [lerp(p0, p1), lerp(p1, p2), lerp(p2, p3)];
    y = lerp(lerp(q0, q1), lerp(q1, q2));
  }
  if (sigmoid) return rescaleOracle(x < 0 ? (1n << 30n) - y : (1n << 30n) + y, LUT_FRAC_BITS + 1, fracBits);
  return rescaleOracle(x < 0 ? -y : y, LUT_FRAC_BITS, fracBits);
}

// ---------------------------------------------------------------------------------
// Arbitraries.

/** Any i32, weighted towards the edges and the interesting scales of q.F. */
function anyI32(fracBits: number): fc.Arbitrary<number> {
  const one = 2 ** fracBits;
  const half = 2 ** (fracBits - 1);
  const edges = [
    INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, 0, 1, -1, 2, -2,
    one, -one, one - 1, -one + 1, one + 1, -one - 1, half, -half, half - 1, -half + 1, half + 1, -half - 1,
    2 ** 30, -(2 ** 30), 2 ** 30 - 1, -(2 ** 30) + 1,
  ].filter((q) => q >= INT32_MIN && q <= INT32_MAX);
  const full = fc.integer({ min: INT32_MIN, max: INT32_MAX });
  return fc.oneof(
    { weight: 3, arbitrary: full },
    { weight: 2, arbitrary: fc.constantFrom(...edges) },
    // Magnitudes spread over every scale: a random i32 shifted right 0–31 bits.
    { weight: 2, arbitrary: fc.tuple(full, fc.integer({ min: 0, max: 31 })).map(([x, s]) => x >> s) },
    // Values within ±8 of zero, where the activations bend.
    { weight: 2, arbitrary: fc.integer({ min: Math.max(INT32_MIN, -8 * one), max: Math.min(INT32_MAX, 8 * one) }) },
  );
}

/** Any i64, weighted towards the edges and spread over every scale. */
const anyI64: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 2, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.integer({ min: 0, max: 63 }))
      .map(([x, s]) => x >> BigInt(s)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      -(1n << 63n), (1n << 63n) - 1n, 0n, 1n, -1n, 1n << 62n, -(1n << 62n), BIG_MIN, BIG_MAX, BIG_MIN - 1n, BIG_MAX + 1n,
      BIG_MIN * BIG_MIN, BIG_MIN * BIG_MAX,
    ),
  },
);

/** Vectors of 1 to 16 values: anything, or values close together (so softmax is not one-hot). */
function vectorOf(fracBits: number, maxLength = 16): fc.Arbitrary<number[]> {
  const near = fc
    .tuple(anyI32(fracBits), fc.array(fc.integer({ min: -(2 ** Math.min(30, fracBits + 3)), max: 2 ** Math.min(30, fracBits + 3) }), { minLength: 1, maxLength }))
    .map(([base, deltas]) => deltas.map((d) => Math.max(INT32_MIN, Math.min(INT32_MAX, base + d))));
  return fc.oneof(fc.array(anyI32(fracBits), { minLength: 1, maxLength }), near);
}

/** The probe's i32 view, fresh per use (a view of a memory stays valid until it grows; the probe's never does). */
function words(probe: ProbeExports): Int32Array {
  return new Int32Array(probe.memory.buffer);
}

function sign(x: number | bigint): number {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

// ---------------------------------------------------------------------------------

const FORMATS = [24, 16, 30].map((fracBits) => ({ name: `q${32 - fracBits}.${fracBits}`, fracBits }));

describe.each(FORMATS)("$name, default table", ({ fracBits: F }) => {
  let probe: ProbeExports;
  beforeAll(async () => {
    probe = await buildProbe(F, DEFAULT_LUT);
  });

  const ONE = 2 ** F;
  const i32 = anyI32(F);

  describe("mul", () => {
    test.prop([i32, i32], seeded(RUNS.pair))("equals the BigInt oracle: exact product, rounded half away from zero, clamped", (a, b) => {
      expect(probe.mul(a, b)).toBe(mulOracle(a, b, F));
    });

    test.prop([i32, i32], seeded(RUNS.pair))("never wraps: the result has the real product's sign, or is 0", (a, b) => {
      const q = probe.mul(a, b);
      expect([0, sign(BigInt(a) * BigInt(b))]).toContain(sign(q));
      // Beyond the range, the bound of that sign.
      const exact = BigInt(a) * BigInt(b);
      if (roundShift(exact, F) > BIG_MAX) expect(q).toBe(INT32_MAX);
      if (roundShift(exact, F) < BIG_MIN) expect(q).toBe(INT32_MIN);
    });

    test.prop([i32, i32], seeded(RUNS.pair))(`within ${ERROR.mulLsb} LSB of the real product wherever that is in range`, (a, b) => {
      const exact = BigInt(a) * BigInt(b); // the real product is exact / 2^F
      fc.pre(exact <= (BIG_MAX << BigInt(F)) && exact >= (BIG_MIN << BigInt(F)));
      // |q − exact/2^F| ≤ 0.5, times 2^F, in integers: float64 could not hold a·b beyond 2^53.
      const q = BigInt(probe.mul(a, b));
      const twiceError = 2n * (q * (1n << BigInt(F)) - exact);
      expect(twiceError <= 1n << BigInt(F) && twiceError >= -(1n << BigInt(F)), `${a} · ${b} → ${q}`).toBe(true);
    });

    test.prop([i32, i32], seeded(RUNS.pair))("commutes, and mul(−a, b) = −mul(a, b) where neither saturates", (a, b) => {
      expect(probe.mul(a, b)).toBe(probe.mul(b, a));
      fc.pre(a !== INT32_MIN);
      const q = probe.mul(a, b);
      fc.pre(q !== INT32_MIN && q !== INT32_MAX);
      expect(probe.mul(-a, b)).toBe(q === 0 ? 0 : -q); // rounding half away from zero is odd
    });
  });

  describe("add and sub", () => {
    test.prop([i32, i32], seeded(RUNS.pair))("equal the BigInt oracle: exact sum or difference, clamped", (a, b) => {
      expect(probe.add(a, b)).toBe(clamp(BigInt(a) + BigInt(b)));
      expect(probe.sub(a, b)).toBe(clamp(BigInt(a) - BigInt(b)));
    });

    test.prop([i32, i32], seeded(RUNS.pair))("never wrap: where the i32 result would, they give the bound of the real result's sign", (a, b) => {
      const sum = a + b; // exact in float64
      const difference = a - b;
      if (sum !== (sum | 0)) expect(probe.add(a, b)).toBe(sum > 0 ? INT32_MAX : INT32_MIN);
      if (difference !== (difference | 0)) expect(probe.sub(a, b)).toBe(difference > 0 ? INT32_MAX : INT32_MIN);
      expect([0, sign(sum)]).toContain(sign(probe.add(a, b)));
      expect([0, sign(difference)]).toContain(sign(probe.sub(a, b)));
    });
  });

  describe("rescale", () => {
    // The contract (q.ts): from > to needs |x| ≤ 2^63 − 2^(from − to); an up-shift is at most 30 bits.
    const inContract = fc
      .tuple(anyI64, fc.integer({ min: 0, max: 62 }), fc.integer({ min: 0, max: 31 }))
      .filter(([x, from, to]) => {
        if (to > from) return to - from <= 30;
        if (from > to) return (x < 0n ? -x : x) <= (1n << 63n) - (1n << BigInt(from - to));
        return true;
      });

    test.prop([inContract], seeded(RUNS.scalar))("equals the BigInt oracle, saturating instead of wrapping, for every shift", ([x, from, to]) => {
      const hi = Number(BigInt.asIntN(32, x >> 32n));
      const lo = Number(BigInt.asUintN(32, x));
      const q = probe.rescale(hi, lo, from, to);
      expect(q, `${x}n from q.${from} to q.${to}`).toBe(rescaleOracle(x, from, to));
      expect([0, sign(x)]).toContain(sign(q));
    });

    // The losses' non-negative sums drop the sign term and the lower bound (q_rescale_sat_nonneg).
    test.prop([inContract], seeded(RUNS.scalar))("for x ≥ 0, the non-negative variant equals the BigInt oracle too", ([x, from, to]) => {
      const magnitude = x < 0n ? -x : x;
      fc.pre(magnitude < 1n << 63n);
      const hi = Number(BigInt.asIntN(32, magnitude >> 32n));
      const lo = Number(BigInt.asUintN(32, magnitude));
      expect(probe.rescale_nonneg(hi, lo, from, to), `${magnitude}n from q.${from} to q.${to}`).toBe(rescaleOracle(magnitude, from, to));
    });
  });

  describe("sigmoid and tanh", () => {
    test.prop([i32], seeded(RUNS.scalar))("σ(x) ∈ [0, 1] and tanh(x) ∈ [−1, 1] for any i32", (x) => {
      const s = probe.sigmoid(x);
      const t = probe.tanh(x);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(ONE);
      expect(t).toBeGreaterThanOrEqual(-ONE);
      expect(t).toBeLessThanOrEqual(ONE);
    });

    // Pairs far apart (any two i32) and close together (x and x + d, d < 2^(F−4)).
    const pair = fc.oneof(
      fc.tuple(i32, i32).map(([a, b]) => (a <= b ? [a, b] : [b, a])),
      fc.tuple(i32, fc.integer({ min: 0, max: 2 ** (F - 4) })).map(([a, d]) => [a, Math.min(INT32_MAX, a + d)]),
    );

    test.prop([pair], seeded(RUNS.scalar))("are monotonic: x ≤ y gives σ(x) ≤ σ(y) and tanh(x) ≤ tanh(y)", ([x, y]) => {
      expect(probe.sigmoid(x), `σ(${x}) vs σ(${y})`).toBeLessThanOrEqual(probe.sigmoid(y));
      expect(probe.tanh(x), `tanh(${x}) vs tanh(${y})`).toBeLessThanOrEqual(probe.tanh(y));
    });

    test.prop([i32], seeded(RUNS.scalar))(`within ${ERROR.activation(F).toExponential(2)} of float64 for any i32 (as a real, q/2^F)`, (x) => {
      const v = x / ONE;
      expect(Math.abs(probe.sigmoid(x) / ONE - sigmoidMath(v)), `σ(${v})`).toBeLessThanOrEqual(ERROR.activation(F));
      expect(Math.abs(probe.tanh(x) / ONE - Math.tanh(v)), `tanh(${v})`).toBeLessThanOrEqual(ERROR.activation(F));
    });

    // lut.ts drops the clamps' dead sides, the roundings' sign terms and the saturation
    // by bounds on the table's values; tanh_q and sigmoid_q round the magnitude alone.
    // Any i32, and the edges of the one comparison that now covers the range limit and the last entry.
    const nearLimits = fc.oneof(
      i32,
      fc
        .tuple(fc.constantFrom(0.5, 1), fc.integer({ min: -3, max: 3 }), fc.boolean())
        .map(([scale, d, negative]) => {
          const x = Math.min(INT32_MAX, Number(lutIndexing(DEFAULT_LUT, F, scale).limit) + d);
          return negative ? -x : x;
        }),
    );
    test.prop([nearLimits], seeded(RUNS.scalar))("are the scheme's integer definition exactly, every guard kept (BigInt)", (x) => {
      expect(probe.sigmoid(x), `σ(${x})`).toBe(lutOracle(x, F, DEFAULT_LUT, true));
      expect(probe.tanh(x), `tanh(${x})`).toBe(lutOracle(x, F, DEFAULT_LUT, false));
    });

    // The backward kernels skip the saturations for outputs in forward's range and keep
    // them for anything else a host could write.
    test.prop([i32, i32], seeded(RUNS.pair))(
      "backward: dZ = sat(round(dA·sat(round(y(1 − y))))) for σ, sat(round(dA·sat(1 − sat(round(y²))))) for tanh, exactly",
      (y, dA) => {
        const Y = BigInt(y);
        const one = 1n << BigInt(F);
        const sigmoidSlope = rescaleOracle(Y * (one - Y), 2 * F, F);
        expect(probe.sigmoid_backward(y, dA), `σ' at y=${y}, dA=${dA}`).toBe(mulOracle(dA, sigmoidSlope, F));
        const tanhSlope = clamp(one - BigInt(rescaleOracle(Y * Y, 2 * F, F)));
        expect(probe.tanh_backward(y, dA), `tanh' at y=${y}, dA=${dA}`).toBe(mulOracle(dA, tanhSlope, F));
      },
    );

    test.prop([i32], seeded(RUNS.scalar))("tanh is odd exactly, σ(x) + σ(−x) is 1 within 1 LSB (x > INT32_MIN)", (x) => {
      fc.pre(x !== INT32_MIN);
      expect(probe.tanh(-x)).toBe(-probe.tanh(x) || 0);
      expect(Math.abs(probe.sigmoid(x) + probe.sigmoid(-x) - ONE)).toBeLessThanOrEqual(1);
    });
  });

  describe("exp and ln (softmax, cross-entropy)", () => {
    const nonPositive = fc.oneof(
      fc.bigInt({ min: -(1n << 32n), max: 0n }),
      fc.integer({ min: INT32_MIN, max: 0 }).map(BigInt),
      fc.integer({ min: Math.max(-16 * ONE, -(2 ** 32)), max: 0 }).map(BigInt), // where e^d is not tiny (the contract: |d| ≤ 2^32)
      fc.constantFrom(0n, -1n, -(1n << 32n), -(1n << 32n) + 1n, BIG_MIN, -BigInt(ONE)),
    );

    test.prop([nonPositive], seeded(RUNS.scalar))(`e^d for d ≤ 0 is in [0, 1], within ${ERROR.expQ30Lsb} q30 LSBs of float64, e^0 = 1 exactly`, (d) => {
      const y = probe.exp_neg(d);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(Q30);
      if (d === 0n) expect(y).toBe(Q30);
      const exact = Math.exp(Number(d) / ONE) * Q30; // d/2^F is exact: |d| ≤ 2^32
      expect(Math.abs(y - exact), `e^(${Number(d) / ONE})`).toBeLessThanOrEqual(ERROR.expQ30Lsb);
    });

    test.prop([nonPositive], seeded(RUNS.scalar))("e^d is the scheme's integer definition exactly, every rounding signed (BigInt)", (d) => {
      expect(probe.exp_neg(d), `e^(${d}n)`).toBe(expOracle(d, F));
    });

    const atLeastOne = fc.oneof(
      fc.bigInt({ min: 1n << 30n, max: (1n << 62n) - 1n }),
      fc.bigInt({ min: 1n << 30n, max: 1n << 36n }),
      fc.tuple(fc.bigInt({ min: 0n, max: (1n << 62n) - (1n << 30n) - 1n }), fc.integer({ min: 0, max: 62 })).map(([x, s]) => (1n << 30n) + (x >> BigInt(s))),
      fc.constantFrom(1n << 30n, (1n << 31n) - 1n, 1n << 31n, (1n << 62n) - 1n, 1n << 61n),
    );

    test.prop([atLeastOne], seeded(RUNS.scalar))(`ln(s) for s ≥ 1 is within ${ERROR.ln.toExponential(2)} of float64, ln 1 = 0`, (s) => {
      const y = Number(probe.ln(s)) / Q30;
      if (s === 1n << 30n) expect(y).toBe(0);
      // s / 2^30 rounds in float64 for s > 2^53: by at most 2^−53 relative, far below the bound.
      expect(Math.abs(y - Math.log(Number(s) / Q30)), `ln(${Number(s) / Q30})`).toBeLessThanOrEqual(ERROR.ln);
    });
  });

  describe("softmax", () => {
    function softmax(z: number[]): number[] {
      const w = words(probe);
      w.set(z, probe.vector_ptr() / 4);
      probe.softmax(z.length);
      return Array.from(w.subarray(probe.output_ptr() / 4, probe.output_ptr() / 4 + z.length));
    }

    test.prop([vectorOf(F)], seeded(RUNS.vector))("outputs are each in [0, 1] and sum to 1 within n/2 LSBs", (z) => {
      // Each output is e_j·2^F / Σe rounded once, and Σ_j e_j / Σe = 1 exactly (the same
      // e_j in both): the sum is off by at most n roundings of half an LSB.
      const a = softmax(z);
      for (const q of a) {
        expect(q).toBeGreaterThanOrEqual(0);
        expect(q).toBeLessThanOrEqual(ONE);
      }
      const sum = a.reduce((s, q) => s + q, 0);
      expect(Math.abs(sum - ONE), `Σ softmax(${z}) = ${sum}`).toBeLessThanOrEqual(z.length / 2);
    });

    test.prop([vectorOf(F)], seeded(RUNS.vector))("within 0.5 LSB + (n + 1)·(exp's error) of float64", (z) => {
      // a_j = e'_j / Σe' with each e'_j within δ of e^(z_j − max) and Σe' ≥ 1 (e^0 is exact):
      // |a_j − exact| ≤ δ + a_j·nδ ≤ (n + 1)δ, then one rounding to q.F.
      const a = softmax(z);
      const max = Math.max(...z);
      const e = z.map((q) => Math.exp((q - max) / ONE)); // q − max exact in float64
      const total = e.reduce((s, v) => s + v, 0);
      const bound = 0.5 / ONE + (z.length + 1) * ERROR.expQ30Lsb * 2 ** -30;
      a.forEach((q, j) => {
        expect(Math.abs(q / ONE - e[j] / total), `softmax(${z})[${j}]`).toBeLessThanOrEqual(bound);
      });
    });

    test.prop([vectorOf(F), fc.integer({ min: INT32_MIN, max: INT32_MAX })], seeded(RUNS.vector))(
      "is exactly invariant under adding a constant (where nothing saturates) and under permutation",
      (z, c) => {
        const a = softmax(z);
        // Only the differences z_j − max enter.
        const shift = c >> (z.length % 32);
        const shifted = z.map((q) => q + shift);
        if (shifted.every((q) => q >= INT32_MIN && q <= INT32_MAX)) expect(softmax(shifted)).toEqual(a);
        expect(softmax([...z].reverse())).toEqual([...a].reverse());
      },
    );
  });

  describe("dense_forward (the dot products of every layer)", () => {
    const layer = fc.integer({ min: 1, max: 24 }).chain((fanIn) =>
      fc.integer({ min: 1, max: 4 }).chain((units) =>
        fc.record({
          x: fc.array(i32, { minLength: fanIn, maxLength: fanIn }),
          w: fc.array(i32, { minLength: fanIn * units, maxLength: fanIn * units }),
          b: fc.array(i32, { minLength: units, maxLength: units }),
        }),
      ),
    );

    test.prop([layer], seeded(RUNS.vector))(
      "z_j is the exact b_j + Σ x_i·w_ij, within 0.5 LSB + fanIn·2^(accShift − F) LSB, saturated, never wrapped",
      ({ x, w, b }) => {
        const fanIn = x.length;
        const units = b.length;
        const accShift = accShiftFor(fanIn);
        const mem = words(probe);
        mem.set(x, probe.vector_ptr() / 4);
        mem.set(w, probe.weight_ptr() / 4);
        mem.set(b, probe.bias_ptr() / 4);
        probe.dense_forward(fanIn, units, accShift);
        const z = Array.from(mem.subarray(probe.output_ptr() / 4, probe.output_ptr() / 4 + units));
        for (let j = 0; j < units; j++) {
          // The exact sum in q.2F; the kernel floors each product to q.(2F − accShift), so its
          // sum lies in (exact − fanIn·2^accShift, exact] (the bias shifts exactly while
          // accShift ≤ F), and the rounding and clamping after it are monotonic.
          let exact = BigInt(b[j]) << BigInt(F);
          for (let i = 0; i < fanIn; i++) exact += BigInt(x[i]) * BigInt(w[i * units + j]);
          const slack = BigInt(fanIn) << BigInt(accShift);
          const low = rescaleOracle(exact - slack, 2 * F, F);
          const high = rescaleOracle(exact, 2 * F, F);
          expect(z[j], `z[${j}] of ${fanIn}×${units}`).toBeGreaterThanOrEqual(low);
          expect(z[j], `z[${j}] of ${fanIn}×${units}`).toBeLessThanOrEqual(high);
        }
      },
    );
  });
});

// ---------------------------------------------------------------------------------
// The dense kernels exactly, scalar (mcu) and SIMD (web): each against a BigInt oracle
// of its contract (assembly/dense.ts), on layers of every width (the blocks of eight
// and four and the units left over), with inputs drawn around the bounds the kernels
// check once per call instead of per weight (fast_row_limit): |x|·max|dZ| near
// 2^(31+F) (where g would saturate) and near 2^(31+F+G)/|lr| (where u would), and
// weights near INT32_MIN and INT32_MAX (where w − u and gw + g wrap and must saturate).

const DENSE_FORMATS = [
  { F: 24, G: 28 },
  { F: 30, G: 30 },
  { F: 1, G: 5 },
  { F: 16, G: 20 },
];

/** floor(p / 2^s) summed: the dense sums' pre-shifted products. */
function floorShift(p: bigint, s: number): bigint {
  return p >> BigInt(s);
}

/** The forward sum's bias term: b·2^(accFrac − F), floored when accFrac < F. */
function biasInAcc(b: number, F: number, accFrac: number): bigint {
  return accFrac >= F ? BigInt(b) << BigInt(accFrac - F) : BigInt(b) >> BigInt(F - accFrac);
}

/**
 * The per-call bound of the fused step: every x within it (the kernel checks a bound on
 * max |x| once per call, which may be up to twice the max), or just past it.
 */
const denseLayerNearCallBound = (F: number, G: number, maxUnits = 40) =>
  fc
    .record({ fanIn: fc.integer({ min: 1, max: 6 }), units: fc.integer({ min: 1, max: maxUnits }), lr: fc.oneof(anyI32(F), fc.constantFrom(1, -1, 2 ** F, INT32_MIN)) })
    .chain(({ fanIn, units, lr }) =>
      fc.array(fc.oneof(anyI32(F), fc.integer({ min: -(2 ** G), max: 2 ** G })), { minLength: units, maxLength: units }).chain((dZ) => {
        const maxDZ = dZ.reduce((m, v) => (Math.abs(v) > m ? Math.abs(v) : m), 1);
        const gBound = (1n << BigInt(31 + F)) / BigInt(maxDZ);
        const uBound = ((1n << BigInt(31 + F + G)) / BigInt(Math.abs(lr) || 1)) / BigInt(maxDZ);
        const limit = Math.min(INT32_MAX, Number(gBound < uBound ? gBound : uBound));
        const near = (scale: number) => nearMagnitude(scale, 0);
        const x = fc.oneof(near(limit), near(limit / 2), near(limit / 4), fc.integer({ min: -limit, max: limit }), fc.constant(0));
        const w = fc.oneof(fc.integer({ min: INT32_MIN, max: INT32_MIN + 2 ** 20 }), fc.integer({ min: INT32_MAX - 2 ** 20, max: INT32_MAX }), anyI32(F));
        return layerCase(fanIn, units, lr, dZ, x, w);
      }),
    );

const denseLayer = (F: number, G: number, maxUnits = 19) => {
  const i32 = anyI32(F);
  const nearBound = (scale: bigint) => nearMagnitude(Number(scale), 1);
  return fc
    .record({ fanIn: fc.integer({ min: 1, max: 12 }), units: fc.integer({ min: 1, max: maxUnits }), lr: fc.oneof(i32, fc.constantFrom(0, 1, -1, INT32_MIN, INT32_MAX, 2 ** F)) })
    .chain(({ fanIn, units, lr }) =>
      fc
        .array(fc.oneof(i32, fc.integer({ min: -(2 ** G), max: 2 ** G })), { minLength: units, maxLength: units })
        .chain((dZ) => {
          const maxDZ = dZ.reduce((m, v) => (Math.abs(v) > m ? Math.abs(v) : m), 1);
          const gBound = (1n << BigInt(31 + F)) / BigInt(maxDZ);
          const uBound = lr === 0 ? gBound : ((1n << BigInt(31 + F + G)) / BigInt(Math.abs(lr))) / BigInt(maxDZ);
          const x = fc.oneof(i32, nearBound(gBound), nearBound(uBound), fc.constant(0));
          const w = fc.oneof(i32, fc.integer({ min: INT32_MIN, max: INT32_MIN + 2 ** 28 }), fc.integer({ min: INT32_MAX - 2 ** 28, max: INT32_MAX }));
          return layerCase(fanIn, units, lr, dZ, x, w);
        }),
    );
};

describe.each(DENSE_FORMATS.flatMap((f) => (["mcu", "web"] as const).map((target) => ({ ...f, target }))))(
  "dense kernels, q.$F values and q.$G gradients, $target",
  ({ F, G, target }) => {
    let probe: ProbeExports;
    beforeAll(async () => {
      probe = await buildProbe(F, DEFAULT_LUT, { gradFracBits: G, target });
    });
    const layer = denseLayer(F, G);
    type Layer = typeof layer extends fc.Arbitrary<infer T> ? T : never;
    const load = (l: Layer) => {
      const mem = words(probe);
      mem.set(l.x, probe.vector_ptr() / 4);
      mem.set(l.dZ, probe.dz_ptr() / 4);
      mem.set(l.w, probe.weight_ptr() / 4);
      mem.set(l.b, probe.bias_ptr() / 4);
      mem.set(l.gw, probe.grad_weight_ptr() / 4);
      mem.set(l.gb, probe.grad_bias_ptr() / 4);
      return mem;
    };
    const read = (mem: Int32Array, at: number, n: number) => Array.from(mem.subarray(at / 4, at / 4 + n));

    /** The step's results by the BigInt oracle: g = sat(round(x·dZ)), w = sat(w − sat(round(lr·g))), b the same with dZ. */
    const expectStep = (mem: Int32Array, l: Layer, keepGrads: boolean) => {
      const lr = BigInt(l.lr);
      const update = (g: number) => clamp(roundShift(lr * BigInt(g), G));
      const wantB = l.b.map((b, j) => clamp(BigInt(b) - BigInt(update(l.dZ[j]))));
      const wantW: number[] = [];
      const wantGw: number[] = [];
      l.x.forEach((x, i) => {
        for (let j = 0; j < l.units; j++) {
          const w = l.w[i * l.units + j];
          if (x === 0) {
            wantW.push(w);
            wantGw.push(0);
            continue;
          }
          const g = clamp(roundShift(BigInt(x) * BigInt(l.dZ[j]), F));
          wantGw.push(g);
          wantW.push(clamp(BigInt(w) - BigInt(update(g))));
        }
      });
      expect(read(mem, probe.bias_ptr(), l.units)).toEqual(wantB);
      expect(read(mem, probe.weight_ptr(), l.fanIn * l.units)).toEqual(wantW);
      if (keepGrads) {
        expect(read(mem, probe.grad_weight_ptr(), l.fanIn * l.units)).toEqual(wantGw);
        expect(read(mem, probe.grad_bias_ptr(), l.units)).toEqual(l.dZ);
      }
    };

    /** dX = Σ_j floor(w·dZ / 2^s), rounded once to q.G, on the weights before any update. */
    const inputGradient = (l: Layer, s: number) =>
      l.x.map((_, i) => {
        let sum = 0n;
        for (let j = 0; j < l.units; j++) sum += floorShift(BigInt(l.w[i * l.units + j]) * BigInt(l.dZ[j]), s);
        return rescaleOracle(sum, F + G - s, G);
      });

    const checkStep = (l: Layer, keepGrads: boolean, xBounded = false) => {
      const mem = load(l);
      probe.dense_backward_step(l.fanIn, l.units, l.lr, keepGrads ? 1 : 0, xBounded ? 1 : 0);
      expectStep(mem, l, keepGrads);
    };

    // The fused step over a tanh layer (at most 8 units, x its outputs): the step, the
    // dA of dense_backward_input on the old weights, and tanh's backward at y = x.
    const checkStepTanhBelow = (l: Layer, keepGrads: boolean) => {
      const mem = load(l);
      const s = accShiftFor(l.units);
      probe.dense_backward_step_tanh_below(l.fanIn, l.units, l.lr, keepGrads ? 1 : 0, s);
      expectStep(mem, l, keepGrads);
      const dA = inputGradient(l, s);
      expect(read(mem, probe.output_ptr(), l.fanIn)).toEqual(dA);
      const one = 1n << BigInt(F);
      const slope = (y: number) => clamp(one - BigInt(rescaleOracle(BigInt(y) * BigInt(y), 2 * F, F)));
      expect(read(mem, probe.below_ptr(), l.fanIn)).toEqual(dA.map((d, i) => mulOracle(d, slope(l.x[i]), F)));
    };

    test.prop([layer, fc.boolean()], seeded(RUNS.vector))(
      "dense_backward_step is g = sat(round(x·dZ)), w = sat(w − sat(round(lr·g))), b the same with dZ, exactly",
      checkStep,
    );

    test.prop([denseLayerNearCallBound(F, G), fc.boolean()], seeded(RUNS.vector))(
      "dense_backward_step is exact on both sides of its once-per-call bound, widths past 8, weights near saturation",
      checkStep,
    );

    // xBounded (inputs from sigmoid or tanh) takes 2^F as the bound on |x|: inputs at ±2^F,
    // and dZ and lr past the once-per-call bound, still give the exact result.
    const toUnit = (x: number) => Math.max(-(2 ** F), Math.min(2 ** F, x));
    const bounded = (l: Layer, extremes: boolean[]): Layer => ({ ...l, x: l.x.map((x, i) => (extremes[i] ? (x < 0 ? -(2 ** F) : 2 ** F) : toUnit(x))) });
    test.prop([layer, fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.boolean()], seeded(RUNS.vector))(
      "dense_backward_step with inputs within ±2^F (xBounded) is exact, inputs at ±2^F",
      (l, extremes, keepGrads) => checkStep(bounded(l, extremes), keepGrads, true),
    );
    test.prop([denseLayerNearCallBound(F, G), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), fc.boolean()], seeded(RUNS.vector))(
      "dense_backward_step with inputs within ±2^F (xBounded) is exact near its once-per-call bound",
      (l, extremes, keepGrads) => checkStep(bounded(l, extremes), keepGrads, true),
    );

    test.prop([denseLayer(F, G, 8), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.boolean()], seeded(RUNS.vector))(
      "dense_backward_step_tanh_below is the step, dA and tanh's backward at y = x, exactly, inputs at ±2^F",
      (l, extremes, keepGrads) => checkStepTanhBelow(bounded(l, extremes), keepGrads),
    );
    test.prop([denseLayerNearCallBound(F, G, 8), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), fc.boolean()], seeded(RUNS.vector))(
      "dense_backward_step_tanh_below is exact near its once-per-call bound, weights near saturation",
      (l, extremes, keepGrads) => checkStepTanhBelow(bounded(l, extremes), keepGrads),
    );

    test.prop([layer], seeded(RUNS.vector))("dense_backward is gw = sat(gw + sat(round(x·dZ))), gb = sat(gb + dZ), exactly", (l) => {
      const mem = load(l);
      probe.dense_backward(l.fanIn, l.units);
      const wantGw = l.gw.map((gw, k) => {
        const x = l.x[Math.floor(k / l.units)];
        if (x === 0) return gw;
        return clamp(BigInt(gw) + BigInt(clamp(roundShift(BigInt(x) * BigInt(l.dZ[k % l.units]), F))));
      });
      expect(read(mem, probe.grad_weight_ptr(), l.fanIn * l.units)).toEqual(wantGw);
      expect(read(mem, probe.grad_bias_ptr(), l.units)).toEqual(l.gb.map((gb, j) => clamp(BigInt(gb) + BigInt(l.dZ[j]))));
    });

    test.prop([layer], seeded(RUNS.vector))("dense_backward_input is dX = Σ_j floor(w·dZ / 2^s), rounded once to q.G, exactly", (l) => {
      const mem = load(l);
      const s = accShiftFor(l.units);
      probe.dense_backward_input(l.fanIn, l.units, s);
      expect(read(mem, probe.output_ptr(), l.fanIn)).toEqual(inputGradient(l, s));
    });

    test.prop([layer], seeded(RUNS.vector))("dense_forward is z = b + Σ_i floor(x·w / 2^s), rounded once to q.F, exactly", (l) => {
      const mem = load(l);
      const s = accShiftFor(l.fanIn);
      probe.dense_forward(l.fanIn, l.units, s);
      const accFrac = 2 * F - s;
      const want = l.b.map((b, j) => {
        let sum = biasInAcc(b, F, accFrac);
        for (let i = 0; i < l.fanIn; i++) sum += floorShift(BigInt(l.x[i]) * BigInt(l.w[i * l.units + j]), s);
        return rescaleOracle(sum, accFrac, F);
      });
      expect(read(mem, probe.output_ptr(), l.units)).toEqual(want);
    });
  },
);
