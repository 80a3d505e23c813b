// ONNX: the graph's nodes in order, each taking the output of the one before:
// - Gemm (Y = α·A·B' + β·C, B' = Bᵀ when transB = 1 as PyTorch's Linear writes it;
//   transA = 0), or MatMul followed by an Add of a bias: a dense layer;
// - Sigmoid, Tanh, Relu, Softmax (over the last axis): folded into the layer;
// - BatchNormalization (inference): folded into the layer;
// - Identity, Dropout, Constant, and Flatten or Reshape of a flat vector: skipped.
// Weights are initializers (or Constant nodes), float32 or float64, in the file.

import { EXACT_KEY, parseExactRecord } from "./exact.js";
import { ONNX_DOUBLE, ONNX_FLOAT, ONNX_INT64, onnxModelType } from "./onnx_proto.js";
import { ImportError, plural, tensor, transposed, type NamedTensor, type ReadModel, type Step } from "./steps.js";

interface OnnxTensor {
  name: string;
  dims: number[];
  data_type: number;
  float_data: number[];
  int64_data: number[];
  double_data: number[];
  raw_data: Uint8Array;
  data_location: number;
  external_data: unknown[];
}

interface OnnxAttribute {
  name: string;
  f: number;
  i: number;
  t?: OnnxTensor;
  ints: number[];
}

interface OnnxNode {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: OnnxAttribute[];
}

interface OnnxValueInfo {
  name: string;
  type?: { tensor_type?: { elem_type: number; shape?: { dim: { dim_value?: number; dim_param?: string }[] } } };
}

interface OnnxModel {
  graph?: {
    name: string;
    node: OnnxNode[];
    initializer: OnnxTensor[];
    input: OnnxValueInfo[];
    output: OnnxValueInfo[];
  };
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  metadata_props: { key: string; value: string }[];
}

const TYPE_NAMES: Record<number, string> = { 1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "float64" };

/** An initializer's values as numbers: float32, float64 (and int64 for Reshape's shape). */
function values(t: OnnxTensor, where: string): NamedTensor {
  const name = t.name || "(unnamed tensor)";
  if (t.data_location === 1 || t.external_data.length > 0) {
    throw new ImportError(`${where}: tensor ${name} is stored outside the file; qfirm reads weights stored in the .onnx file`);
  }
  const dims = t.dims.map(Number);
  const count = dims.reduce((n, d) => n * d, 1);
  const raw = t.raw_data;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const fromRaw = (size: number, read: (at: number) => number): number[] => {
    if (raw.byteLength !== count * size) {
      throw new ImportError(`${where}: tensor ${name} holds ${plural(raw.byteLength, "byte")}; its shape [${dims.join(", ")}] needs ${count * size}`);
    }
    return Array.from({ length: count }, (_, k) => read(k * size));
  };
  switch (t.data_type) {
    case ONNX_FLOAT:
      return tensor(name, dims, raw.byteLength > 0 ? fromRaw(4, (at) => view.getFloat32(at, true)) : t.float_data);
    case ONNX_DOUBLE:
      return tensor(name, dims, raw.byteLength > 0 ? fromRaw(8, (at) => view.getFloat64(at, true)) : t.double_data);
    case ONNX_INT64:
      return tensor(name, dims, raw.byteLength > 0 ? fromRaw(8, (at) => Number(view.getBigInt64(at, true))) : t.int64_data.map(Number));
    default:
      throw new ImportError(`${where}: tensor ${name} is ${TYPE_NAMES[t.data_type] ?? `data type ${t.data_type}`}; qfirm reads float32 and float64 weights`);
  }
}

function attribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? Number(a.i) : fallback;
}

function floatAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? a.f : fallback;
}

const ACTIVATION_OPS: Record<string, string> = { Sigmoid: "sigmoid", Tanh: "tanh", Relu: "relu", Softmax: "softmax" };

export async function decodeOnnx(bytes: Uint8Array, path: string): Promise<OnnxModel> {
  const type = await onnxModelType();
  try {
    const message = type.decode(bytes);
    return type.toObject(message, { longs: Number, arrays: true, defaults: true }) as OnnxModel;
  } catch (error) {
    throw new ImportError(`${path}: not a valid ONNX file (${(error as Error).message.split("\n")[0]})`);
  }
}

