// The benchmark's three models and the rows each engine runs them on.
//
// Every engine sees the same BENCH_ROWS rows, as floats (TF.js, the reference) or
// quantized once into the module's batch buffer (qfirm), and starts from the
// spec's weights (or its seeded initialisation).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../src/build/compile.js";
import type { Dataset } from "../src/train/data.js";
import { loadIris, loadMnist } from "../src/train/datasets.js";
import type { Model } from "../src/spec/model.js";
import { mulberry32, parseSpecText } from "../src/spec/spec.js";

/**
 * Rows per benchmark data set, and the module's batch capacity: one train_samples or
 * predict_samples call runs all of them, so the host crosses into the module once
 * per 256 samples.
 */
export const BENCH_ROWS = 256;
/** Rows per step of the batched-training case. */
export const MINI_BATCH = 32;

export interface BenchModel {
  name: string;
  /** Layer sizes, input to output: "3-2-1". */
  shape: string;
  /** The example's model with a batch buffer of BENCH_ROWS rows. */
  model: Model;
  /** BENCH_ROWS rows. */
  data: Dataset;
}

/** examples/<file>, parsed. */
export function readExample(file: string): Model {
  return parseSpecText(readFileSync(join(ROOT, "examples", file), "utf8"), file);
}

/** The example's model with a batch buffer of BENCH_ROWS rows. */
function benchModel(file: string): Model {
  return { ...readExample(file), batchCapacity: BENCH_ROWS };
}

function shapeOf(model: Model): string {
  return [model.inputs, ...model.layers.map((l) => l.units)].join("-");
}

/** Half-width of the uniform noise added to the documented example's sample input (and a tenth of it to its target). */
const PERTURBATION = 0.1;

/** Row 0 is the spec's sample; row k > 0 is the sample with seeded uniform noise on every input and on the target. */
function perturbedSamples(model: Model, rows: number): Dataset {
  const sample = model.sample;
  if (!sample) throw new Error(`${model.name}: the spec has no sample to perturb`);
  const next = mulberry32(1);
  const noise = (width: number) => width * (2 * next() - 1);
  const inputs = [sample.input.slice()];
  const targets = [sample.target.slice()];
  for (let k = 1; k < rows; k++) {
    inputs.push(sample.input.map((v) => v + noise(PERTURBATION)));
    targets.push(sample.target.map((v) => v + noise(PERTURBATION / 10)));
  }
  return { inputs, targets };
}

/** `rows` rows of `data`, in a seeded shuffled order, repeated as often as needed. */
function cycled(data: Dataset, rows: number): Dataset {
  const order = Array.from({ length: data.inputs.length }, (_, k) => k);
  const next = mulberry32(2);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const picked = Array.from({ length: rows }, (_, k) => order[k % order.length]);
  return { inputs: picked.map((k) => data.inputs[k]), targets: picked.map((k) => data.targets[k]) };
}

/** What a zero pixel becomes in the dense-input MNIST rows. */
export const DENSE_FILL = 0.01;

/**
 * The rows with every input that is exactly 0 set to DENSE_FILL: no row of the first
 * layer can be skipped (an MNIST image has about 81% zero pixels, which the kernels skip).
 */
function denseInputs(data: Dataset): Dataset {
  return { inputs: data.inputs.map((row) => row.map((v) => (v === 0 ? DENSE_FILL : v))), targets: data.targets };
}

export function benchModels(): BenchModel[] {
  const documented = benchModel("documented-example.json");
  const iris = benchModel("iris.json");
  const mnist = benchModel("mnist.json");
  const mnistRows = loadMnist(BENCH_ROWS);
  return [
    { name: "documented-example", shape: shapeOf(documented), model: documented, data: perturbedSamples(documented, BENCH_ROWS) },
    { name: "iris", shape: shapeOf(iris), model: iris, data: cycled(loadIris(), BENCH_ROWS) },
    { name: "mnist", shape: shapeOf(mnist), model: mnist, data: mnistRows },
    { name: "mnist-dense", shape: shapeOf(mnist), model: mnist, data: denseInputs(mnistRows) },
  ];
}
