// Build the module of an imported spec once and read its outputs; measure how far they
// are from a framework's (the worst absolute difference over every output).

import { buildModel } from "../../src/build/build.js";
import { Firmware } from "../../src/run/driver.js";
import { parseSpec } from "../../src/spec/spec.js";
import { mulberry32 } from "../../src/spec/spec.js";

export async function moduleOutputs(spec: unknown, inputs: number[][]): Promise<number[][]> {
  const model = parseSpec(spec);
  const built = await buildModel(model, "mcu");
  const firmware = await Firmware.load(built.wasm, built.manifest);
  return inputs.map((x) => {
    firmware.setInput(x);
    firmware.forward();
    return firmware.output();
  });
}

/** `count` seeded inputs of `width` values in [−range, range). */
export function seededInputs(seed: number, count: number, width: number, range = 2): number[][] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, () => Array.from({ length: width }, () => Math.fround((2 * next() - 1) * range)));
}

/** Flattened for expectWithin, row by row. */
export function flat(rows: number[][]): number[] {
  return rows.flat();
}
