// Export and back: spec → export (TF.js, ONNX) → import gives the spec's weights bit
// for bit in its format, even where a Q value is not a float32 (the exact values ride
// in the file's metadata); the exported files load in TF.js and ONNX Runtime and
// predict what the module computes; without the metadata, or with weights changed
// after the export, import takes the file's float32 weights.

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { flattenParams } from "../src/build/layout.js";
import { exportOnnx } from "../src/export/onnx.js";
import { exportTfjs } from "../src/export/tfjs.js";
import { importModel } from "../src/import/import.js";
import { onnxModelType } from "../src/import/onnx_proto.js";
import { toQ } from "../src/spec/format.js";
import type { Model } from "../src/spec/model.js";
import { mulberry32, parseSpec } from "../src/spec/spec.js";
import { flat, moduleOutputs, seededInputs } from "./support/imported.js";
import { runOrt } from "./support/onnx.js";
import { expectWithin, IMPORT_AGREEMENT } from "./tolerance.js";

let dir: string;

/** A 3-5-2 spec whose weights reach ±100 with all 24 fraction bits in use: most are not float32 values. */
function roughSpec(format = "q8.24", scale = 100): Record<string, unknown> {
  const next = mulberry32(8);
  const fracBits = Number(format.split(".")[1]);
  const value = () => Math.round((2 * next() - 1) * scale * 2 ** fracBits) / 2 ** fracBits;
  const layer = (fanIn: number, units: number) => ({
    weight: Array.from({ length: fanIn }, () => Array.from({ length: units }, value)),
    bias: Array.from({ length: units }, value),
  });
  return {
    name: "rough",
    format,
    inputs: 3,
    layers: [
      { units: 5, activation: "tanh" },
      { units: 2, activation: "linear" },
    ],
    loss: { type: "l1" },
    optimizer: { type: "sgd", learningRate: 0.0625 },
    weights: [layer(3, 5), layer(5, 2)],
  };
}

function qParams(model: Model): number[] {
  return flattenParams(model.weights).map((v) => toQ(v, model.format.fracBits));
}

async function writeFiles(folder: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [name, contents] of Object.entries(files)) await writeFile(join(folder, name), contents);
}

async function exported(to: "tfjs" | "onnx", model: Model, name: string): Promise<string> {
  const folder = await mkdtemp(join(dir, `${name}-`));
  const out = to === "tfjs" ? exportTfjs(model) : await exportOnnx(model);
  await writeFiles(folder, out.files);
  return join(folder, to === "tfjs" ? "model.json" : "model.onnx");
}

