// TFLite import: FlatBuffers written with the flatbuffers Builder from schema.fbs's
// field ids (test/support/model_files.ts), a float model (RESHAPE, FULLY_CONNECTED
// with fused RELU, LOGISTIC) and an int8 one (QUANTIZE, per-channel int8 weights,
// int32 biases, SOFTMAX, DEQUANTIZE) that qfirm dequantizes; the module's outputs on
// 20 inputs against a float64 forward pass of the weights as stored (dequantized
// here by TFLite's rule f = scale · (q − zero_point)).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { importModel } from "../src/import/import.js";
import { halfToNumber } from "../src/import/steps.js";
import { mulberry32 } from "../src/spec/spec.js";
import { flat, moduleOutputs, seededInputs } from "./support/imported.js";
import { draws, float32Bytes, forward64, int32Bytes, int8Bytes, matrix, TFLITE, tfliteModel, type RefStep } from "./support/model_files.js";
import { expectWithin, IMPORT_AGREEMENT } from "./tolerance.js";

let dir: string;
const next = mulberry32(4242);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qfirm-tflite-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** [out, in] as TFLite stores FULLY_CONNECTED weights → [in][out]. */
function kernelOf(values: number[], out: number, inputs: number): number[][] {
  const rows = matrix(values, out, inputs);
  return Array.from({ length: inputs }, (_, i) => rows.map((row) => row[i]));
}

async function agree(spec: Record<string, unknown>, reference: RefStep[], width: number, label: string): Promise<void> {
  const inputs = seededInputs(5, 20, width);
  const actual = await moduleOutputs(spec, inputs);
  const expected = inputs.map((x) => forward64(reference, x));
  const worst = expectWithin(flat(actual), flat(expected), IMPORT_AGREEMENT.absolute, `module vs float64 (${label})`);
  console.log(`agreement, TFLite (${label}): worst ${worst.error.toExponential(2)} = ${(worst.error * 2 ** 24).toFixed(1)} LSB of q8.24`);
}

