// qfirm params: the bytes at params_ptr of a module that trained, dumped as a device
// would, become a spec whose weights are exactly the module's params; a dump of the
// wrong size is refused. And the whole way round, through the real CLI: a Keras
// model → import → build → fine-tune in the module → dump → params → export to TF.js,
// whose predictions equal the fine-tuned module's.

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildModel } from "../src/build/build.js";
import { flattenParams } from "../src/build/layout.js";
import { Firmware } from "../src/run/driver.js";
import { toQ } from "../src/spec/format.js";
import { mulberry32, parseSpec, parseSpecText } from "../src/spec/spec.js";
import { expectOneLineFailure, ROOT, runQfirm } from "./support/cli.js";
import { flat, seededInputs } from "./support/imported.js";
import { draws, writeKeras3 } from "./support/model_files.js";
import { loadIris } from "../src/train/datasets.js";
import { expectWithin, IMPORT_AGREEMENT } from "./tolerance.js";

let dir: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = await mkdtemp(join(tmpdir(), "qfirm-params-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The bytes a host reads at params_ptr: paramCount little-endian i32 words. */
function dumpParams(firmware: Firmware): Uint8Array {
  const m = firmware.manifest;
  return new Uint8Array(firmware.exports.memory.buffer, m.buffers.params, 4 * m.paramCount).slice();
}

async function trained(specText: string, steps: number): Promise<{ firmware: Firmware; manifestPath: string; dumpPath: string }> {
  const built = await buildModel(parseSpecText(specText), "mcu");
  const firmware = await Firmware.load(built.wasm, built.manifest);
  for (let k = 0; k < steps; k++) firmware.trainStep();
  const folder = await mkdtemp(join(dir, "device-"));
  const manifestPath = join(folder, "model.json");
  const dumpPath = join(folder, "params.bin");
  await writeFile(manifestPath, JSON.stringify(built.manifest));
  await writeFile(dumpPath, dumpParams(firmware));
  return { firmware, manifestPath, dumpPath };
}

describe("qfirm params", () => {
  test("a dump after 25 training steps becomes a spec holding exactly the module's params", async () => {
    const example = await readFile(join(ROOT, "examples", "documented-example.json"), "utf8");
    const { firmware, manifestPath, dumpPath } = await trained(example, 25);
    const out = join(dir, "from-device.json");
    const run = await runQfirm(["params", manifestPath, dumpPath, "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/read .*model\.json \(documented-example: 3-2-1, q8\.24\) and .*params\.bin \(11 params, 44 bytes\)/);
    const spec = parseSpecText(await readFile(out, "utf8"));
    const dump = new Int32Array((await readFile(dumpPath)).buffer.slice(0));
    expect(flattenParams(spec.weights).map((v) => toQ(v, 24))).toEqual(Array.from(dump));
    expect(spec.weights).toEqual(firmware.params());
    expect(spec.learningRate).toBe(0.5);
    expect(spec.lut).toEqual({ entries: 256, range: 8 });
    // Built again, the module starts from the dump, byte for byte.
    const rebuilt = await buildModel(spec, "mcu");
    const again = await Firmware.load(rebuilt.wasm, rebuilt.manifest);
    expect(dumpParams(again)).toEqual(new Uint8Array(await readFile(dumpPath)));
  });

  test("a lean module that fine-tuned only its last layer: the frozen layer comes back bit for bit, and the spec keeps lean, the frozen flag and the optimizer", async () => {
    const text = await readFile(join(ROOT, "examples", "iris-finetune.json"), "utf8");
    const original = parseSpecText(text);
    const built = await buildModel(original, "mcu");
    const device = await Firmware.load(built.wasm, built.manifest);
    expect(built.manifest.buffers.grads).toBeNull(); // lean: no grads buffer
    const iris = loadIris();
    for (let k = 0; k < 40; k++) {
      device.setInput(iris.inputs[k * 3]);
      device.setTarget(iris.targets[k * 3]);
      device.trainStep();
    }
    const folder = await mkdtemp(join(dir, "finetune-"));
    await writeFile(join(folder, "model.json"), JSON.stringify(built.manifest));
    await writeFile(join(folder, "params.bin"), dumpParams(device));
    const out = join(dir, "finetuned.json");
    const run = await runQfirm(["params", join(folder, "model.json"), join(folder, "params.bin"), "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/from the manifest: optimizer: sgd \(learning rate 0\.05\); training lean, layers trained: 1 \(others frozen\)/);
    const spec = parseSpecText(await readFile(out, "utf8"));
    expect(spec.training).toBe("lean");
    expect(spec.layers).toEqual(original.layers);
    expect(spec.optimizer).toEqual(original.optimizer);
    // The frozen layer is the spec's, bit for bit; the last layer is what the device learned.
    const q = (w: { weight: number[][]; bias: number[] }) => flattenParams([w]).map((v) => toQ(v, 24));
    expect(q(spec.weights[0])).toEqual(q(original.weights[0]));
    expect(q(spec.weights[1])).not.toEqual(q(original.weights[1]));
    expect(spec.weights).toEqual(device.params());
  });

  test.each([
    [
      "Adam with a step decay and a frozen layer",
      { name: "adam-frozen", inputs: 3, layers: [{ units: 4, activation: "relu", trainable: false }, { units: 2, activation: "sigmoid" }], loss: { type: "huber", delta: 0.5 }, optimizer: { type: "adam", learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5, decay: { type: "step", rate: 0.5, steps: 4 } }, gradFormat: "q6.26", init: { seed: 5 }, sample: { input: [0.5, -1, 0.25], target: [1, 0] } },
    ],
    ["momentum", { name: "momentum", inputs: 3, layers: [{ units: 2, activation: "tanh" }], optimizer: { type: "sgd", learningRate: 0.1, momentum: 0.5 }, init: { seed: 6 }, sample: { input: [0.5, -1, 0.25], target: [0.3, -0.2] } }],
    ["inference only", { name: "inference", inputs: 3, layers: [{ units: 4, activation: "tanh" }, { units: 2, activation: "linear" }], training: "none", init: { seed: 7 }, batch: { capacity: 2 } }],
  ])("%s: the manifest's training fields come back as the spec had them", async (_, raw) => {
    const original = parseSpec(raw);
    const { firmware, manifestPath, dumpPath } = await trained(JSON.stringify(raw), original.training === "none" ? 0 : 9);
    const out = join(dir, `${original.name}.json`);
    const run = await runQfirm(["params", manifestPath, dumpPath, "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    const spec = parseSpecText(await readFile(out, "utf8"));
    const { weights: _w, sample: _s, ...rest } = spec;
    const { weights: _ow, sample: _os, ...expected } = original;
    expect(rest).toEqual(expected);
    expect(spec.weights).toEqual(firmware.params());
  });

  test("a dump of the wrong size: exit 2 naming the bytes expected and found", async () => {
    const example = await readFile(join(ROOT, "examples", "documented-example.json"), "utf8");
    const { manifestPath, dumpPath } = await trained(example, 0);
    const short = join(dir, "short.bin");
    await writeFile(short, (await readFile(dumpPath)).subarray(0, 40));
    const line = expectOneLineFailure(await runQfirm(["params", manifestPath, short, "--out", join(dir, "never.json")]));
    expect(line).toMatch(/short\.bin: 40 bytes; the manifest's 11 params take 44 bytes/);
    const notManifest = expectOneLineFailure(await runQfirm(["params", join(ROOT, "examples", "documented-example.json"), dumpPath, "--out", join(dir, "never.json")]));
    expect(notManifest).toMatch(/abi is missing or malformed; is this a qfirm model\.json\?/);
  });

  test("Keras → import → build → fine-tune on the device → dump → params → export: TF.js predicts what the device computes", async () => {
    const next = mulberry32(77);
    const k1 = draws(next, 2 * 4, -1, 1);
    const b1 = draws(next, 4, -0.2, 0.2);
    const k2 = draws(next, 4, -1, 1);
    const b2 = draws(next, 1, -0.2, 0.2);
    const dense = (name: string, units: number, activation: string) => ({ module: "keras.layers", class_name: "Dense", config: { name, units, activation, use_bias: true }, registered_name: null });
    const keras = join(dir, "xor.keras");
    await writeKeras3(
      keras,
      {
        module: "keras",
        class_name: "Sequential",
        config: { name: "xor", layers: [{ module: "keras.layers", class_name: "InputLayer", config: { batch_shape: [null, 2], name: "input_layer" } }, dense("dense", 4, "tanh"), dense("dense_1", 1, "sigmoid")] },
        compile_config: { optimizer: { module: "keras.optimizers", class_name: "SGD", config: { name: "SGD", learning_rate: 1.0 } }, loss: "mean_squared_error" },
      },
      [
        { path: "layers/dense", vars: [{ name: "0", shape: [2, 4], values: k1 }, { name: "1", shape: [4], values: b1 }] },
        { path: "layers/dense_1", vars: [{ name: "0", shape: [4, 1], values: k2 }, { name: "1", shape: [1], values: b2 }] },
      ],
    );
    const specPath = join(dir, "xor.json");
    const imported = await runQfirm(["import", keras, "--out", specPath]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/optimizer: sgd, learning rate 1 × 2\/outputs \(mean of squares → ½ sum\) = 2/);

    // The device: XOR rows, per-sample SGD through the module's own train_step.
    const built = await buildModel(parseSpecText(await readFile(specPath, "utf8")), "mcu");
    const device = await Firmware.load(built.wasm, built.manifest);
    const rows = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]];
    for (let epoch = 0; epoch < 200; epoch++) {
      for (const [a, b, y] of rows) {
        device.setInput([a, b]);
        device.setTarget([y]);
        device.trainStep();
      }
    }
    const folder = await mkdtemp(join(dir, "xor-device-"));
    await writeFile(join(folder, "model.json"), JSON.stringify(built.manifest));
    await writeFile(join(folder, "params.bin"), dumpParams(device));
    const tuned = join(dir, "xor-tuned.json");
    expect((await runQfirm(["params", join(folder, "model.json"), join(folder, "params.bin"), "--out", tuned])).code).toBe(0);
    const exportDir = join(dir, "xor-tfjs");
    const exported = await runQfirm(["export", tuned, "--to", "tfjs", "--out", exportDir]);
    expect(exported.code, exported.stderr).toBe(0);

    const json = JSON.parse(await readFile(join(exportDir, "model.json"), "utf8"));
    const weights = await readFile(join(exportDir, "weights.bin"));
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }),
    );
    const inputs = [...rows.map(([a, b]) => [a, b]), ...seededInputs(1, 16, 2, 1)];
    const fromTfjs = (model.predict(tf.tensor2d(inputs)) as tf.Tensor).arraySync() as number[][];
    const fromDevice = inputs.map((x) => {
      device.setInput(x);
      device.forward();
      return device.output();
    });
    expectWithin(flat(fromTfjs), flat(fromDevice), IMPORT_AGREEMENT.absolute, "TF.js on the export vs the fine-tuned device");
    expect(fromDevice.slice(0, 4).map(([y]) => Math.round(y))).toEqual([0, 1, 1, 0]); // it learned on the device
    expect(parseSpec(JSON.parse(await readFile(tuned, "utf8"))).weights).toEqual(device.params());
  });
});
