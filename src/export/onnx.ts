// An ONNX model (opset 13): per layer a Gemm (Y = X·W + b, W as [inputs, units],
// transB = 0) and its activation node (none for linear), float32 initializers, the
// input "input" and output "output" shaped [batch, n], and the exact Q values in
// metadata_props "qfirm" (src/import/exact.ts).

import { describeTraining, fanInOf, type Model } from "../spec/model.js";
import { EXACT_KEY, exactRecordOf } from "../import/exact.js";
import { ONNX_ATTRIBUTE_INT, ONNX_FLOAT, onnxModelType } from "../import/onnx_proto.js";
import type { ExportedFiles } from "./tfjs.js";
import { frozenLines, inexactInFloat32, moduleParams } from "./training.js";

const OPSET = 13;
/** IR version 7 goes with opset 12 and 13 (ONNX 1.7 and 1.8). */
const IR_VERSION = 7;
const OPS: Record<string, string | undefined> = { sigmoid: "Sigmoid", tanh: "Tanh", relu: "Relu", softmax: "Softmax", linear: undefined };

function floatTensor(name: string, dims: number[], values: number[]): Record<string, unknown> {
  return { name, dims, data_type: ONNX_FLOAT, raw_data: new Uint8Array(Float32Array.from(values).buffer) };
}

function valueInfo(name: string, width: number): Record<string, unknown> {
  return { name, type: { tensor_type: { elem_type: ONNX_FLOAT, shape: { dim: [{ dim_param: "batch" }, { dim_value: width }] } } } };
}

export async function exportOnnx(model: Model): Promise<ExportedFiles> {
  const params = moduleParams(model);
  const nodes: Record<string, unknown>[] = [];
  const initializers: Record<string, unknown>[] = [];
  let current = "input";
  let k = 0;
  model.layers.forEach((layer, l) => {
    const fanIn = fanInOf(model, l);
    const weight = params.slice(k, (k += fanIn * layer.units));
    const bias = params.slice(k, (k += layer.units));
    const last = l === model.layers.length - 1;
    const op = OPS[layer.activation];
    initializers.push(floatTensor(`dense_${l + 1}.weight`, [fanIn, layer.units], weight), floatTensor(`dense_${l + 1}.bias`, [layer.units], bias));
    const z = last && !op ? "output" : `dense_${l + 1}.z`;
    nodes.push({ name: `dense_${l + 1}`, op_type: "Gemm", input: [current, `dense_${l + 1}.weight`, `dense_${l + 1}.bias`], output: [z] });
    current = z;
    if (op) {
      const a = last ? "output" : `dense_${l + 1}.a`;
      const attribute = op === "Softmax" ? [{ name: "axis", type: ONNX_ATTRIBUTE_INT, i: -1 }] : [];
      nodes.push({ name: `dense_${l + 1}.${layer.activation}`, op_type: op, input: [current], output: [a], attribute });
      current = a;
    }
  });
  const type = await onnxModelType();
  const message = type.fromObject({
    ir_version: IR_VERSION,
    opset_import: [{ domain: "", version: OPSET }],
    producer_name: "qfirm",
    graph: {
      name: model.name,
      node: nodes,
      initializer: initializers,
      input: [valueInfo("input", model.inputs)],
      output: [valueInfo("output", model.layers[model.layers.length - 1].units)],
    },
    metadata_props: [{ key: EXACT_KEY, value: JSON.stringify(exactRecordOf(model)) }],
  });
  const bytes = type.encode(message).finish();
  const inexact = inexactInFloat32(params);
  return {
    files: { "model.onnx": bytes },
    lines: [
      `ONNX (opset ${OPSET}): ${model.layers.length} Gemm layers, ${params.length} float32 weights; input "input", output "output"`,
      `float32: ${inexact} of ${params.length} values rounded (a float32 holds 24 significant bits); metadata "qfirm" keeps every exact value`,
      ...frozenLines(model, "ONNX has no such flag; the qfirm record keeps it"),
      model.training === "none"
        ? "training: none (an inference-only spec; the qfirm record says so)"
        : `training: ONNX has no slot for the loss, optimizer and training mode; the qfirm record keeps them (loss ${model.loss.type}; ${describeTraining(model)})`,
    ],
  };
}
