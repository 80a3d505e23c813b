// What import refuses, through the real CLI: unsupported layers, ops and operators,
// shapes, weights outside the format, truncated and corrupt files, and outputs it must
// not write. Each is exit 2 with one line naming what is wrong and where, no stack
// trace, and no file written.

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { importModel } from "../src/import/import.js";
import { ImportError } from "../src/import/steps.js";
import { expectOneLineFailure, runQfirm } from "./support/cli.js";
import { float32Bytes, TFLITE, tfliteModel, writeKeras2H5, writeKeras3 } from "./support/model_files.js";
import { encodeOnnx, FLOAT, rawFloat, valueInfo } from "./support/onnx.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qfirm-import-errors-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A TF.js model.json (model.save() layout) of Dense layers, with weights.bin beside it. */
async function tfjsModel(name: string, layers: { class_name: string; config: Record<string, unknown> }[], weights: { name: string; shape: number[]; values: number[] }[]): Promise<string> {
  const folder = await mkdtemp(join(dir, `${name}-`));
  const json = {
    modelTopology: { class_name: "Sequential", config: { name, layers }, keras_version: "tfjs-layers 4.22.0", backend: "tensor_flow.js" },
    format: "layers-model",
    generatedBy: "TensorFlow.js tfjs-layers v4.22.0",
    convertedBy: null,
    weightsManifest: [{ paths: ["./weights.bin"], weights: weights.map(({ name, shape }) => ({ name, shape, dtype: "float32" })) }],
  };
  await writeFile(join(folder, "model.json"), JSON.stringify(json));
  await writeFile(join(folder, "weights.bin"), float32Bytes(weights.flatMap((w) => w.values)));
  return join(folder, "model.json");
}

const dense = (name: string, units: number, activation = "linear", extra: Record<string, unknown> = {}) => ({ class_name: "Dense", config: { name, units, activation, use_bias: true, ...extra } });

/** Runs import and checks the one-line failure and that --out was not written. */
async function refused(model: string, ...extra: string[]): Promise<string> {
  const out = join(dir, `never-${Math.random().toString(36).slice(2)}.json`);
  const line = expectOneLineFailure(await runQfirm(["import", model, "--out", out, ...extra]));
  expect(existsSync(out)).toBe(false);
  return line;
}

