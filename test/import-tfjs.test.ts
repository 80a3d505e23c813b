// TF.js Layers import: a model built, trained and saved by @tensorflow/tfjs-layers
// itself, in both layouts (model.save()'s and the converter's), imported, built into a
// module, and the module's outputs on 20 inputs against TF.js's own predictions.

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import * as tfl from "@tensorflow/tfjs-layers";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { importModel } from "../src/import/import.js";
import { mulberry32 } from "../src/spec/spec.js";
import { flat, moduleOutputs, seededInputs } from "./support/imported.js";
import { modelJson, savedArtifacts } from "./support/tfjs_files.js";
import { expectWithin, IMPORT_AGREEMENT } from "./tolerance.js";

let dir: string;
let model: tfl.Sequential;
let artifacts: tf.io.ModelArtifacts;
const inputs = seededInputs(11, 20, 4);

function weightBytes(a: tf.io.ModelArtifacts): Uint8Array {
  const data = a.weightData as ArrayBuffer;
  return new Uint8Array(data);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = await mkdtemp(join(tmpdir(), "qfirm-tfjs-"));
  model = tfl.sequential();
  model.add(tfl.layers.dense({ units: 8, inputShape: [4] }));
  model.add(tfl.layers.batchNormalization());
  model.add(tfl.layers.activation({ activation: "tanh" }));
  model.add(tfl.layers.dropout({ rate: 0.2 }));
  model.add(tfl.layers.dense({ units: 3 }));
  model.add(tfl.layers.softmax());
  model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
  // Three classes by which of x0 + x1, x2 − x3, 0 is largest.
  const next = mulberry32(5);
  const xs = Array.from({ length: 96 }, () => Array.from({ length: 4 }, () => 2 * next() - 1));
  const labels = xs.map(([a, b, c, d]) => {
    const s = [a + b, c - d, 0];
    return s.indexOf(Math.max(...s));
  });
  await model.fit(tf.tensor2d(xs), tf.oneHot(tf.tensor1d(labels, "int32"), 3), { epochs: 8, batchSize: 16, verbose: 0 });
  artifacts = await savedArtifacts(model);

  // model.save() layout: one weights.bin.
  await writeFile(join(dir, "saved.json"), JSON.stringify(modelJson(artifacts, [{ paths: ["./weights.bin"], weights: artifacts.weightSpecs! }])));
  await writeFile(join(dir, "weights.bin"), weightBytes(artifacts));
  // QFIRM_KEEP_TFJS=DIR keeps this trained model (the README's worked example imports it).
  const keep = process.env.QFIRM_KEEP_TFJS;
  if (keep) {
    await mkdir(keep, { recursive: true });
    await writeFile(join(keep, "model.json"), JSON.stringify(modelJson(artifacts, [{ paths: ["./weights.bin"], weights: artifacts.weightSpecs! }])));
    await writeFile(join(keep, "weights.bin"), weightBytes(artifacts));
  }

  // The converter's layout: Keras-style topology, one group per layer, 48-byte shards.
  const bytes = weightBytes(artifacts);
  const groups: tf.io.WeightsManifestConfig = [];
  let at = 0;
  let index = 0;
  const layerOf = (name: string) => name.slice(0, name.lastIndexOf("/"));
  const specs = artifacts.weightSpecs!.filter((w) => w.group !== "optimizer");
  while (index < specs.length) {
    const layer = layerOf(specs[index].name);
    const weights = [];
    let size = 0;
    while (index < specs.length && layerOf(specs[index].name) === layer) {
      size += 4 * specs[index].shape.reduce((n, d) => n * d, 1);
      weights.push(specs[index++]);
    }
    const g = groups.length + 1;
    const shards = Math.ceil(size / 48);
    const paths = Array.from({ length: shards }, (_, s) => `group${g}-shard${s + 1}of${shards}.bin`);
    for (let s = 0; s < shards; s++) await writeFile(join(dir, paths[s]), bytes.subarray(at + 48 * s, at + Math.min(size, 48 * (s + 1))));
    at += size;
    groups.push({ paths, weights });
  }
  const trainingConfig = artifacts.trainingConfig!;
  const converted = {
    format: "layers-model",
    generatedBy: "keras v2.15.0",
    convertedBy: "TensorFlow.js Converter v4.22.0",
    modelTopology: {
      keras_version: "2.15.0",
      backend: "tensorflow",
      model_config: artifacts.modelTopology,
      training_config: { loss: trainingConfig.loss, optimizer_config: { class_name: "SGD", config: { name: "SGD", learning_rate: 0.1, momentum: 0 } } },
    },
    weightsManifest: groups,
  };
  await writeFile(join(dir, "converted.json"), JSON.stringify(converted));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function tfjsPredict(m: tfl.LayersModel, xs: number[][]): number[][] {
  const y = m.predict(tf.tensor2d(xs)) as tf.Tensor;
  return y.arraySync() as number[][];
}

describe("TF.js Layers import", () => {
  test("model.save() layout: the module agrees with TF.js on 20 inputs", async () => {
    const { spec, lines } = await importModel(join(dir, "saved.json"), {});
    const text = lines.join("\n");
    expect(text).toMatch(/BatchNormalization \(inference statistics, epsilon 0\.001\), folded into layers\[0\]/);
    expect(text).toMatch(/layers\[2\] "[^"]+": tanh, folded into layers\[0\]/);
    expect(text).toMatch(/Dropout, skipped/);
    expect(text).toMatch(/layers\[5\] "[^"]+": softmax, folded into layers\[4\]/);
    expect(text).toMatch(/loss: cross_entropy \(the TF\.js trainingConfig records "categorical_crossentropy"\)/);
    expect(text).toMatch(/optimizer: sgd, learning rate 0\.1 \(the TF\.js trainingConfig records SGD at 0\.1\)/);
    expect(spec.layers).toEqual([
      { units: 8, activation: "tanh" },
      { units: 3, activation: "softmax" },
    ]);
    const actual = await moduleOutputs(spec, inputs);
    const expected = tfjsPredict(model, inputs);
    const worst = expectWithin(flat(actual), flat(expected), IMPORT_AGREEMENT.absolute, "module vs TF.js");
    console.log(`agreement, TF.js (model.save layout): worst ${worst.error.toExponential(2)} = ${(worst.error * 2 ** 24).toFixed(1)} LSB of q8.24`);
  });

  test("the converter's layout (model_config, groups of shards) gives the same spec, and TF.js loads it", async () => {
    const saved = await importModel(join(dir, "saved.json"), {});
    const converted = await importModel(join(dir, "converted.json"), {});
    expect(converted.lines[0]).toMatch(/converter layout\), 11 weight files/);
    expect(converted.spec.weights).toEqual(saved.spec.weights);
    expect(converted.lines.join("\n")).toMatch(/loss: cross_entropy \(the converter's training_config records "categorical_crossentropy"\)/);
    // The fixture is a layout TF.js itself reads: the same predictions from it.
    const specs = artifacts.weightSpecs!.filter((w) => w.group !== "optimizer");
    const bytes = weightBytes(artifacts).slice(0, specs.reduce((n, w) => n + 4 * w.shape.reduce((a, d) => a * d, 1), 0));
    const reloaded = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: { model_config: artifacts.modelTopology } as unknown as object, weightSpecs: specs, weightData: bytes.buffer }),
    );
    expect(tfjsPredict(reloaded, inputs)).toEqual(tfjsPredict(model, inputs));
  });
});
