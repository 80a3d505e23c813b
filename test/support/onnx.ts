// ONNX files for the tests: encoded with protobufjs from the repository's schema
// (src/import/onnx_proto.ts), and run by ONNX Runtime (onnxruntime-web, its wasm
// build, one thread): an engine independent of qfirm that also checks each file is
// valid ONNX, so a wrong field number in the schema fails the tests.

import * as ort from "onnxruntime-web";
import { onnxModelType } from "../../src/import/onnx_proto.js";

ort.env.wasm.numThreads = 1;

export const FLOAT = 1;
export const INT64 = 7;

export function rawFloat(name: string, dims: number[], values: number[]) {
  return { name, dims, data_type: FLOAT, raw_data: new Uint8Array(Float32Array.from(values).buffer) };
}

export function valueInfo(name: string, dims: (number | string)[]) {
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === "string" ? { dim_param: d } : { dim_value: d })) } } } };
}

export async function encodeOnnx(model: Record<string, unknown>): Promise<Uint8Array> {
  const type = await onnxModelType();
  const err = type.verify(model);
  if (err) throw new Error(err);
  return type.encode(type.fromObject(model)).finish();
}

export async function runOrt(bytes: Uint8Array, inputs: number[][], width: number): Promise<number[][]> {
  const session = await ort.InferenceSession.create(bytes);
  const feed = new ort.Tensor("float32", Float32Array.from(inputs.flat()), [inputs.length, width]);
  const result = await session.run({ [session.inputNames[0]]: feed });
  const out = result[session.outputNames[0]];
  const cols = out.dims[1] as number;
  const data = Array.from(out.data as Float32Array);
  return inputs.map((_, r) => data.slice(r * cols, (r + 1) * cols));
}