export async function readOnnx(path: string, bytes: Uint8Array): Promise<ReadModel> {
  const model = await decodeOnnx(bytes, path);
  const graph = model.graph;
  if (!graph || graph.node.length === 0) throw new ImportError(`${path}: an ONNX model without a graph (not an ONNX file?)`);

  const constants = new Map<string, OnnxTensor>();
  for (const t of graph.initializer) constants.set(t.name, t);
  const inputs = graph.input.filter((i) => !constants.has(i.name));
  if (inputs.length !== 1) {
    throw new ImportError(`${path}: the graph takes ${plural(inputs.length, "input")} (${inputs.map((i) => i.name).join(", ")}); qfirm imports models of one input`);
  }
  const dims = inputs[0].type?.tensor_type?.shape?.dim ?? [];
  let width: number | undefined = dims.length > 0 && Number(dims[dims.length - 1].dim_value) > 0 ? Number(dims[dims.length - 1].dim_value) : undefined;
  if (dims.length > 2) throw new ImportError(`${path}: the input "${inputs[0].name}" has rank ${dims.length}; qfirm takes a flat vector (batch, features)`);

  const steps: Step[] = [];
  let current = inputs[0].name;
  const weightOf = (name: string, where: string): NamedTensor => {
    const t = constants.get(name);
    if (!t) throw new ImportError(`${where}: its weight "${name}" is computed, not stored; qfirm takes weights stored as initializers`);
    return values(t, where);
  };

  graph.node.forEach((node, n) => {
    const op = node.op_type;
    const where = `node ${n} "${node.name || node.output[0]}" (${op})`;
    if (node.domain !== "" && node.domain !== "ai.onnx") throw new ImportError(`${where}: operator domain "${node.domain}" is not supported; qfirm reads the standard ONNX operators`);
    if (op === "Constant") {
      const value = attribute(node, "value")?.t;
      if (!value) throw new ImportError(`${where}: a Constant without a tensor value is not supported`);
      constants.set(node.output[0], { ...value, name: node.output[0] });
      return;
    }
    const data = node.input.filter((i) => i !== "");
    const takesCurrent = op === "Add" ? data.includes(current) : data[0] === current;
    if (!takesCurrent) {
      throw new ImportError(`${where}: does not take the output of the node before ("${current}"); qfirm imports chains of dense layers`);
    }
    const output = node.output[0];
    switch (op) {
      case "Gemm": {
        if (intAttribute(node, "transA", 0) !== 0) throw new ImportError(`${where}: transA = 1 is not supported; the input must be [batch, features]`);
        const alpha = floatAttribute(node, "alpha", 1);
        const beta = floatAttribute(node, "beta", 1);
        const b = weightOf(data[1], where);
        if (b.shape.length !== 2) throw new ImportError(`${where}: weight ${b.name} has rank ${b.shape.length}; Gemm's B is a matrix`);
        const kernel = intAttribute(node, "transB", 0) === 1 ? transposed(b) : b;
        if (alpha !== 1) kernel.values.forEach((v, k) => (kernel.values[k] = alpha * v));
        let bias: NamedTensor | undefined;
        if (data[2] !== undefined) {
          const c = weightOf(data[2], where);
          const units = kernel.shape[1];
          const flat = c.values.length === 1 ? new Float64Array(units).fill(c.values[0]) : c.values;
          if (flat.length !== units || c.shape.some((d, k) => k < c.shape.length - 1 && d !== 1)) {
            throw new ImportError(`${where}: bias ${c.name} has shape [${c.shape.join(", ")}]; the layer has ${plural(units, "unit")}`);
          }
          bias = tensor(c.name, [units], flat.map((v) => beta * v));
        }
        steps.push({ kind: "dense", where, kernel, bias, activation: "linear" });
        width = kernel.shape[1];
        break;
      }
      case "MatMul": {
        const b = weightOf(data[1], where);
        if (b.shape.length !== 2) throw new ImportError(`${where}: weight ${b.name} has rank ${b.shape.length}; qfirm takes a matrix [inputs, units]`);
        steps.push({ kind: "dense", where, kernel: b, activation: "linear" });
        width = b.shape[1];
        break;
      }
      case "Add": {
        const previous = steps[steps.length - 1];
        const other = data.find((i) => i !== current);
        if (!previous || previous.kind !== "dense" || previous.bias || !previous.where.endsWith("(MatMul)") || other === undefined || !constants.has(other)) {
          throw new ImportError(`${where}: an Add that is not a MatMul's bias is not supported; qfirm imports chains of dense layers`);
        }
        const c = weightOf(other, where);
        const units = previous.kernel.shape[1];
        if (c.values.length !== units || c.shape.some((d, k) => k < c.shape.length - 1 && d !== 1)) {
          throw new ImportError(`${where}: bias ${c.name} has shape [${c.shape.join(", ")}]; the layer has ${plural(units, "unit")}`);
        }
        previous.bias = tensor(c.name, [units], c.values);
        break;
      }
      case "Sigmoid":
      case "Tanh":
      case "Relu":
        steps.push({ kind: "activation", where, activation: ACTIVATION_OPS[op] });
        break;
      case "Softmax": {
        const opset = model.opset_import.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version ?? 13;
        const axis = intAttribute(node, "axis", opset >= 13 ? -1 : 1);
        if (axis !== -1 && axis !== 1) throw new ImportError(`${where}: softmax over axis ${axis}; qfirm takes it over the units (axis -1)`);
        steps.push({ kind: "activation", where, activation: "softmax" });
        break;
      }
      case "BatchNormalization": {
        const [, scale, bias, mean, variance] = data;
        if (variance === undefined) throw new ImportError(`${where}: needs scale, B, mean and var inputs`);
        if (node.output.filter((o) => o !== "").length > 1) throw new ImportError(`${where}: training-mode BatchNormalization is not supported`);
        steps.push({
          kind: "batchnorm",
          where,
          gamma: weightOf(scale, where),
          beta: weightOf(bias, where),
          mean: weightOf(mean, where),
          variance: weightOf(variance, where),
          epsilon: floatAttribute(node, "epsilon", 1e-5),
        });
        break;
      }
      case "Identity":
      case "Dropout":
        steps.push({ kind: "skip", where, what: op, why: op === "Dropout" ? "does nothing at inference" : "passes its input on" });
        break;
      case "Flatten": {
        const axis = intAttribute(node, "axis", 1);
        if (axis !== 1) throw new ImportError(`${where}: Flatten at axis ${axis}; qfirm takes [batch, features] (axis 1)`);
        steps.push({ kind: "skip", where, what: op, why: "the input is a flat vector" });
        break;
      }
      case "Reshape": {
        const shape = data[1] !== undefined ? weightOf(data[1], where).values : undefined;
        const flat =
          shape !== undefined &&
          shape.length >= 1 &&
          shape.length <= 2 &&
          (width === undefined || shape[shape.length - 1] === width || shape[shape.length - 1] === -1);
        if (!flat) throw new ImportError(`${where}: a Reshape to [${shape ? Array.from(shape).join(", ") : "?"}] is not of a flat vector; qfirm takes [batch, features]`);
        steps.push({ kind: "skip", where, what: op, why: "a flat vector stays flat" });
        break;
      }
      default:
        throw new ImportError(`${where}: ${op} is not supported; qfirm imports chains of dense layers`);
    }
    current = output;
  });

  const outputs = graph.output.map((o) => o.name);
  if (outputs.length !== 1 || outputs[0] !== current) {
    throw new ImportError(`${path}: the graph's output${outputs.length === 1 ? "" : "s"} ${outputs.map((o) => `"${o}"`).join(", ")} ${outputs.length === 1 ? "is" : "are"} not the end of the chain ("${current}")`);
  }
  const record = model.metadata_props.find((p) => p.key === EXACT_KEY);
  let exact;
  if (record) {
    try {
      exact = parseExactRecord(JSON.parse(record.value), path);
    } catch (error) {
      if (error instanceof ImportError) throw error;
      throw new ImportError(`${path}: metadata "${EXACT_KEY}" is not valid JSON`);
    }
  }
  const producer = model.producer_name ? `, from ${model.producer_name}` : "";
  return {
    description: `${path}: ONNX, ${plural(graph.node.length, "node")}${producer}`,
    name: graph.name || undefined,
    steps,
    exact,
    notes: [],
    training: undefined,
  };
}
