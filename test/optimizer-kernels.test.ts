// The optimizer kernels (assembly/power.ts, decay.ts, steps.ts, momentum.ts, adam.ts
// and q.ts's 62-bit state helpers) through the optimizer probe (src/run/optimizer_probe.ts),
// held against exact BigInt oracles of the formulas their comments state, on generated
// inputs that always include the extremes: ±2^62 state, INT32_MIN and INT32_MAX
// gradients, rates and counts, constants 0 and 1 − 2^−31, step counts up to 2^31 − 1.
// Where a kernel approximates (powers, the decay, Adam's ratio), the bound its comment
// derives is the tolerance, and each test reports the worst case it met.

import { fc, test } from "@fast-check/vitest";
import { beforeAll, describe, expect } from "vitest";
import { buildOptimizerProbe, OPTIMIZER_PROBE_WORDS, type OptimizerProbeExports } from "../src/run/optimizer_probe.js";

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const ONE_Q31 = 1n << 31n;
const LIMIT = 1n << 62n;

const SEED = Number(process.env.QFIRM_PROPERTY_SEED ?? 0x0971_11);
let propertyCount = 0;
function seeded(numRuns: number): { seed: number; numRuns: number } {
  return { seed: SEED + propertyCount++, numRuns };
}

/** n / d rounded half away from zero, d > 0. */
function roundDiv(n: bigint, d: bigint): bigint {
  const magnitude = n < 0n ? -n : n;
  const q = (magnitude + d / 2n) / d;
  return n < 0n ? -q : q;
}

function clamp32(x: bigint): number {
  return Number(x > BigInt(INT32_MAX) ? BigInt(INT32_MAX) : x < BigInt(INT32_MIN) ? BigInt(INT32_MIN) : x);
}

function clampState(x: bigint): bigint {
  return x > LIMIT ? LIMIT : x < -LIMIT ? -LIMIT : x;
}

/** ⌊√x⌋ for x ≥ 0, by Newton in BigInt. */
function bigSqrt(x: bigint): bigint {
  if (x < 2n) return x;
  let s = 1n << BigInt((x.toString(2).length + 1) >> 1);
  for (;;) {
    const next = (s + x / s) >> 1n;
    if (next >= s) break;
    s = next;
  }
  while (s * s > x) s--;
  while ((s + 1n) * (s + 1n) <= x) s++;
  return s;
}

/** (base / 2^31)^t · 2^31 to 2^−100 (scaled by 2^100), exactly rounded at each of its few steps. */
function exactPowerScaled(base: bigint, t: number): bigint {
  const P = 131n; // working fraction bits
  let result = 1n << P;
  let square = base << (P - 31n);
  let e = t;
  while (e > 0) {
    if (e & 1) result = (result * square) >> P;
    e = Math.floor(e / 2);
    if (e > 0) square = (square * square) >> P;
  }
  return result >> (P - 31n - 100n); // q1.31 value · 2^100
}

/** |actual − exact| in q1.31 LSBs, exact given as q1.31 · 2^100. */
function lsbError(actual: bigint, exactScaled: bigint): number {
  const difference = (actual << 100n) - exactScaled;
  return Number(difference < 0n ? -difference : difference) / 2 ** 100;
}

// ---- Arbitraries, weighted to the edges ----

