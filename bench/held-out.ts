// Held-out accuracy of the fixed-point module and of the float64 reference, trained
// side by side by src/train/train.ts: the same initial weights, the same split, the same
// rows in the same order, per-sample SGD (batch 1).

import type { Dataset } from "../src/train/data.js";
import { loadIris, loadMnist } from "../src/train/datasets.js";
import { train } from "../src/train/train.js";
import { readExample } from "./models.js";

export interface HeldOutAccuracy {
  dataset: string;
  /** Held-out accuracy, fractions in [0, 1]: the module's, the reference's. */
  fixed: number;
  float: number;
  /** fixed − float, in percentage points. */
  gapPp: number;
  heldOutRows: number;
  trainRows: number;
  epochs: number;
  /** Wall time of the whole run (build, both trainings, predictions). */
  seconds: number;
}

interface AccuracyRun {
  dataset: string;
  spec: string;
  load(): Dataset;
  epochs: number;
}

/** A fifth of the rows held out, split and order from mulberry32(SEED). */
const HOLDOUT = 0.2;
const SEED = 1;

function runs(quick: boolean): AccuracyRun[] {
  return [
    { dataset: "iris", spec: "iris.json", load: loadIris, epochs: 10 },
    quick
      ? { dataset: "mnist", spec: "mnist.json", load: () => loadMnist(2_000), epochs: 2 }
      : { dataset: "mnist", spec: "mnist.json", load: () => loadMnist(10_000), epochs: 3 },
  ];
}

export async function heldOutAccuracy(quick: boolean, log: (line: string) => void): Promise<HeldOutAccuracy[]> {
  const results: HeldOutAccuracy[] = [];
  for (const run of runs(quick)) {
    const start = performance.now();
    const data = run.load();
    const result = await train(readExample(run.spec), data, { epochs: run.epochs, seed: SEED, holdout: HOLDOUT, batch: 1, target: "web" });
    const accuracy = result.accuracy;
    if (!accuracy) throw new Error(`${run.dataset}: training gave no held-out accuracy`);
    const held: HeldOutAccuracy = {
      dataset: run.dataset,
      fixed: accuracy.fixed,
      float: accuracy.float,
      gapPp: (accuracy.fixed - accuracy.float) * 100,
      heldOutRows: result.holdoutRows.length,
      trainRows: result.trainRows.length,
      epochs: run.epochs,
      seconds: (performance.now() - start) / 1000,
    };
    log(`  accuracy ${held.dataset}: fixed ${(held.fixed * 100).toFixed(2)}%, float ${(held.float * 100).toFixed(2)}% (${held.seconds.toFixed(1)} s)`);
    results.push(held);
  }
  return results;
}