/** TF.js loads what export wrote, as tf.loadLayersModel does from files. */
async function loadTfjs(path: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(await readFile(path, "utf8"));
  const weights = await readFile(join(path, "..", "weights.bin"));
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      trainingConfig: json.trainingConfig,
    }),
  );
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = await mkdtemp(join(tmpdir(), "qfirm-export-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("export and import again", () => {
  for (const to of ["tfjs", "onnx"] as const) {
    test(`${to}: the same Q values bit for bit, though most are not float32 values`, async () => {
      const spec = roughSpec();
      const model = parseSpec(spec);
      const original = qParams(model);
      const notFloat32 = flattenParams(model.weights).filter((v) => Math.fround(v) !== v).length;
      expect(notFloat32).toBeGreaterThan(original.length / 2); // the case the metadata exists for
      const path = await exported(to, model, `exact-${to}`);
      const { spec: back, lines } = await importModel(path, {});
      expect(lines.join("\n")).toMatch(/the exact q8\.24 values qfirm export recorded/);
      const again = parseSpec(back);
      expect(qParams(again)).toEqual(original);
      expect(again.loss).toEqual(model.loss);
      expect(again.learningRate).toBe(model.learningRate);
      expect(again.name).toBe("rough");
    });
  }

  // The whole spec but its sample, bit for bit: frozen layers, the optimizer with its
  // constants and decay, the training mode (the qfirm record, version 2).
  const trainingSpecs: [string, Record<string, unknown>][] = [
    [
      "a frozen layer, Adam with a step decay",
      {
        ...roughSpec(),
        layers: [{ units: 5, activation: "tanh", trainable: false }, { units: 2, activation: "linear" }],
        optimizer: { type: "adam", learningRate: 0.01, beta1: 0.85, beta2: 0.995, epsilon: 1e-6, decay: { type: "step", rate: 0.5, steps: 100 } },
        gradFormat: "q6.26",
      },
    ],
    [
      "lean, a frozen layer, SGD with an exponential decay",
      {
        ...roughSpec(),
        layers: [{ units: 5, activation: "tanh", trainable: false }, { units: 2, activation: "linear" }],
        optimizer: { type: "sgd", learningRate: 0.03, decay: { type: "exponential", rate: 0.9, steps: 7 } },
        training: "lean",
        batch: { capacity: 3 },
      },
    ],
    ["momentum", { ...roughSpec(), optimizer: { type: "sgd", learningRate: 0.02, momentum: 0.75 } }],
    ["inference only", { ...roughSpec(), loss: undefined, optimizer: undefined, training: "none" }],
  ];
  for (const to of ["tfjs", "onnx"] as const) {
    test.each(trainingSpecs)(`${to}: %s: the spec comes back whole`, async (_, spec) => {
      const model = parseSpec(JSON.parse(JSON.stringify(spec)));
      const path = await exported(to, model, `whole-${to}`);
      const { spec: back, lines } = await importModel(path, {});
      expect(lines.join("\n")).toMatch(/training: as qfirm export recorded it/);
      expect(parseSpec(back)).toEqual(model);
    });
  }

  test("a version 1 record (before optimizers) still reads: plain SGD at its learning rate", async () => {
    const model = parseSpec(roughSpec());
    const path = await exported("tfjs", model, "v1");
    const json = JSON.parse(await readFile(path, "utf8"));
    const record = json.userDefinedMetadata.qfirm;
    // What version 1 wrote: no training, no trainable flags, the optimizer as sgd and its rate.
    json.userDefinedMetadata.qfirm = { version: 1, format: record.format, params: record.params, spec: { name: "old", gradFormat: "q4.28", loss: { type: "hinge" }, optimizer: { type: "sgd", learningRate: 0.125 }, lut: record.spec.lut } };
    await writeFile(path, JSON.stringify(json));
    const again = parseSpec((await importModel(path, {})).spec);
    expect(qParams(again)).toEqual(qParams(model));
    expect([again.name, again.loss, again.optimizer, again.training]).toEqual(["old", { type: "hinge" }, { type: "sgd", learningRate: 0.125, momentum: 0 }, "full"]);
    json.userDefinedMetadata.qfirm.version = 3;
    await writeFile(path, JSON.stringify(json));
    await expect(importModel(path, {})).rejects.toThrow(/the qfirm record has version 3; this qfirm reads versions 1 and 2/);
  });

  test("TF.js compiles the exported training config: Adam or Momentum as the spec has it, frozen layers not trainable", async () => {
    // l2 over 2 outputs is TF.js's mse × 2/2: the same rate, epsilon ÷ 1; l1 is mae × 1/2: rate × 2, epsilon ÷ 2.
    const adam = parseSpec({ ...trainingSpecs[0][1], loss: { type: "l1" } });
    const loaded = await loadTfjs(await exported("tfjs", adam, "compiled-adam"));
    expect(loaded.layers.map((l) => l.trainable)).toEqual([false, true]);
    expect(loaded.optimizer.getClassName()).toBe("Adam");
    expect(loaded.optimizer.getConfig()).toEqual({ learningRate: 0.01, beta1: 0.85, beta2: 0.995, epsilon: 1e-6 / 2 });
    const momentum = parseSpec({ ...trainingSpecs[2][1], loss: { type: "l2" } });
    const loadedMomentum = await loadTfjs(await exported("tfjs", momentum, "compiled-momentum"));
    expect(loadedMomentum.optimizer.getClassName()).toBe("Momentum");
    expect(loadedMomentum.optimizer.getConfig()).toEqual({ learningRate: 0.02, momentum: 0.75, useNesterov: false });
  });

  test("a q16.16 spec comes back in q16.16, bit for bit", async () => {
    const model = parseSpec(roughSpec("q16.16", 1000));
    const path = await exported("onnx", model, "q16");
    const again = parseSpec((await importModel(path, {})).spec);
    expect(again.format.fracBits).toBe(16);
    expect(qParams(again)).toEqual(qParams(model));
  });

  test("without the metadata: float32 weights, exact for q8.24 values below 1 in magnitude", async () => {
    // |v| < 1 in q8.24 is k / 2^24 with |k| < 2^24: 24 significant bits at most, a float32.
    const small = parseSpec(roughSpec("q8.24", 0.999));
    const path = await exported("tfjs", small, "small");
    const json = JSON.parse(await readFile(path, "utf8"));
    delete json.userDefinedMetadata;
    await writeFile(path, JSON.stringify(json));
    const { spec, lines } = await importModel(path, {});
    expect(lines.join("\n")).toMatch(/weights: rounded to q8\.24/);
    expect(qParams(parseSpec(spec))).toEqual(qParams(small));

    // Large values lose what float32 cannot hold: within one float32 rounding.
    const rough = parseSpec(roughSpec());
    const bytes = await readFile(await exported("onnx", rough, "bare"));
    const type = await onnxModelType();
    const message = type.toObject(type.decode(bytes)) as { metadata_props?: unknown[] };
    delete message.metadata_props;
    const barePath = join(dir, "bare.onnx");
    await writeFile(barePath, type.encode(type.fromObject(message)).finish());
    const back = flattenParams(parseSpec((await importModel(barePath, {})).spec).weights);
    flattenParams(rough.weights).forEach((v, k) => {
      const f = Math.fround(v);
      expect(back[k]).toBe(Math.sign(f) * Math.round(Math.abs(f) * 2 ** 24) / 2 ** 24 || 0);
    });
  });

  test("weights changed after the export win over the recorded exact values", async () => {
    const model = parseSpec(roughSpec());
    const path = await exported("tfjs", model, "changed");
    const binPath = join(path, "..", "weights.bin");
    const bin = await readFile(binPath);
    const floats = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
    floats[0] = 0.5; // as if trained further in TF.js and saved again with the old metadata
    await writeFile(binPath, bin);
    const { spec, lines } = await importModel(path, {});
    expect(lines.join("\n")).toMatch(/the weights have changed since: the weights are used/);
    expect((spec.weights as { weight: number[][] }[])[0].weight[0][0]).toBe(0.5);
  });

  test("TF.js loads the export and predicts what the module computes; ONNX Runtime runs it alike", async () => {
    const spec = { ...roughSpec("q8.24", 2), layers: [{ units: 5, activation: "sigmoid" }, { units: 2, activation: "softmax" }], loss: { type: "cross_entropy" } };
    const model = parseSpec(spec);
    const inputs = seededInputs(21, 20, 3);
    const moduleOut = await moduleOutputs(spec, inputs);

    const tfjsPath = await exported("tfjs", model, "predict");
    const loaded = await loadTfjs(tfjsPath);
    const tfjsOut = (loaded.predict(tf.tensor2d(inputs)) as tf.Tensor).arraySync() as number[][];
    const a = expectWithin(flat(moduleOut), flat(tfjsOut), IMPORT_AGREEMENT.absolute, "module vs TF.js on the export");
    // TF.js compiled the training config: categorical cross-entropy, SGD.
    expect(loaded.loss).toBe("categoricalCrossentropy");

    const onnxPath = await exported("onnx", model, "predict");
    const ortOut = await runOrt(await readFile(onnxPath), inputs, 3);
    const b = expectWithin(flat(moduleOut), flat(ortOut), IMPORT_AGREEMENT.absolute, "module vs ONNX Runtime on the export");
    console.log(`export agreement: TF.js ${(a.error * 2 ** 24).toFixed(1)} LSB, ONNX Runtime ${(b.error * 2 ** 24).toFixed(1)} LSB of q8.24`);
  });
});