describe.concurrent("import refuses, in one line", () => {
  test("a layer that is not dense: names the layer and its type", async () => {
    const path = await tfjsModel("conv", [dense("dense_1", 4, "relu", { batch_input_shape: [null, 3] }), { class_name: "Conv2D", config: { name: "conv2d_1", filters: 2 } }], [
      { name: "dense_1/kernel", shape: [3, 4], values: Array(12).fill(0.1) },
      { name: "dense_1/bias", shape: [4], values: Array(4).fill(0) },
    ]);
    expect(await refused(path)).toBe(`qfirm: layers[1] "conv2d_1": Conv2D is not supported; qfirm imports chains of dense layers`);
  });

  test("an activation qfirm does not have, BatchNormalization after relu, a layer after softmax", async () => {
    const w = (n: string, i: number, o: number) => [
      { name: `${n}/kernel`, shape: [i, o], values: Array(i * o).fill(0.1) },
      { name: `${n}/bias`, shape: [o], values: Array(o).fill(0) },
    ];
    const elu = await tfjsModel("elu", [dense("d", 2, "elu", { batch_input_shape: [null, 2] })], w("d", 2, 2));
    expect(await refused(elu)).toMatch(/layers\[0\] "d": activation "elu" is not supported; qfirm has sigmoid, tanh, relu, linear, softmax$/);
    const afterSoftmax = await tfjsModel("soft", [dense("a", 2, "softmax", { batch_input_shape: [null, 2] }), dense("b", 2)], [...w("a", 2, 2), ...w("b", 2, 2)]);
    expect(await refused(afterSoftmax)).toMatch(/layers\[1\] "b": a layer after softmax; qfirm takes softmax on the last layer only$/);
    const bnPath = join(dir, "bn-after-relu.h5");
    await writeKeras2H5(
      bnPath,
      { class_name: "Sequential", config: { name: "s", layers: [dense("dense", 2, "relu", { batch_input_shape: [null, 2] }), { class_name: "BatchNormalization", config: { name: "bn", axis: -1, epsilon: 0.001 } }] } },
      undefined,
      [
        { name: "dense", weights: [{ name: "dense/kernel:0", shape: [2, 2], values: [1, 2, 3, 4] }, { name: "dense/bias:0", shape: [2], values: [0, 0] }] },
        { name: "bn", weights: ["gamma", "beta", "moving_mean", "moving_variance"].map((r) => ({ name: `bn/${r}:0`, shape: [2], values: [1, 1] })) },
      ],
    );
    expect(await refused(bnPath)).toMatch(/layers\[1\] "bn": BatchNormalization after relu cannot be folded into layers\[0\] "dense"; only after a linear dense layer$/);
  });

  test("a weight outside the format: names the tensor, its largest value and a format that holds it", async () => {
    const path = await tfjsModel("big", [dense("dense_1", 2, "linear", { batch_input_shape: [null, 2] })], [
      { name: "dense_1/kernel", shape: [2, 2], values: [0.5, -300.25, 2, 1] },
      { name: "dense_1/bias", shape: [2], values: [0, 0] },
    ]);
    expect(await refused(path)).toBe(
      "qfirm: dense_1/kernel: largest value -300.25 is outside the range of q8.24 [-128, 128); --format q10.22 holds every weight (range [-512, 512))",
    );
    // and with that format it imports
    const out = join(dir, "big.json");
    const run = await runQfirm(["import", path, "--format", "q10.22", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(await readFile(out, "utf8")).weights[0].weight[0][1]).toBe(-300.25);
  });

  test("ONNX: an unsupported op, a rank-4 input, a non-flat Reshape", async () => {
    const graph = (node: object[], input: object, initializer: object[] = []) =>
      encodeOnnx({ ir_version: 8, opset_import: [{ domain: "", version: 13 }], graph: { name: "g", node, initializer, input: [input], output: [valueInfo("y", ["N", 2])] } });
    const conv = join(dir, "conv.onnx");
    await writeFile(conv, await graph([{ name: "conv1", op_type: "Conv", input: ["x", "w"], output: ["y"] }], valueInfo("x", ["N", 2]), [rawFloat("w", [2, 2, 1, 1], [1, 2, 3, 4])]));
    expect(await refused(conv)).toBe(`qfirm: node 0 "conv1" (Conv): Conv is not supported; qfirm imports chains of dense layers`);
    const image = join(dir, "image.onnx");
    await writeFile(image, await graph([{ name: "fc", op_type: "Gemm", input: ["x", "w"], output: ["y"] }], valueInfo("x", ["N", 1, 2, 2]), [rawFloat("w", [4, 2], Array(8).fill(1))]));
    expect(await refused(image)).toMatch(/the input "x" has rank 4; qfirm takes a flat vector \(batch, features\)$/);
    const reshape = join(dir, "reshape.onnx");
    await writeFile(
      reshape,
      await graph(
        [
          { name: "fc", op_type: "Gemm", input: ["x", "w"], output: ["h"] },
          { name: "r", op_type: "Reshape", input: ["h", "s"], output: ["y"] },
        ],
        valueInfo("x", ["N", 2]),
        [rawFloat("w", [2, 4], Array(8).fill(1)), { name: "s", dims: [3], data_type: 7, int64_data: [-1, 2, 2] }],
      ),
    );
    expect(await refused(reshape)).toMatch(/node 1 "r" \(Reshape\): a Reshape to \[-1, 2, 2\] is not of a flat vector/);
  });

  test("TFLite: an operator that is not dense, a fused RELU6", async () => {
    const F = TFLITE.type.FLOAT32;
    const conv = join(dir, "conv.tflite");
    await writeFile(
      conv,
      tfliteModel(
        [{ name: "in", shape: [1, 4, 4, 1], type: F }, { name: "w", shape: [1, 2, 2, 1], type: F, data: float32Bytes([1, 2, 3, 4]) }, { name: "out", shape: [1, 3, 3, 1], type: F }],
        [{ op: TFLITE.op.CONV_2D, inputs: [0, 1, -1], outputs: [2] }],
        [0],
        [2],
      ),
    );
    expect(await refused(conv)).toBe("qfirm: operators[0] CONV_2D: CONV_2D is not supported; qfirm imports chains of dense layers");
    const relu6 = join(dir, "relu6.tflite");
    await writeFile(
      relu6,
      tfliteModel(
        [{ name: "in", shape: [1, 2], type: F }, { name: "w", shape: [2, 2], type: F, data: float32Bytes([1, 2, 3, 4]) }, { name: "out", shape: [1, 2], type: F }],
        [{ op: TFLITE.op.FULLY_CONNECTED, inputs: [0, 1, -1], outputs: [2], fused: TFLITE.fused.RELU6 }],
        [0],
        [2],
      ),
    );
    expect(await refused(relu6)).toMatch(/operators\[0\] FULLY_CONNECTED: fused activation RELU6 is not supported; qfirm fuses NONE, RELU and TANH$/);
  });

  test("truncated and corrupt files of every format", async () => {
    const good = {
      tfjs: await tfjsModel("trunc", [dense("d", 2, "linear", { batch_input_shape: [null, 2] })], [
        { name: "d/kernel", shape: [2, 2], values: [1, 2, 3, 4] },
        { name: "d/bias", shape: [2], values: [0, 0] },
      ]),
      h5: join(dir, "trunc.h5"),
      keras: join(dir, "trunc.keras"),
      onnx: join(dir, "trunc.onnx"),
      tflite: join(dir, "trunc.tflite"),
    };
    const config = { class_name: "Sequential", config: { name: "s", layers: [dense("dense", 2, "linear", { batch_input_shape: [null, 2] })] } };
    const weights = [{ name: "dense", weights: [{ name: "dense/kernel:0", shape: [2, 2], values: [1, 2, 3, 4] }, { name: "dense/bias:0", shape: [2], values: [0, 0] }] }];
    await writeKeras2H5(good.h5, config, undefined, weights);
    await writeKeras3(good.keras, config, [{ path: "layers/dense", vars: [{ name: "0", shape: [2, 2], values: [1, 2, 3, 4] }, { name: "1", shape: [2], values: [0, 0] }] }]);
    await writeFile(
      good.onnx,
      await encodeOnnx({
        ir_version: 8,
        opset_import: [{ domain: "", version: 13 }],
        graph: { name: "g", node: [{ name: "fc", op_type: "Gemm", input: ["x", "w"], output: ["y"] }], initializer: [rawFloat("w", [2, 2], [1, 2, 3, 4])], input: [valueInfo("x", ["N", 2])], output: [valueInfo("y", ["N", 2])] },
      }),
    );
    const F = TFLITE.type.FLOAT32;
    await writeFile(
      good.tflite,
      tfliteModel(
        [{ name: "in", shape: [1, 2], type: F }, { name: "w", shape: [2, 2], type: F, data: float32Bytes([1, 2, 3, 4]) }, { name: "out", shape: [1, 2], type: F }],
        [{ op: TFLITE.op.FULLY_CONNECTED, inputs: [0, 1, -1], outputs: [2] }],
        [0],
        [2],
      ),
    );
    // Each good file imports...
    for (const path of Object.values(good)) await expect(importModel(path, {})).resolves.toBeDefined();
    // ...and cut short, or with its middle overwritten, it is refused with an ImportError
    // (the CLI's one-line exit 2; shown through the binary for the first case of each).
    const weightsBin = join(good.tfjs, "..", "weights.bin");
    await writeFile(weightsBin, (await readFile(weightsBin)).subarray(0, 10));
    expect(await refused(good.tfjs)).toMatch(/weightsManifest\[0\] lists 24 bytes of weights but \.\/weights\.bin holds 10 bytes \(truncated\?\)$/);
    for (const path of [good.h5, good.keras, good.onnx, good.tflite]) {
      const bytes = await readFile(path);
      const variants: string[] = [];
      for (const cut of [0.5, 0.9]) {
        const truncated = path.replace(/(\.\w+)$/, `-cut${cut}$1`);
        await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * cut)));
        variants.push(truncated);
      }
      const garbled = path.replace(/(\.\w+)$/, "-garbled$1");
      const copy = Uint8Array.from(bytes);
      for (let k = 16; k < copy.length; k += 7) copy[k] ^= 0x5a;
      await writeFile(garbled, copy);
      variants.push(garbled);
      expect(await refused(variants[0])).toMatch(/damaged|truncated|not a|not valid|no model_weights|without|refers to|beyond/);
      for (const variant of variants.slice(1)) {
        const error = await importModel(variant, {}).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, variant).toBeInstanceOf(ImportError);
        expect((error as Error).message, variant).not.toContain("\n");
      }
    }
    await writeFile(join(dir, "empty.onnx"), new Uint8Array(0));
    expect(await refused(join(dir, "empty.onnx"))).toMatch(/an empty file$/);
    await writeFile(join(dir, "notes.txt"), "hello");
    expect(await refused(join(dir, "notes.txt"))).toMatch(/not a model file qfirm reads/);
  });

  test("never over the input, never over an existing file without --force", async () => {
    const path = await tfjsModel("force", [dense("d", 2, "linear", { batch_input_shape: [null, 2] })], [
      { name: "d/kernel", shape: [2, 2], values: [1, 2, 3, 4] },
      { name: "d/bias", shape: [2], values: [0, 0] },
    ]);
    const before = await readFile(path, "utf8");
    expect(expectOneLineFailure(await runQfirm(["import", path, "--out", path, "--force"]))).toMatch(/--out .*model\.json: is an input of this command; write elsewhere$/);
    expect(await readFile(path, "utf8")).toBe(before);
    const out = join(dir, "existing.json");
    await writeFile(out, "keep me");
    expect(expectOneLineFailure(await runQfirm(["import", path, "--out", out]))).toMatch(/--out .*existing\.json: exists; give --force to replace it$/);
    expect(await readFile(out, "utf8")).toBe("keep me");
    expect((await runQfirm(["import", path, "--out", out, "--force"])).code).toBe(0);
    expect(JSON.parse(await readFile(out, "utf8")).inputs).toBe(2);
    // export: an earlier export is replaced only with --force
    const folder = join(dir, "export-force");
    expect((await runQfirm(["export", out, "--to", "onnx", "--out", folder])).code).toBe(0);
    expect(expectOneLineFailure(await runQfirm(["export", out, "--to", "onnx", "--out", folder]))).toMatch(/--out .*export-force: folder holds an earlier build \(model\.onnx\); give --force to replace it$/);
    expect((await runQfirm(["export", out, "--to", "onnx", "--out", folder, "--force"])).code).toBe(0);
  });
});
