// Every activation and loss pairing, built into a module, against the float64
// reference on the seeded nets of test/support/nets.ts (4 inputs, 5 hidden, 3
// outputs, samples clear of every kink).

import { describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { Firmware } from "../src/run/driver.js";
import { allQuantities, compare, type QuantityKind, type Tolerance } from "../src/check/parity.js";
import { trace } from "../src/reference/network.js";
import { CASES, drawNet } from "./support/nets.js";

/** Issue #3's bar for random nets: gradients 2% relative (2e-5 absolute where tiny), loss 1%, forward 1e-4. */
const RANDOM_NET_TOLERANCE: Record<QuantityKind, Tolerance> = {
  forward: { rel: 0, abs: 1e-4 },
  loss: { rel: 0.01, abs: 1e-6 },
  derivative: { rel: 0.02, abs: 2e-5 },
  gradient: { rel: 0.02, abs: 2e-5 },
};

describe.concurrent("module against the float64 reference", () => {
  it.each(CASES.map((c, i) => [c.name, i] as const))("%s", async (_, caseIndex) => {
    const net = drawNet(CASES[caseIndex], caseIndex);
    const model = { ...net.model, weights: net.params };
    const { wasm, manifest } = await buildModel(model);
    const fw = await Firmware.load(wasm, manifest);
    const rows = compare(allQuantities(model), trace(model, net.params, net.input, net.target), fw.trace(net.input, net.target), manifest);
    for (const row of rows) {
      const tol = RANDOM_NET_TOLERANCE[row.kind];
      const ok = row.absError <= tol.abs || row.absError <= tol.rel * Math.abs(row.reference);
      expect(ok, `${row.label}: module ${row.module}, reference ${row.reference}`).toBe(true);
    }
  });
});
