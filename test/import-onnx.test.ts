// ONNX import: graphs as PyTorch writes them (Gemm with transB = 1, raw_data
// initializers, a BatchNormalization) and as converters from Keras write them
// (MatMul + Add, float_data, a Reshape to a flat vector, Softmax), encoded with
// protobufjs; the module's outputs on 20 inputs against ONNX Runtime running the
// very same file (an independent engine: it also checks the files are valid ONNX).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { importModel } from "../src/import/import.js";
import { mulberry32 } from "../src/spec/spec.js";
import { flat, moduleOutputs, seededInputs } from "./support/imported.js";
import { draws } from "./support/model_files.js";
import { encodeOnnx, FLOAT, INT64, rawFloat, runOrt, valueInfo } from "./support/onnx.js";
import { expectWithin, IMPORT_AGREEMENT } from "./tolerance.js";

let dir: string;
const next = mulberry32(99);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qfirm-onnx-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function agree(spec: Record<string, unknown>, bytes: Uint8Array, width: number, label: string): Promise<void> {
  const inputs = seededInputs(3, 20, width);
  const actual = await moduleOutputs(spec, inputs);
  const expected = await runOrt(bytes, inputs, width);
  const worst = expectWithin(flat(actual), flat(expected), IMPORT_AGREEMENT.absolute, `module vs ONNX Runtime (${label})`);
  console.log(`agreement, ONNX (${label}): worst ${worst.error.toExponential(2)} = ${(worst.error * 2 ** 24).toFixed(1)} LSB of q8.24`);
}

