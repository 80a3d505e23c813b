// qfirm train: the fixed-point module and the float64 reference trained side by
// side on a data file or a built-in data set.

import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { SingleBar } from "cli-progress";
import { describeTraining, type Model } from "../spec/model.js";
import { formatName } from "../spec/format.js";
import { parseSpec, parseSpecText, SpecError } from "../spec/spec.js";
import { DataError, loadDataFile, type Dataset } from "../train/data.js";
import { IRIS_FEATURES, loadIris, loadMnist, MNIST_AVAILABLE, MNIST_INPUTS } from "../train/datasets.js";
import { lossCurveSvg } from "../train/svg.js";
import { checkOutputs, writeFiles, type Output } from "../build/artifacts.js";
import { renderSpec, train, trainedSpec, type EpochResult } from "../train/train.js";
import { parseCount, parseFraction, parsePositive, readText, UsageError } from "./usage.js";

const DATASETS = ["iris", "mnist"] as const;
type DatasetName = (typeof DATASETS)[number];
/** MNIST digits loaded unless --samples says: 4,000 to train and 1,000 held out at the default --holdout. */
const DEFAULT_MNIST_SAMPLES = 5000;

function parseDatasetName(value: string): DatasetName {
  if (!(DATASETS as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${DATASETS.join(", ")}`);
  return value as DatasetName;
}

const TRAIN_HELP = `
Data files (--data):
  CSV   comma-separated numbers, one row per line; a first line with no number in it
        is a header. Each row holds the inputs, then the targets (the last <outputs>
        fields); or, when the last layer is softmax, the inputs then one class label,
        an integer 0 … outputs − 1, turned one-hot. The first row decides which.
  JSON  [{ "input": [...], "target": [...] }, ...] or { "inputs": [[...], ...],
        "targets": [[...], ...] }; with softmax a target may be a class label.
  Every value must fit the spec's format; a bad row stops with file:line:column.

Both the fixed-point module and the float64 reference train, from the same weights
on the same rows in the same order, with the spec's optimizer (sgd, sgd with
momentum, adam; an optional learning-rate decay) and only its trainable layers. Held-out accuracy: argmax for several outputs,
the sign for one hinge output, 0.5 for one sigmoid output. --out gets the input spec
with the module's trained weights in place of init (qfirm build makes it firmware).`;

interface TrainCommandOptions {
  data?: string;
  dataset?: DatasetName;
  samples?: number;
  epochs: number;
  seed: number;
  learningRate?: number;
  holdout: number;
  out?: string;
  curve?: string;
  batch: number;
  force?: boolean;
}

const DATASET_SHAPES: Record<DatasetName, { inputs: number; classes: number }> = {
  iris: { inputs: IRIS_FEATURES, classes: 3 },
  mnist: { inputs: MNIST_INPUTS, classes: 10 },
};

/** The built-in data set, once its shape is known to fit the model. */
function builtInDataset(name: DatasetName, model: Model, samples: number | undefined): Dataset {
  if (samples !== undefined && name !== "mnist") throw new UsageError(`--samples: only for --dataset mnist`);
  const { inputs, classes } = DATASET_SHAPES[name];
  const outputs = model.layers[model.layers.length - 1].units;
  if (model.inputs !== inputs || outputs !== classes) {
    throw new UsageError(
      `--dataset ${name}: has ${inputs} inputs and ${classes} classes; the spec's model takes ${model.inputs} inputs and has ${outputs} outputs`,
    );
  }
  return name === "iris" ? loadIris() : loadMnist(samples ?? DEFAULT_MNIST_SAMPLES);
}

function seconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

function lossCell(value: number): string {
  return Number.isFinite(value) ? value.toFixed(6) : String(value);
}

/** (module − reference) / reference, signed, two significant digits. */
function lossDifference(e: EpochResult): string {
  if (e.floatLoss === 0) return e.fixedLoss === 0 ? "0" : "∞";
  const d = (e.fixedLoss - e.floatLoss) / Math.abs(e.floatLoss);
  return d === 0 ? "0" : `${d > 0 ? "+" : "−"}${Math.abs(d).toExponential(1)}`;
}

const EPOCH_COLUMNS = ["epoch", "loss fixed", "loss float", "rel diff", "time fixed", "time float"];
const EPOCH_CELL_WIDTH = 11;

/** One row of the per-epoch table: the first column ("12/100") left-aligned, the rest right. */
function epochLine(cells: string[], epochs: number): string {
  const first = Math.max(EPOCH_COLUMNS[0].length, 2 * String(epochs).length + 1) + 2;
  return cells.map((c, i) => (i === 0 ? c.padEnd(first) : c.padStart(EPOCH_CELL_WIDTH))).join(" ").trimEnd();
}

async function runTrain(specPath: string, options: TrainCommandOptions): Promise<void> {
  if ((options.data === undefined) === (options.dataset === undefined)) {
    throw new UsageError("give one of --data FILE and --dataset iris|mnist");
  }
  const text = await readText(specPath);
  let model = parseSpecText(text, specPath);
  const spec = JSON.parse(text.replace(/^\uFEFF/, "")) as Record<string, unknown>;
  if (options.learningRate !== undefined) {
    // The spec's own rules (at least one LSB of the format), with the option's name;
    // the spec's optimizer otherwise as it is.
    const optimizer = (spec.optimizer ?? { type: "sgd" }) as Record<string, unknown>;
    try {
      model = parseSpec({ ...spec, optimizer: { ...optimizer, learningRate: options.learningRate } });
    } catch (error) {
      if (error instanceof SpecError && error.path === "optimizer.learningRate") throw new UsageError(`--learning-rate: ${error.problem}`);
      throw error;
    }
  }
  // Before a long run, not after it.
  const outputs: Output[] = [];
  if (options.out !== undefined) outputs.push({ path: options.out, kind: "file", option: "--out" });
  if (options.curve !== undefined) outputs.push({ path: options.curve, kind: "file", option: "--curve" });
  const writing = { inputs: [specPath, ...(options.data === undefined ? [] : [options.data])], force: options.force };
  checkOutputs(outputs, writing);

  let data: Dataset;
  if (options.data !== undefined) {
    if (options.samples !== undefined) throw new UsageError(`--samples: only for --dataset mnist`);
    try {
      data = await loadDataFile(options.data, model);
    } catch (error) {
      if (error instanceof DataError) throw new UsageError(error.message);
      throw error;
    }
  } else {
    data = builtInDataset(options.dataset!, model, options.samples);
  }
  if (model.training === "none") {
    throw new UsageError(`${specPath}: an inference-only spec ("training": "none") cannot train`);
  }
  if (model.training === "lean" && options.batch > 1) {
    throw new UsageError(`--batch ${options.batch}: a "lean" module trains per sample (it has no train_batch); use --batch 1`);
  }
  const rows = data.inputs.length;
  const held = Math.round(rows * options.holdout);
  if (held >= rows) throw new UsageError(`--holdout ${options.holdout}: holds out all ${rows} rows; none are left to train on`);

  const shape = [model.inputs, ...model.layers.map((l) => l.units)].join("-");
  const source = options.data ?? options.dataset!;
  console.log(`${model.name}: ${shape}, ${formatName(model.format)}, batch ${options.batch}`);
  console.log(describeTraining(model));
  console.log(`data: ${source}, ${rows - held} rows to train, ${held} held out (seed ${options.seed})`);

  const bar = process.stderr.isTTY
    ? new SingleBar({
        format: "epoch {epoch} [{bar}] {value}/{total} rows | running loss: fixed {fixed}, float {float}",
        clearOnComplete: true,
        hideCursor: true,
        stream: process.stderr,
      })
    : undefined;
  let barRunning = false;
  const started = performance.now();
  const result = await train(model, data, {
    epochs: options.epochs,
    seed: options.seed,
    holdout: options.holdout,
    batch: options.batch,
    target: "web",
    onProgress: (p) => {
      if (!bar) return;
      const payload = { epoch: `${p.epoch}/${options.epochs}`, fixed: lossCell(p.fixedLoss), float: lossCell(p.floatLoss) };
      if (barRunning) bar.update(p.done, payload);
      else {
        bar.start(p.rows, p.done, payload);
        barRunning = true;
      }
    },
    onEpoch: (e) => {
      if (bar && barRunning) {
        bar.stop();
        barRunning = false;
      }
      if (e.epoch === 1) console.log(epochLine(EPOCH_COLUMNS, options.epochs));
      const cells = [`${e.epoch}/${options.epochs}`, lossCell(e.fixedLoss), lossCell(e.floatLoss), lossDifference(e)];
      console.log(epochLine([...cells, seconds(e.fixedSeconds), seconds(e.floatSeconds)], options.epochs));
    },
  });
  const total = (performance.now() - started) / 1000;

  const a = result.accuracy;
  if (a) {
    const rule = { argmax: "argmax", sign: "sign", threshold: "threshold 0.5" }[a.rule];
    const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
    const gap = (a.fixed - a.float) * 100;
    console.log(
      `held-out accuracy (${a.rows} rows, ${rule}): fixed ${pct(a.fixed)}, float ${pct(a.float)}, gap ${gap >= 0 ? "+" : "−"}${Math.abs(gap).toFixed(2)} pp`,
    );
  } else {
    console.log(held === 0 ? "held-out accuracy: no rows held out" : "held-out accuracy: none (one output that is neither sigmoid nor hinge)");
  }
  const fixedTime = result.epochs.reduce((s, e) => s + e.fixedSeconds, 0);
  const floatTime = result.epochs.reduce((s, e) => s + e.floatSeconds, 0);
  console.log(`time: module ${seconds(fixedTime)}, reference ${seconds(floatTime)}, total ${seconds(total)} (with the build)`);

  const files: Record<string, string> = {};
  if (options.out !== undefined) files[options.out] = renderSpec(trainedSpec(spec, result.params));
  if (options.curve !== undefined) {
    files[options.curve] = lossCurveSvg(
      model.name,
      result.epochs.map((e) => e.fixedLoss),
      result.epochs.map((e) => e.floatLoss),
    );
  }
  if (Object.keys(files).length > 0) {
    await writeFiles(files, writing);
    console.log(`wrote ${Object.keys(files).join(", ")}`);
  }
}

export function registerTrain(cli: Command): void {
  cli
    .command("train")
    .description("train SPEC on a data set: the fixed-point module and the float64 reference side by side")
    .argument("<spec>", "the model's JSON spec")
    .option("--data <file>", "training rows: CSV or JSON (layout below)")
    .option("--dataset <name>", `a built-in data set instead: ${DATASETS.join(", ")}`, parseDatasetName)
    .option("--samples <n>", `with --dataset mnist: how many digits (default: ${DEFAULT_MNIST_SAMPLES})`, parseCount(1, MNIST_AVAILABLE))
    .option("--epochs <n>", "passes over the training rows", parseCount(1, 1_000_000), 10)
    .option("--seed <s>", "seeds the held-out split and each epoch's shuffle", parseCount(0, 2 ** 32 - 1), 1)
    .option("--learning-rate <rate>", "the optimizer's learning rate, instead of the spec's", parsePositive)
    .option("--holdout <fraction>", "fraction of the rows held out for accuracy", parseFraction, 0.2)
    .option("--batch <n>", "rows per optimizer step (1: per-sample training)", parseCount(1, 65536), 1)
    .option("--out <file>", "write the trained spec (the module's weights in place of init)")
    .option("--curve <file>", "write the per-epoch loss curves as SVG")
    .option("--force", "replace existing --out and --curve files")
    .addHelpText("after", TRAIN_HELP)
    .action(runTrain);
}
