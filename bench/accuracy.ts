// The README's support table: for every activation and loss, the worst error of the
// fixed-point module against the float64 reference over the seeded nets of the
// test suite (test/support/nets.ts: every pairing, samples clear of every kink).
//
//   npm run accuracy

import { buildModel } from "../src/build/build.js";
import { Firmware } from "../src/run/driver.js";
import { flattenParams } from "../src/build/layout.js";
import { trace } from "../src/reference/network.js";
import { CASES, drawNet } from "../test/support/nets.js";

interface Worst {
  value: number;
  where: string;
}

const worst = new Map<string, Worst>();
function note(key: string, value: number, where: string): void {
  const current = worst.get(key);
  if (!current || value > current.value) worst.set(key, { value, where });
}

/** Relative error with a floor: below `floor` in magnitude, the error counts against the floor. */
const relative = (module: number, reference: number, floor: number) =>
  Math.abs(module - reference) / Math.max(Math.abs(reference), floor);

const GRADIENT_FLOOR = 1e-3;

for (let i = 0; i < CASES.length; i++) {
  const net = drawNet(CASES[i], i);
  const model = { ...net.model, weights: net.params };
  const { wasm, manifest } = await buildModel(model);
  const fw = await Firmware.load(wasm, manifest);
  const mod = fw.trace(net.input, net.target);
  const ref = trace(model, net.params, net.input, net.target);
  model.layers.forEach((layer, l) => {
    const name = layer.activation;
    mod.a[l].forEach((a, j) => note(`${name} forward`, Math.abs(a - ref.a[l][j]), CASES[i].name));
    mod.dZ[l].forEach((d, j) => note(`${name} backward`, relative(d, ref.dZ[l][j], GRADIENT_FLOOR), CASES[i].name));
  });
  const loss = model.loss.type;
  note(`${loss} loss`, relative(mod.loss, ref.loss, 1e-6), CASES[i].name);
  const g = flattenParams(mod.grads);
  flattenParams(ref.grads).forEach((r, k) => note(`${loss} gradients`, relative(g[k], r, GRADIENT_FLOOR), CASES[i].name));
}

console.log(`worst errors over ${CASES.length} seeded 4-5-3 nets, q8.24 values, q4.28 gradients`);
console.log("forward: absolute; backward, loss and gradients: relative (against max(|reference|, 1e-3) for gradients)\n");
console.log("| measure | worst error | net |");
console.log("| --- | --- | --- |");
for (const [key, { value, where }] of [...worst].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`| ${key} | ${value.toExponential(1)} | ${where} |`);
}