describe("TFLite import", () => {
  test("float: RESHAPE, FULLY_CONNECTED (fused RELU), LOGISTIC: agrees with float64 on 20 inputs", async () => {
    const w1 = draws(next, 6 * 4, -1, 1);
    const b1 = draws(next, 6, -0.5, 0.5);
    const w2 = draws(next, 3 * 6, -1.5, 1.5);
    const b2 = draws(next, 3, -0.5, 0.5);
    const F = TFLITE.type.FLOAT32;
    const bytes = tfliteModel(
      [
        { name: "serving_default_input:0", shape: [1, 4], type: F },
        { name: "dense/MatMul", shape: [6, 4], type: F, data: float32Bytes(w1) },
        { name: "dense/BiasAdd/ReadVariableOp", shape: [6], type: F, data: float32Bytes(b1) },
        { name: "dense/Relu", shape: [1, 6], type: F },
        { name: "dense_1/MatMul", shape: [3, 6], type: F, data: float32Bytes(w2) },
        { name: "dense_1/BiasAdd/ReadVariableOp", shape: [3], type: F, data: float32Bytes(b2) },
        { name: "dense_1/BiasAdd", shape: [1, 3], type: F },
        { name: "StatefulPartitionedCall:0", shape: [1, 3], type: F },
        { name: "flatten/Reshape", shape: [1, 4], type: F },
        { name: "flatten/Const", shape: [2], type: TFLITE.type.INT32, data: int32Bytes([-1, 4]) },
      ],
      [
        { op: TFLITE.op.RESHAPE, inputs: [0, 9], outputs: [8] },
        { op: TFLITE.op.FULLY_CONNECTED, inputs: [8, 1, 2], outputs: [3], fused: TFLITE.fused.RELU },
        { op: TFLITE.op.FULLY_CONNECTED, inputs: [3, 4, 5], outputs: [6], fused: TFLITE.fused.NONE },
        { op: TFLITE.op.LOGISTIC, inputs: [6], outputs: [7] },
      ],
      [0],
      [7],
    );
    const path = join(dir, "float.tflite");
    await writeFile(path, bytes);
    const { spec, lines } = await importModel(path, {});
    const text = lines.join("\n");
    expect(lines[0]).toMatch(/TFLite \(schema version 3\), 4 operators/);
    expect(text).toMatch(/operators\[0\] RESHAPE: RESHAPE, skipped/);
    expect(text).toMatch(/operators\[1\] FULLY_CONNECTED: Dense 4→6, relu/);
    expect(text).toMatch(/operators\[3\] LOGISTIC: sigmoid, folded into operators\[2\] FULLY_CONNECTED/);
    await agree(
      spec,
      [
        { kind: "dense", kernel: kernelOf(w1, 6, 4), bias: b1, activation: "relu" },
        { kind: "dense", kernel: kernelOf(w2, 3, 6), bias: b2, activation: "linear" },
        { kind: "act", activation: "sigmoid" },
      ],
      4,
      "float",
    );
  });

  test("int8: per-channel weights and int32 biases are dequantized; agrees with float64 of the dequantized weights", async () => {
    const int8s = (count: number) => Array.from({ length: count }, () => Math.round(254 * next()) - 127);
    const inScale = 0.016;
    const q1 = int8s(5 * 3);
    const s1 = draws(next, 5, 0.005, 0.02); // per output channel
    const qb1 = Array.from({ length: 5 }, () => Math.round(4000 * next()) - 2000);
    const hScale = 0.03;
    const hZero = -128;
    const q2 = int8s(4 * 5);
    const s2 = [0.011];
    const qb2 = Array.from({ length: 4 }, () => Math.round(2000 * next()) - 1000);
    const I8 = TFLITE.type.INT8;
    const bytes = tfliteModel(
      [
        { name: "input", shape: [1, 3], type: TFLITE.type.FLOAT32 },
        { name: "input_int8", shape: [1, 3], type: I8, scale: [inScale], zeroPoint: [0] },
        { name: "dense/kernel", shape: [5, 3], type: I8, data: int8Bytes(q1), scale: s1, zeroPoint: s1.map(() => 0), quantizedDimension: 0 },
        { name: "dense/bias", shape: [5], type: TFLITE.type.INT32, data: int32Bytes(qb1), scale: s1.map((s) => s * inScale), zeroPoint: s1.map(() => 0) },
        { name: "dense/Relu", shape: [1, 5], type: I8, scale: [hScale], zeroPoint: [hZero] },
        { name: "dense_1/kernel", shape: [4, 5], type: I8, data: int8Bytes(q2), scale: s2, zeroPoint: [0] },
        { name: "dense_1/bias", shape: [4], type: TFLITE.type.INT32, data: int32Bytes(qb2), scale: [s2[0] * hScale], zeroPoint: [0] },
        { name: "dense_1/BiasAdd", shape: [1, 4], type: I8, scale: [0.05], zeroPoint: [3] },
        { name: "softmax", shape: [1, 4], type: I8, scale: [1 / 256], zeroPoint: [-128] },
        { name: "output", shape: [1, 4], type: TFLITE.type.FLOAT32 },
      ],
      [
        { op: TFLITE.op.QUANTIZE, inputs: [0], outputs: [1] },
        { op: TFLITE.op.FULLY_CONNECTED, inputs: [1, 2, 3], outputs: [4], fused: TFLITE.fused.RELU },
        { op: TFLITE.op.FULLY_CONNECTED, inputs: [4, 5, 6], outputs: [7], fused: TFLITE.fused.NONE },
        { op: TFLITE.op.SOFTMAX, inputs: [7], outputs: [8], beta: 1 },
        { op: TFLITE.op.DEQUANTIZE, inputs: [8], outputs: [9] },
      ],
      [0],
      [9],
    );
    const path = join(dir, "int8.tflite");
    await writeFile(path, bytes);
    const { spec, lines } = await importModel(path, {});
    const text = lines.join("\n");
    expect(text).toMatch(/quantized weights dequantized, scale · \(q − zero point\) per channel/);
    expect(text).toMatch(/operators\[0\] QUANTIZE: QUANTIZE, skipped \(the module computes in its own Q format\)/);
    expect(text).toMatch(/operators\[4\] DEQUANTIZE: DEQUANTIZE, skipped/);
    const w1 = q1.map((q, k) => s1[Math.floor(k / 3)] * q);
    const b1 = qb1.map((q, c) => s1[c] * inScale * q);
    const w2 = q2.map((q) => s2[0] * q);
    const b2 = qb2.map((q) => s2[0] * hScale * q);
    await agree(
      spec,
      [
        { kind: "dense", kernel: kernelOf(w1, 5, 3), bias: b1, activation: "relu" },
        { kind: "dense", kernel: kernelOf(w2, 4, 5), bias: b2, activation: "linear" },
        { kind: "act", activation: "softmax" },
      ],
      3,
      "int8, dequantized",
    );
  });
});

test("float16 weights (TF.js quantization, TFLite) decode by IEEE 754 binary16", () => {
  // sign, 5 exponent bits (bias 15), 10 fraction bits; subnormals at exponent 0.
  expect(halfToNumber(0x3c00)).toBe(1);
  expect(halfToNumber(0xc000)).toBe(-2);
  expect(halfToNumber(0x3555)).toBe(0.333251953125); // (1 + 341/1024) / 4
  expect(halfToNumber(0x7bff)).toBe(65504);
  expect(halfToNumber(0x0001)).toBe(2 ** -24);
  expect(halfToNumber(0x8000)).toBe(-0);
  expect(halfToNumber(0x7c00)).toBe(Infinity);
  expect(halfToNumber(0x7e00)).toBeNaN();
});