describe("ONNX import", () => {
  test("PyTorch's Gemm (transB = 1), BatchNormalization, Relu, Identity: agrees with ONNX Runtime on 20 inputs", async () => {
    // nn.Linear stores weight as [out, in]; torch.onnx writes Gemm(x, W, b, transB=1).
    const w1 = draws(next, 6 * 4, -1, 1);
    const b1 = draws(next, 6, -0.5, 0.5);
    const scale = draws(next, 6, 0.5, 1.5);
    const shift = draws(next, 6, -0.5, 0.5);
    const mean = draws(next, 6, -0.3, 0.3);
    const variance = draws(next, 6, 0.3, 2);
    const w2 = draws(next, 3 * 6, -1, 1);
    const b2 = draws(next, 3, -0.5, 0.5);
    const bytes = await encodeOnnx({
      ir_version: 8,
      opset_import: [{ domain: "", version: 17 }],
      producer_name: "pytorch",
      producer_version: "2.4.0",
      graph: {
        name: "main_graph",
        node: [
          { name: "/0/Gemm", op_type: "Gemm", input: ["input", "0.weight", "0.bias"], output: ["/0/Gemm_output_0"], attribute: [{ name: "alpha", type: 1, f: 1 }, { name: "beta", type: 1, f: 1 }, { name: "transB", type: 2, i: 1 }] },
          { name: "/1/BatchNormalization", op_type: "BatchNormalization", input: ["/0/Gemm_output_0", "1.weight", "1.bias", "1.running_mean", "1.running_var"], output: ["/1/bn"], attribute: [{ name: "epsilon", type: 1, f: 1e-5 }, { name: "momentum", type: 1, f: 0.9 }] },
          { name: "/2/Relu", op_type: "Relu", input: ["/1/bn"], output: ["/2/Relu_output_0"] },
          { name: "/Identity", op_type: "Identity", input: ["/2/Relu_output_0"], output: ["/id"] },
          { name: "/3/Gemm", op_type: "Gemm", input: ["/id", "3.weight", "3.bias"], output: ["output"], attribute: [{ name: "alpha", type: 1, f: 1 }, { name: "beta", type: 1, f: 1 }, { name: "transB", type: 2, i: 1 }] },
        ],
        initializer: [
          rawFloat("0.weight", [6, 4], w1),
          rawFloat("0.bias", [6], b1),
          rawFloat("1.weight", [6], scale),
          rawFloat("1.bias", [6], shift),
          rawFloat("1.running_mean", [6], mean),
          rawFloat("1.running_var", [6], variance),
          rawFloat("3.weight", [3, 6], w2),
          rawFloat("3.bias", [3], b2),
        ],
        input: [valueInfo("input", ["batch", 4])],
        output: [valueInfo("output", ["batch", 3])],
      },
    });
    const path = join(dir, "torch.onnx");
    await writeFile(path, bytes);
    const { spec, lines } = await importModel(path, {});
    const text = lines.join("\n");
    expect(text).toMatch(/node 0 "\/0\/Gemm" \(Gemm\): Dense 4→6, linear/);
    expect(text).toMatch(/node 1 "\/1\/BatchNormalization" \(BatchNormalization\): BatchNormalization \(inference statistics, epsilon 0\.0000099999997/);
    expect(text).toMatch(/node 2 "\/2\/Relu" \(Relu\): relu, folded into node 0/);
    expect(text).toMatch(/node 3 "\/Identity" \(Identity\): Identity, skipped/);
    expect(text).toMatch(/loss: l2 \(default: the last layer is not softmax; the file records no loss\)/);
    expect(spec.layers).toEqual([
      { units: 6, activation: "relu" },
      { units: 3, activation: "linear" },
    ]);
    await agree(spec, bytes, 4, "PyTorch Gemm transB=1");
  });

  test("MatMul + Add, float_data, Reshape of a flat vector, Tanh, Softmax: agrees with ONNX Runtime", async () => {
    const w1 = draws(next, 5 * 4, -1.5, 1.5);
    const b1 = draws(next, 4, -0.5, 0.5);
    const w2 = draws(next, 4 * 3, -2, 2);
    const b2 = draws(next, 3, -0.5, 0.5);
    const bytes = await encodeOnnx({
      ir_version: 7,
      opset_import: [{ domain: "", version: 13 }],
      producer_name: "tf2onnx",
      graph: {
        name: "keras_model",
        node: [
          { name: "shape", op_type: "Constant", output: ["shape"], attribute: [{ name: "value", type: 4, t: { name: "shape", dims: [2], data_type: INT64, int64_data: [-1, 5] } }] },
          { name: "flatten", op_type: "Reshape", input: ["x", "shape"], output: ["flat"] },
          { name: "dense/MatMul", op_type: "MatMul", input: ["flat", "dense/kernel"], output: ["mm1"] },
          { name: "dense/BiasAdd", op_type: "Add", input: ["mm1", "dense/bias"], output: ["z1"] },
          { name: "dense/Tanh", op_type: "Tanh", input: ["z1"], output: ["a1"] },
          { name: "dense_1/MatMul", op_type: "MatMul", input: ["a1", "dense_1/kernel"], output: ["mm2"] },
          { name: "dense_1/BiasAdd", op_type: "Add", input: ["dense_1/bias", "mm2"], output: ["z2"] },
          { name: "dense_1/Softmax", op_type: "Softmax", input: ["z2"], output: ["probs"], attribute: [{ name: "axis", type: 2, i: -1 }] },
        ],
        initializer: [
          { name: "dense/kernel", dims: [5, 4], data_type: FLOAT, float_data: w1 },
          { name: "dense/bias", dims: [4], data_type: FLOAT, float_data: b1 },
          { name: "dense_1/kernel", dims: [4, 3], data_type: FLOAT, float_data: w2 },
          { name: "dense_1/bias", dims: [3], data_type: FLOAT, float_data: b2 },
        ],
        input: [valueInfo("x", ["N", 5])],
        output: [valueInfo("probs", ["N", 3])],
      },
    });
    const path = join(dir, "keras.onnx");
    await writeFile(path, bytes);
    const { spec, lines } = await importModel(path, {});
    const text = lines.join("\n");
    expect(text).toMatch(/node 1 "flatten" \(Reshape\): Reshape, skipped/);
    expect(text).toMatch(/node 7 "dense_1\/Softmax" \(Softmax\): softmax, folded into node 5/);
    expect(text).toMatch(/loss: cross_entropy \(default: the last layer is softmax/);
    expect(spec.name).toBe("keras_model");
    await agree(spec, bytes, 5, "MatMul + Add");
  });
});
