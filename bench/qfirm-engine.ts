// The qfirm module in Node: built once per model and target, the benchmark rows
// quantized once and written once into its batch buffer (outside every timed
// region); each call is then one crossing into the module.

import { buildModel, type Built } from "../src/build/build.js";
import type { Target } from "../src/build/compile.js";
import { Firmware } from "../src/run/driver.js";
import { quantizeRows } from "../src/train/train.js";
import type { EngineCases } from "./engine.js";
import { MINI_BATCH, type BenchModel } from "./models.js";

export interface QfirmModule {
  built: Built;
  firmware: Firmware;
  buildSeconds: number;
}

export async function loadQfirm(bench: BenchModel, target: Target): Promise<QfirmModule> {
  const start = performance.now();
  const built = await buildModel(bench.model, target);
  const buildSeconds = (performance.now() - start) / 1000;
  return { built, firmware: await Firmware.load(built.wasm, built.manifest), buildSeconds };
}

export function qfirmCases(firmware: Firmware, bench: BenchModel): EngineCases {
  const rows = bench.data.inputs.length;
  firmware.setBatchWords(quantizeRows(bench.data, bench.model), rows);
  const predictSamples = firmware.exports.predict_samples;
  if (!predictSamples) throw new Error(`${bench.name}: the module has no batched entries`);
  return {
    // train_samples(256): 256 updates in one call.
    trainSamples: () => (firmware.trainSamples(rows), rows),
    // train_batch(32) over rows 0 … 31.
    trainBatch: () => (firmware.trainBatch(MINI_BATCH), MINI_BATCH),
    // The export itself: the outputs stay in the module's memory as Q values, where a
    // host reads them through a view, so the driver's float conversion is left out.
    predictSamples: () => (predictSamples(rows), rows),
    dispose() {},
  };
}