const i32 = fc.oneof(
  fc.integer({ min: INT32_MIN, max: INT32_MAX }),
  fc.constantFrom(INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, 0, 1, -1),
  fc.tuple(fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.integer({ min: 0, max: 31 })).map(([x, s]) => x >> s),
);
/** A state value: anything in ±2^62, the bounds and every scale. */
const state = fc.oneof(
  fc.bigInt({ min: -LIMIT, max: LIMIT }),
  fc.constantFrom(LIMIT, -LIMIT, LIMIT - 1n, -LIMIT + 1n, 0n, 1n, -1n, ONE_Q31, -ONE_Q31),
  fc.tuple(fc.bigInt({ min: -LIMIT, max: LIMIT }), fc.integer({ min: 0, max: 62 })).map(([x, s]) => x >> BigInt(s)),
);
/** Any i64, for state a host overwrote. */
const anyI64 = fc.oneof(
  fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  fc.constantFrom(-(1n << 63n), (1n << 63n) - 1n, LIMIT + 1n, -LIMIT - 1n),
  state,
);
/** A q1.31 constant in [0, 1]. */
const q31 = fc.oneof(fc.bigInt({ min: 0n, max: ONE_Q31 }), fc.constantFrom(0n, 1n, ONE_Q31, ONE_Q31 - 1n, ONE_Q31 / 2n));
/** A q1.31 constant in [0, 1), as momentum and the betas are. */
const below1 = fc.oneof(fc.bigInt({ min: 0n, max: ONE_Q31 - 1n }), fc.constantFrom(0n, 1n, ONE_Q31 - 1n, 1932735283n /* 0.9 */, 2145336164n /* 0.999 */));
const steps = fc.oneof(fc.integer({ min: 0, max: INT32_MAX }), fc.integer({ min: 0, max: 5000 }), fc.constantFrom(0, 1, 2, 31, INT32_MAX, INT32_MAX - 1));

let probe: OptimizerProbeExports;
beforeAll(async () => {
  probe = await buildOptimizerProbe();
});

describe("62-bit state arithmetic (q.ts)", () => {
  test.prop([state, q31], seeded(3000))("mul_state_q31_round is round(x·c / 2^31), half away from zero, exactly", (x, c) => {
    expect(probe.mul_state_q31(x, c)).toBe(roundDiv(x * c, ONE_Q31));
  });

  test.prop([state, i32, fc.integer({ min: 31, max: 62 })], seeded(3000))(
    "mul_state_i32_round_sat is round(x·q / 2^shift) saturated to i32, exactly, for every shift from 31 to 62",
    (x, q, shift) => {
      expect(probe.mul_state_i32(x, q, shift)).toBe(clamp32(roundDiv(x * BigInt(q), 1n << BigInt(shift))));
    },
  );

  test.prop([anyI64], seeded(1000))("clamp_state brings any i64 into ±2^62 and leaves values inside alone", (x) => {
    expect(probe.clamp_state(x)).toBe(clampState(x));
  });
});

