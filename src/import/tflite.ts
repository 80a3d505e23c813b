// TFLite: a FlatBuffer (file identifier "TFL3") read with the flatbuffers runtime's
// ByteBuffer and the field ids of TFLite's schema.fbs, written out below (a table's
// field n sits at vtable slot 4 + 2n; a union takes two ids, its type then its
// value). Every offset is checked against the file's length before it is read, so
// a truncated or damaged file is an error, never a read past the end.
//
// The first subgraph's operators, in order, each taking the output of the one before:
// FULLY_CONNECTED (weights [units, inputs], fused NONE, RELU or TANH), LOGISTIC,
// TANH, RELU, SOFTMAX (beta 1), RESHAPE of a flat vector.
//
// int8 models: weights and biases are DEQUANTIZED, f = scale · (q − zero_point), per
// channel where the file gives one scale per unit; the QUANTIZE and DEQUANTIZE of
// the data path are dropped, so the module takes and gives real values in its own
// Q format (finer than int8: it computes what the int8 model approximates).

import type { ByteBuffer } from "flatbuffers";
import { halfToNumber, ImportError, plural, tensor, transposed, type NamedTensor, type ReadModel, type Step } from "./steps.js";
import { formatLibrary } from "./library.js";

// schema.fbs field ids
const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 };
const OPERATOR_CODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 };
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 };
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4 };
const QUANTIZATION = { min: 0, max: 1, scale: 2, zeroPoint: 3, quantizedDimension: 6 };
const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4 };
const BUFFER = { data: 0, offset: 1, size: 2 };
const FULLY_CONNECTED_OPTIONS = { fusedActivation: 0, weightsFormat: 1 };
const SOFTMAX_OPTIONS = { beta: 0 };

// BuiltinOperator
const OP = { ADD: 0, DEQUANTIZE: 6, FULLY_CONNECTED: 9, LOGISTIC: 14, RELU: 19, RESHAPE: 22, SOFTMAX: 25, TANH: 28, QUANTIZE: 114 };
const OP_NAMES: Record<number, string> = {
  0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 6: "DEQUANTIZE",
  9: "FULLY_CONNECTED", 14: "LOGISTIC", 16: "LSTM", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU", 21: "RELU6",
  22: "RESHAPE", 25: "SOFTMAX", 28: "TANH", 32: "CUSTOM", 40: "MEAN", 41: "SUB", 50: "LOG_SOFTMAX",
  98: "LEAKY_RELU", 114: "QUANTIZE", 126: "BATCH_MATMUL", 150: "GELU",
};
// BuiltinOptions union: NONE 0, Conv2DOptions 1 ... FullyConnectedOptions 8, SoftmaxOptions 9
const OPTIONS = { FullyConnectedOptions: 8, SoftmaxOptions: 9 };
// ActivationFunctionType
const FUSED: Record<number, string> = { 0: "linear", 1: "relu", 4: "tanh" };
const FUSED_NAMES: Record<number, string> = { 2: "RELU_N1_TO_1", 3: "RELU6", 5: "SIGN_BIT" };
// TensorType
const TYPE = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, INT16: 7, INT8: 9, FLOAT64: 10 };
const TYPE_NAMES: Record<number, string> = { 0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool", 7: "int16", 9: "int8", 10: "float64" };

/** A table of the FlatBuffer, every read bounds-checked. */
class Table {
  constructor(
    private readonly bb: ByteBuffer,
    readonly pos: number,
    private readonly path: string,
  ) {
    this.check(pos, 4);
    const vtable = pos - bb.readInt32(pos);
    this.check(vtable, 4);
    this.check(vtable, bb.readUint16(vtable));
  }

  private check(at: number, bytes: number): void {
    if (!(at >= 0 && bytes >= 0 && at + bytes <= this.bb.capacity())) {
      throw new ImportError(`${this.path}: damaged or truncated TFLite file (offset ${at} beyond its ${this.bb.capacity()} bytes)`);
    }
  }

  /** The field's position in the buffer, or 0 when absent. */
  private field(id: number): number {
    const o = this.bb.__offset(this.pos, 4 + 2 * id);
    return o === 0 ? 0 : this.pos + o;
  }

  int(id: number, fallback = 0, size: 1 | 4 = 4, signed = true): number {
    const at = this.field(id);
    if (at === 0) return fallback;
    this.check(at, size);
    if (size === 1) return signed ? this.bb.readInt8(at) : this.bb.readUint8(at);
    return signed ? this.bb.readInt32(at) : this.bb.readUint32(at);
  }

  float(id: number, fallback: number): number {
    const at = this.field(id);
    if (at === 0) return fallback;
    this.check(at, 4);
    return this.bb.readFloat32(at);
  }

  uint64(id: number): number {
    const at = this.field(id);
    if (at === 0) return 0;
    this.check(at, 8);
    return Number(this.bb.readUint64(at));
  }

  table(id: number): Table | undefined {
    const at = this.field(id);
    if (at === 0) return undefined;
    this.check(at, 4);
    return new Table(this.bb, this.bb.__indirect(at), this.path);
  }

  /** Start and length of a vector of `size`-byte elements. */
  private vector(id: number, size: number): { start: number; length: number } | undefined {
    const at = this.field(id);
    if (at === 0) return undefined;
    this.check(at, 4);
    const header = at + this.bb.readInt32(at);
    this.check(header, 4);
    const length = this.bb.readInt32(header);
    this.check(header + 4, length * size);
    return { start: header + 4, length };
  }

  tables(id: number): Table[] {
    const v = this.vector(id, 4);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, k) => new Table(this.bb, this.bb.__indirect(v.start + 4 * k), this.path));
  }

  ints(id: number): number[] {
    const v = this.vector(id, 4);
    return v ? Array.from({ length: v.length }, (_, k) => this.bb.readInt32(v.start + 4 * k)) : [];
  }

  floats(id: number): number[] {
    const v = this.vector(id, 4);
    return v ? Array.from({ length: v.length }, (_, k) => this.bb.readFloat32(v.start + 4 * k)) : [];
  }

  longs(id: number): number[] {
    const v = this.vector(id, 8);
    return v ? Array.from({ length: v.length }, (_, k) => Number(this.bb.readInt64(v.start + 8 * k))) : [];
  }

  bytes(id: number): Uint8Array {
    const v = this.vector(id, 1);
    return v ? this.bb.bytes().subarray(v.start, v.start + v.length) : new Uint8Array(0);
  }

  string(id: number): string | undefined {
    const v = this.vector(id, 1);
    return v ? new TextDecoder().decode(this.bb.bytes().subarray(v.start, v.start + v.length)) : undefined;
  }
}

