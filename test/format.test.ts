// A format's range is printed one way everywhere: by the spec's checks, by the
// driver's writes and by the data-file reader, through rangeText in format.ts.
//
// The expected bounds come from the definition of qI.F (−2^31 / 2^F and
// (2^31 − 1) / 2^F), checked exactly with BigInt, and from the figure the README
// prints for q8.24 (127.99999994); never from running rangeText.

import { beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { Firmware } from "../src/run/driver.js";
import { MAX_FRAC_BITS, MIN_FRAC_BITS, rangeText } from "../src/spec/format.js";
import type { Model } from "../src/spec/model.js";
import { parseSpec } from "../src/spec/spec.js";
import { parseCsvData, parseJsonData } from "../src/train/data.js";

/** p · 10^k as an exact rational a / 10^k, compared with (2^31 − 1) / 2^F without rounding. */
function decimal(text: string): { digits: bigint; scale: number } {
  const [whole, fraction = ""] = text.split(".");
  return { digits: BigInt(whole + fraction), scale: fraction.length };
}

/** Sign of p − (2^31 − 1)/2^F, and |p − max| < lsb/2, exactly. */
function against(text: string, fracBits: number): { belowOrEqual: boolean; withinHalfLsb: boolean } {
  const { digits, scale } = decimal(text);
  // p = digits / 10^scale; max = (2^31 − 1) / 2^F; lsb / 2 = 1 / 2^(F + 1).
  const lhs = digits * 2n ** BigInt(fracBits + 1); // p · 2^(F+1) · 10^scale
  const maxScaled = (2n ** 31n - 1n) * 2n * 10n ** BigInt(scale); // max · 2^(F+1) · 10^scale
  const half = 10n ** BigInt(scale); // (lsb/2) · 2^(F+1) · 10^scale
  return { belowOrEqual: lhs <= maxScaled, withinHalfLsb: maxScaled - lhs < half };
}

describe("rangeText", () => {
  it("prints q8.24 as the README does, and q2.30", () => {
    expect(rangeText(24)).toBe("q8.24 [-128, 127.99999994]");
    expect(rangeText(30)).toBe("q2.30 [-2, 1.999999999]");
  });

  for (let F = MIN_FRAC_BITS; F <= MAX_FRAC_BITS; F++) {
    it(`q${32 - F}.${F}: the exact minimum, and the shortest upper bound at or below the maximum within half an LSB`, () => {
      const match = /^q(\d+)\.(\d+) \[(-?\d+(?:\.\d+)?), (\d+(?:\.\d+)?)\]$/.exec(rangeText(F));
      expect(match, rangeText(F)).not.toBeNull();
      const [, I, fraction, min, max] = match!;
      expect(Number(I) + Number(fraction)).toBe(32);
      expect(Number(fraction)).toBe(F);
      expect(BigInt(min) * 2n ** BigInt(F)).toBe(-(2n ** 31n)); // min = −2^31 / 2^F: an integer for F ≤ 31
      expect(against(max, F)).toEqual({ belowOrEqual: true, withinHalfLsb: true });
      // One significant digit fewer no longer qualifies.
      const significant = max.replace(".", "").replace(/^0+/, "").length;
      if (significant > 1) {
        const shorter = String(Number(Number(max).toPrecision(significant - 1)));
        const shorterOk = /e/.test(shorter) ? { belowOrEqual: false, withinHalfLsb: false } : against(shorter, F);
        expect(shorterOk.belowOrEqual && shorterOk.withinHalfLsb, `${shorter} would do for q${32 - F}.${F}`).toBe(false);
      }
    });
  }
});

describe("the three messages agree", () => {
  const spec = {
    name: "bounds",
    format: "q8.24",
    inputs: 3,
    layers: [{ units: 1, activation: "sigmoid" }],
    init: { seed: 1 },
  };
  let model: Model;
  let firmware: Firmware;
  beforeAll(async () => {
    model = parseSpec(spec);
    const built = await buildModel(model);
    firmware = await Firmware.load(built.wasm, built.manifest);
  });

  /** What follows "is outside the range of" in a message. */
  function printedRange(message: string): string {
    const match = /is outside the range of (.*)$/.exec(message);
    expect(match, message).not.toBeNull();
    return match![1];
  }

  function thrown(f: () => unknown): string {
    try {
      f();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected an error");
  }

  it("spec, driver, CSV and JSON data print q8.24's range the same way", () => {
    const fromSpec = thrown(() => parseSpec({ ...spec, sample: { input: [0, 0, 300], target: [0.5] } }));
    const fromDriver = thrown(() => firmware.setInput([0, 0, 300]));
    const fromCsv = thrown(() => parseCsvData("0,0,300,0.5\n", "d.csv", model));
    const fromJson = thrown(() => parseJsonData('[{ "input": [0, 0, 300], "target": [0.5] }]', "d.json", model));
    expect(fromSpec).toBe("sample.input[2]: 300 is outside the range of q8.24 [-128, 127.99999994]");
    expect(fromDriver).toBe("input[2]: 300 is outside the range of q8.24 [-128, 127.99999994]");
    expect(fromCsv).toBe("d.csv:1:5: input 3: 300 is outside the range of q8.24 [-128, 127.99999994]");
    const ranges = [fromSpec, fromDriver, fromCsv, fromJson].map(printedRange);
    expect(new Set(ranges).size, ranges.join(" | ")).toBe(1);
  });

  it("a value rounding past the maximum is refused the same way in each", () => {
    const justOver = 127.99999998; // rounds to 2^31, one past the largest i32
    const messages = [
      thrown(() => parseSpec({ ...spec, sample: { input: [0, 0, justOver], target: [0.5] } })),
      thrown(() => firmware.setInput([0, 0, justOver])),
      thrown(() => parseCsvData(`0,0,${justOver},0.5\n`, "d.csv", model)),
    ];
    for (const message of messages) expect(message).toContain(`${justOver} is outside the range of q8.24 [-128, 127.99999994]`);
  });
});