describe("powers and the learning-rate decay", () => {
  test("pow_q31: base^0 = 1 and base^1 = base exactly; 0^t = 0; 1^t = 1", () => {
    for (const base of [0n, 1n, ONE_Q31 - 1n, ONE_Q31, 1932735283n]) {
      expect(probe.pow_q31(base, 0)).toBe(ONE_Q31);
      expect(probe.pow_q31(base, 1)).toBe(base);
    }
    for (const t of [1, 2, 1000, INT32_MAX]) {
      expect(probe.pow_q31(0n, t)).toBe(0n);
      expect(probe.pow_q31(ONE_Q31, t)).toBe(ONE_Q31);
    }
  });

  let worstPower = { error: 0, bound: 1, base: 0n, t: 0 };
  test.prop([q31, steps], seeded(1500))("pow_q31 is within (t + 31)/2 LSBs of the exact power of its q1.31 base", (base, t) => {
    const got = probe.pow_q31(base, t);
    expect(got >= 0n && got <= ONE_Q31).toBe(true);
    const error = lsbError(got, exactPowerScaled(base, t));
    const bound = (t + 31) / 2;
    if (error / bound > worstPower.error / worstPower.bound) worstPower = { error, bound, base, t };
    expect(error, `${base}^${t}: ${got}`).toBeLessThanOrEqual(bound);
  });

  test("pow_q31's worst case met stays inside its bound (reported)", () => {
    expect(worstPower.error).toBeLessThanOrEqual(worstPower.bound);
    console.log(`pow_q31: worst ${worstPower.error.toFixed(2)} LSBs of a bound ${worstPower.bound} (base ${worstPower.base}, t ${worstPower.t})`);
  });

  test.prop([i32, steps, fc.integer({ min: 1, max: INT32_MAX }), q31, q31], seeded(1500))(
    "decayed_rate is lr·rate^n·rho^k within (n + k + 63)·2^−32 of the factor, plus ½ LSB, and never exceeds |lr|",
    (lr, t, period, rate, rho) => {
      const n = Math.floor(t / period);
      const k = t % period;
      const got = probe.decayed_rate(lr, t, period, rate, rho);
      expect(Math.abs(got)).toBeLessThanOrEqual(Math.abs(lr));
      if (got !== 0) expect(Math.sign(got)).toBe(Math.sign(lr));
      // The exact factor (q1.31 · 2^100), then lr times it, in units of lr's LSB.
      const factor = (exactPowerScaled(rate, n) * exactPowerScaled(rho, k)) >> (100n + 31n);
      const exact = Number(BigInt(lr) * factor) / 2 ** 131;
      const bound = (Math.abs(lr) * (n + k + 63)) / 2 ** 32 + 0.5;
      expect(Math.abs(got - exact), `lr ${lr}, t ${t}, steps ${period}`).toBeLessThanOrEqual(bound + 1e-6);
    },
  );

  test("decayed_rate: a step decay halves the rate exactly at each period; an exponential one is smooth between", () => {
    const lr = 1 << 24; // 1.0 in q8.24
    const half = ONE_Q31 / 2n;
    expect([0, 9, 10, 19, 20, 35].map((t) => probe.decayed_rate(lr, t, 10, half, ONE_Q31))).toEqual([
      lr, lr, lr / 2, lr / 2, lr / 4, lr / 8,
    ]);
    const rho = BigInt(Math.round(0.5 ** (1 / 10) * 2 ** 31));
    const smooth = [0, 5, 10, 15, 20].map((t) => probe.decayed_rate(lr, t, 10, half, rho) / lr);
    smooth.forEach((v, i) => expect(Math.abs(v - 0.5 ** (i / 2))).toBeLessThan(1e-7));
  });

  test("advance_step counts from any count a host left: negative counts as 0, and it stops at 2^31 − 1", () => {
    const counter = new Int32Array(probe.memory.buffer, probe.counter_ptr(), 1);
    for (const [before, t] of [[0, 1], [41, 42], [-1, 1], [INT32_MIN, 1], [INT32_MAX - 1, INT32_MAX], [INT32_MAX, INT32_MAX]]) {
      counter[0] = before;
      expect(probe.advance_step()).toBe(t);
      expect(counter[0]).toBe(t);
    }
  });
});

describe("momentum_step (assembly/momentum.ts)", () => {
  // h bits of headroom; the velocity's fraction bits V = G + 31 − h, 31 ≤ V ≤ 61.
  const setup = fc.record({
    gradFracBits: fc.integer({ min: 1, max: 30 }),
    headroom: fc.integer({ min: 1, max: 30 }),
    count: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 300 }), fc.constant(INT32_MAX)),
    lr: i32,
    rows: fc.array(fc.tuple(i32, i32, anyI64), { minLength: 1, maxLength: 32 }),
  }).filter((s) => s.headroom <= s.gradFracBits);

  test.prop([setup], seeded(400))("is the documented formula exactly, from any velocity a host left", (s) => {
    const V = s.gradFracBits + 31 - s.headroom;
    // The largest μ the spec allows for this headroom: 1 − 2^−h.
    const mu = ONE_Q31 - (ONE_Q31 >> BigInt(s.headroom));
    const n = s.rows.length;
    expect(n).toBeLessThanOrEqual(OPTIMIZER_PROBE_WORDS);
    const words = new Int32Array(probe.memory.buffer);
    const wide = new BigInt64Array(probe.memory.buffer);
    s.rows.forEach(([p, g, v], k) => {
      words[probe.params_ptr() / 4 + k] = p;
      words[probe.grads_ptr() / 4 + k] = g;
      wide[probe.first_state_ptr() / 8 + k] = v;
    });
    probe.momentum_step(n, s.lr, mu, s.gradFracBits, V, s.count);
    s.rows.forEach(([p, g, v], k) => {
      const gk = s.count > 1 ? roundDiv(BigInt(g), BigInt(s.count)) : BigInt(g);
      const velocity = clampState(roundDiv(clampState(v) * mu, ONE_Q31) + (gk << BigInt(V - s.gradFracBits)));
      // Within ±2^62 by the headroom, before the clamp: the clamp is a guard only.
      expect(velocity).toBe(roundDiv(clampState(v) * mu, ONE_Q31) + (gk << BigInt(V - s.gradFracBits)));
      const update = clamp32(roundDiv(velocity * BigInt(s.lr), 1n << BigInt(V)));
      expect(wide[probe.first_state_ptr() / 8 + k], `velocity ${k}`).toBe(velocity);
      expect(words[probe.params_ptr() / 4 + k], `param ${k}`).toBe(clamp32(BigInt(p) - BigInt(update)));
    });
  });
});