interface TfliteTensor {
  name: string;
  shape: number[];
  type: number;
  data: Uint8Array;
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

/** A constant tensor's values as real numbers: float as stored, integers dequantized. */
function realValues(t: TfliteTensor, path: string): NamedTensor {
  const count = t.shape.reduce((n, d) => n * d, 1);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const sizes: Record<number, number> = { [TYPE.FLOAT32]: 4, [TYPE.FLOAT16]: 2, [TYPE.FLOAT64]: 8, [TYPE.INT8]: 1, [TYPE.UINT8]: 1, [TYPE.INT16]: 2, [TYPE.INT32]: 4 };
  const size = sizes[t.type];
  if (size === undefined) throw new ImportError(`${path}: tensor "${t.name}" is ${TYPE_NAMES[t.type] ?? `type ${t.type}`}; qfirm reads float and int8/uint8/int16/int32 (quantized) weights`);
  if (t.data.byteLength !== count * size) {
    throw new ImportError(`${path}: tensor "${t.name}" holds ${plural(t.data.byteLength, "byte")}; its shape [${t.shape.join(", ")}] needs ${count * size}`);
  }
  const raw = (k: number): number => {
    switch (t.type) {
      case TYPE.FLOAT32: return view.getFloat32(4 * k, true);
      case TYPE.FLOAT64: return view.getFloat64(8 * k, true);
      case TYPE.FLOAT16: return halfToNumber(view.getUint16(2 * k, true));
      case TYPE.INT8: return view.getInt8(k);
      case TYPE.UINT8: return view.getUint8(k);
      case TYPE.INT16: return view.getInt16(2 * k, true);
      default: return view.getInt32(4 * k, true);
    }
  };
  const isFloat = t.type === TYPE.FLOAT32 || t.type === TYPE.FLOAT64 || t.type === TYPE.FLOAT16;
  if (isFloat) return tensor(t.name, t.shape, Array.from({ length: count }, (_, k) => raw(k)));
  if (t.scale.length === 0) throw new ImportError(`${path}: tensor "${t.name}" is ${TYPE_NAMES[t.type]} without quantization scales; qfirm cannot tell its real values`);
  // Per channel: the index along quantized_dimension picks the scale and zero point.
  const dim = t.quantizedDimension;
  const inner = t.shape.slice(dim + 1).reduce((n, d) => n * d, 1);
  const channels = t.shape[dim] ?? 1;
  const perChannel = t.scale.length > 1;
  if (perChannel && t.scale.length !== channels) {
    throw new ImportError(`${path}: tensor "${t.name}" has ${t.scale.length} scales for ${channels} channels`);
  }
  return tensor(
    t.name,
    t.shape,
    Array.from({ length: count }, (_, k) => {
      const c = perChannel ? Math.floor(k / inner) % channels : 0;
      return t.scale[c] * (raw(k) - (t.zeroPoint[c] ?? 0));
    }),
  );
}

export async function readTflite(path: string, bytes: Uint8Array): Promise<ReadModel> {
  const { ByteBuffer } = await formatLibrary<typeof import("flatbuffers")>("flatbuffers", "reading TFLite");
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(4, 8)) !== "TFL3") {
    throw new ImportError(`${path}: not a TFLite file (no "TFL3" identifier)`);
  }
  const bb = new ByteBuffer(bytes);
  const model = new Table(bb, bb.readUint32(0), path);
  const codes = model.tables(MODEL.operatorCodes).map((c) => {
    const deprecated = c.int(OPERATOR_CODE.deprecatedBuiltinCode, 0, 1);
    return Math.max(deprecated, c.int(OPERATOR_CODE.builtinCode, 0));
  });
  const buffers = model.tables(MODEL.buffers).map((b) => {
    const offset = b.uint64(BUFFER.offset);
    if (offset > 1) {
      const size = b.uint64(BUFFER.size);
      if (offset + size > bytes.length) throw new ImportError(`${path}: damaged or truncated TFLite file (a buffer at ${offset} beyond its ${bytes.length} bytes)`);
      return bytes.subarray(offset, offset + size);
    }
    return b.bytes(BUFFER.data);
  });
  const subgraphs = model.tables(MODEL.subgraphs);
  if (subgraphs.length === 0) throw new ImportError(`${path}: a TFLite model without a subgraph`);
  const graph = subgraphs[0];
  const tensors: TfliteTensor[] = graph.tables(SUBGRAPH.tensors).map((t, k) => {
    const q = t.table(TENSOR.quantization);
    const buffer = t.int(TENSOR.buffer, 0, 4, false);
    if (buffer >= buffers.length && buffer !== 0) throw new ImportError(`${path}: tensor ${k} refers to buffer ${buffer} of ${buffers.length}`);
    return {
      name: t.string(TENSOR.name) ?? `tensor ${k}`,
      shape: t.ints(TENSOR.shape),
      type: t.int(TENSOR.type, 0, 1),
      data: buffers[buffer] ?? new Uint8Array(0),
      scale: q ? q.floats(QUANTIZATION.scale) : [],
      zeroPoint: q ? q.longs(QUANTIZATION.zeroPoint) : [],
      quantizedDimension: q ? q.int(QUANTIZATION.quantizedDimension, 0) : 0,
    };
  });
  const tensorAt = (k: number, where: string): TfliteTensor => {
    const t = tensors[k];
    if (!t) throw new ImportError(`${where}: refers to tensor ${k} of ${tensors.length}`);
    return t;
  };
  const inputs = graph.ints(SUBGRAPH.inputs);
  if (inputs.length !== 1) throw new ImportError(`${path}: the subgraph takes ${plural(inputs.length, "input")}; qfirm imports models of one input`);

  const notes: string[] = [];
  if (subgraphs.length > 1) notes.push(`${path}: ${subgraphs.length} subgraphs; qfirm reads the first`);
  const constants = new Map<number, NamedTensor>();
  const constant = (k: number, where: string): NamedTensor => {
    const known = constants.get(k);
    if (known) return known;
    const t = tensorAt(k, where);
    if (t.data.byteLength === 0) throw new ImportError(`${where}: its weight "${t.name}" is computed, not stored; qfirm takes stored weights`);
    const values = realValues(t, path);
    constants.set(k, values);
    return values;
  };
  const input = tensorAt(inputs[0], path);
  if (input.type !== TYPE.FLOAT32 && input.scale.length > 0) {
    notes.push(`input "${input.name}" is ${TYPE_NAMES[input.type]} (scale ${input.scale[0]}, zero point ${input.zeroPoint[0] ?? 0}); the module takes the real values scale · (q − zero point)`);
  }
  let quantizedWeights = 0;

  const steps: Step[] = [];
  let current = inputs[0];
  const operators = graph.tables(SUBGRAPH.operators);
  operators.forEach((op, n) => {
    const code = codes[op.int(OPERATOR.opcodeIndex, 0, 4, false)];
    const name = code === undefined ? "an unknown operator code" : OP_NAMES[code] ?? `builtin operator ${code}`;
    const where = `operators[${n}] ${name}`;
    const ins = op.ints(OPERATOR.inputs);
    const outs = op.ints(OPERATOR.outputs);
    const inputTensor = ins[0] === undefined ? undefined : tensorAt(ins[0], where);
    if (code === OP.DEQUANTIZE && inputTensor && inputTensor.data.byteLength > 0) {
      constants.set(outs[0], constant(ins[0], where)); // float16 or int8 weights made float at run time
      quantizedWeights++;
      return;
    }
    if (ins[0] !== current) throw new ImportError(`${where}: does not take the output of the operator before; qfirm imports chains of dense layers`);
    switch (code) {
      case OP.FULLY_CONNECTED: {
        const options = op.int(OPERATOR.builtinOptionsType, 0, 1, false) === OPTIONS.FullyConnectedOptions ? op.table(OPERATOR.builtinOptions) : undefined;
        const fused = options ? options.int(FULLY_CONNECTED_OPTIONS.fusedActivation, 0, 1) : 0;
        if (!(fused in FUSED)) throw new ImportError(`${where}: fused activation ${FUSED_NAMES[fused] ?? fused} is not supported; qfirm fuses NONE, RELU and TANH`);
        if (options && options.int(FULLY_CONNECTED_OPTIONS.weightsFormat, 0, 1) !== 0) throw new ImportError(`${where}: shuffled weights are not supported`);
        const w = constant(ins[1], where);
        if (w.shape.length !== 2) throw new ImportError(`${where}: weights "${w.name}" have shape [${w.shape.join(", ")}]; FULLY_CONNECTED's are [units, inputs]`);
        if (tensorAt(ins[1], where).type !== TYPE.FLOAT32) quantizedWeights++;
        const bias = ins[2] !== undefined && ins[2] >= 0 ? constant(ins[2], where) : undefined;
        steps.push({ kind: "dense", where, kernel: transposed(w), bias, activation: FUSED[fused] });
        break;
      }
      case OP.LOGISTIC:
      case OP.TANH:
      case OP.RELU:
        steps.push({ kind: "activation", where, activation: code === OP.LOGISTIC ? "sigmoid" : code === OP.TANH ? "tanh" : "relu" });
        break;
      case OP.SOFTMAX: {
        const options = op.int(OPERATOR.builtinOptionsType, 0, 1, false) === OPTIONS.SoftmaxOptions ? op.table(OPERATOR.builtinOptions) : undefined;
        const beta = options ? options.float(SOFTMAX_OPTIONS.beta, 1) : 1;
        if (beta !== 1) throw new ImportError(`${where}: softmax with beta ${beta} is not supported; qfirm's softmax has beta 1`);
        steps.push({ kind: "activation", where, activation: "softmax" });
        break;
      }
      case OP.RESHAPE: {
        const shape = tensorAt(outs[0], where).shape;
        if (shape.length > 2) throw new ImportError(`${where}: a reshape to [${shape.join(", ")}] is not of a flat vector`);
        steps.push({ kind: "skip", where, what: "RESHAPE", why: "a flat vector stays flat" });
        break;
      }
      case OP.QUANTIZE:
      case OP.DEQUANTIZE:
        steps.push({ kind: "skip", where, what: name, why: "the module computes in its own Q format" });
        break;
      default:
        throw new ImportError(`${where}: ${name} is not supported; qfirm imports chains of dense layers`);
    }
    current = outs[0];
  });
  const outputs = graph.ints(SUBGRAPH.outputs);
  if (outputs.length !== 1 || outputs[0] !== current) throw new ImportError(`${path}: the subgraph's output is not the end of the chain`);
  if (quantizedWeights > 0) {
    notes.push(`quantized weights dequantized, scale · (q − zero point) per channel; qfirm rounds the real values to its Q format (see README, "int8 TFLite")`);
  }
  return {
    description: `${path}: TFLite (schema version ${model.int(MODEL.version, 0, 4, false)}), ${plural(operators.length, "operator")}`,
    name: graph.string(SUBGRAPH.name) || undefined,
    steps,
    notes,
  };
}