describe("Adam (assembly/adam.ts)", () => {
  test.prop([fc.oneof(fc.bigInt({ min: 1n << 61n, max: (1n << 63n) - 1n }), fc.constantFrom(0n, 1n << 61n, (1n << 63n) - 1n, (3037000499n ** 2n), 3037000499n ** 2n - 1n, (1n << 62n)))], seeded(3000))(
    "sqrt_floor_normalized is ⌊√x⌋ exactly on [2^61, 2^63) and 0",
    (x) => {
      expect(probe.sqrt_floor_normalized(x)).toBe(bigSqrt(x));
    },
  );

  test.prop([below1, fc.integer({ min: 1, max: INT32_MAX })], seeded(1000))(
    "bias_correction_q31 is 1 − β^t in [1 − β, 1]; sqrt_q31 is ⌊√(c·2^31)⌋",
    (beta, t) => {
      const c = probe.bias_correction_q31(beta, t);
      expect(c).toBe(ONE_Q31 - probe.pow_q31(beta, t));
      expect(c >= ONE_Q31 - beta && c <= ONE_Q31).toBe(true);
      expect(probe.sqrt_q31(c)).toBe(bigSqrt(c << 31n));
    },
  );

  /** R·2^24 in float64 from the kernel's inputs (see adam_ratio_q24): m / (c1·(√v·2^31/r2 + ε/2^32)). */
  function exactRatio(m: bigint, v: bigint, c1: bigint, r2: bigint, epsilon: bigint): number {
    const denominator = Number(c1) * ((Math.sqrt(Number(v)) * 2 ** 31) / Number(r2) + Number(epsilon) / 2 ** 32);
    return (Number(m) * 2 ** 24) / denominator;
  }

  const ratioInputs = fc.record({
    m: state,
    v: fc.oneof(fc.bigInt({ min: 1n, max: LIMIT }), fc.constantFrom(1n, LIMIT, 1n << 32n), fc.tuple(fc.bigInt({ min: 1n, max: LIMIT }), fc.integer({ min: 0, max: 62 })).map(([x, s]) => (x >> BigInt(s)) || 1n)),
    c1: fc.oneof(fc.bigInt({ min: 1n, max: ONE_Q31 }), fc.constantFrom(1n, ONE_Q31, 214748365n /* 0.1 */)),
    c2: fc.oneof(fc.bigInt({ min: 1n, max: ONE_Q31 }), fc.constantFrom(1n, ONE_Q31, 2147484n /* 0.001 */)),
    epsilon: fc.oneof(fc.bigInt({ min: 0n, max: LIMIT }), fc.constantFrom(0n, 1n, LIMIT, 115292150461n /* 1e-7 in q.60 */)),
  });

  let worstRatio = { relative: 0, m: 0n, v: 0n };
  test.prop([ratioInputs], seeded(3000))(
    "adam_ratio_q24 is m̂/(√v̂ + ε) within 5·2^−30 relative and ½ LSB, saturated to i32 (v > 0)",
    ({ m, v, c1, c2, epsilon }) => {
      const r2 = bigSqrt(c2 << 31n);
      const got = probe.adam_ratio_q24(m, v, c1, r2, epsilon);
      const exact = exactRatio(m, v, c1, r2, epsilon);
      const slack = Math.abs(exact) * 5 * 2 ** -30 + 0.5 + Math.abs(exact) * 2 ** -50; // float64's own rounding
      if (Math.abs(exact) - slack >= 2 ** 31) {
        expect(got).toBe(exact > 0 ? INT32_MAX : INT32_MIN);
        return;
      }
      if (Math.abs(exact) + slack < 2 ** 31 - 1) {
        // The error beyond the final rounding's ½ LSB, relative.
        const relative = Math.max(0, Math.abs(got - exact) - 0.5) / Math.max(Math.abs(exact), 1);
        if (relative > worstRatio.relative) worstRatio = { relative, m, v };
        expect(Math.abs(got - exact), `m ${m}, v ${v}, c1 ${c1}, r2 ${r2}, ε ${epsilon}: ${got} vs ${exact}`).toBeLessThanOrEqual(slack);
      }
    },
  );

  test("adam_ratio_q24's worst relative error met stays inside 5·2^−30 (reported); m = 0 gives 0; v = 0 leaves ε alone", () => {
    expect(worstRatio.relative).toBeLessThanOrEqual(5 * 2 ** -30 + 2 ** -50);
    console.log(`adam_ratio_q24: worst relative error ${worstRatio.relative.toExponential(2)} (bound ${(5 * 2 ** -30).toExponential(2)})`);
    expect(probe.adam_ratio_q24(0n, LIMIT, 1n, 1n, 0n)).toBe(0);
    // v = 0: R = m / (c1·ε/2^32): with m = ε·2^−32·c1/2^31... pick m, ε so R = 1 exactly.
    expect(probe.adam_ratio_q24(1n << 40n, 0n, ONE_Q31, ONE_Q31, 1n << 41n)).toBe(1 << 24);
    // Anything a host left (v beyond 2^62, ε 0) stays finite: saturated, never a trap.
    expect(probe.adam_ratio_q24(LIMIT, 0n, 1n, 1n, 0n)).toBe(INT32_MAX);
    expect(probe.adam_ratio_q24(-LIMIT, 0n, 1n, 1n, 0n)).toBe(INT32_MIN);
  });

  const adamInputs = fc.record({
    fracBits: fc.integer({ min: 1, max: 30 }),
    lr: i32,
    beta1: below1,
    beta2: below1,
    t: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: INT32_MAX })),
    epsilon: fc.oneof(fc.bigInt({ min: 0n, max: LIMIT }), fc.constant(115292150461n)),
    count: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 300 })),
    rows: fc.array(fc.tuple(i32, i32, anyI64, anyI64), { minLength: 1, maxLength: 32 }),
  });

  test.prop([adamInputs], seeded(400))(
    "adam_step updates m and v by the documented formulas exactly (any state a host left) and p by lr·R",
    (s) => {
      const c1 = probe.bias_correction_q31(s.beta1, s.t);
      const r2 = probe.sqrt_q31(probe.bias_correction_q31(s.beta2, s.t));
      const words = new Int32Array(probe.memory.buffer);
      const wide = new BigInt64Array(probe.memory.buffer);
      const [P, G, M, V] = [probe.params_ptr() / 4, probe.grads_ptr() / 4, probe.first_state_ptr() / 8, probe.second_state_ptr() / 8];
      s.rows.forEach(([p, g, m, v], k) => {
        words[P + k] = p;
        words[G + k] = g;
        wide[M + k] = m;
        wide[V + k] = v;
      });
      probe.adam_step(s.rows.length, s.lr, s.fracBits, s.beta1, s.beta2, c1, r2, s.epsilon, s.count);
      s.rows.forEach(([p, g, m, v], k) => {
        const gk = s.count > 1 ? roundDiv(BigInt(g), BigInt(s.count)) : BigInt(g);
        const first = clampState(roundDiv(clampState(m) * s.beta1, ONE_Q31) + (ONE_Q31 - s.beta1) * gk);
        const vIn = v < 0n ? 0n : v > LIMIT ? LIMIT : v;
        let second = roundDiv(vIn * s.beta2, ONE_Q31) + roundDiv(gk * gk * (ONE_Q31 - s.beta2), ONE_Q31);
        if (second > LIMIT) second = LIMIT;
        expect(wide[M + k], `m ${k}`).toBe(first);
        expect(wide[V + k], `v ${k}`).toBe(second);
        const ratio = probe.adam_ratio_q24(first, second, c1, r2, s.epsilon);
        const update = clamp32(roundDiv(BigInt(s.lr) * BigInt(ratio), 1n << 24n));
        expect(words[P + k], `p ${k}`).toBe(clamp32(BigInt(p) - BigInt(update)));
      });
    },
  );
});
