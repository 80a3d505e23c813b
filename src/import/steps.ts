// What every reader hands the chain builder: the model as the file lays it out, a
// list of steps in order (dense layers, separate activations, batch normalizations,
// layers that do nothing at inference), with the weights as the file stores them
// (float64 copies of float32 or float64 data), plus the training settings the file
// records. The readers know their format; chain.ts knows qfirm.

/** A bad, truncated or unsupported model file: one line, exit 2 from the CLI. */
export class ImportError extends Error {
  override name = "ImportError";
}

/** A named tensor, row-major. */
export interface NamedTensor {
  name: string;
  shape: number[];
  values: Float64Array;
}

/**
 * `where` names the layer, node or operator for messages, as the file knows it:
 * `layers[3] "dense_1"`, `node 2 "Gemm_0"`, `operators[1] FULLY_CONNECTED`.
 */
export type Step =
  | {
      kind: "dense";
      where: string;
      /** [inputs, units]: kernel[i][j] from input i to unit j (qfirm's weight[i][j]). */
      kernel: NamedTensor;
      /** [units]; none when the layer has no bias. */
      bias?: NamedTensor;
      /** Lower-case name: sigmoid, tanh, relu, linear, softmax, or what the file says. */
      activation: string;
      /** False when the file marks the layer as not trainable. */
      trainable?: boolean;
    }
  | { kind: "activation"; where: string; activation: string }
  | {
      kind: "batchnorm";
      where: string;
      /** Per unit; gamma 1 and beta 0 where the file has none (scale or center off). */
      gamma?: NamedTensor;
      beta?: NamedTensor;
      mean: NamedTensor;
      variance: NamedTensor;
      epsilon: number;
      /** False when the file marks the layer as not trainable. */
      trainable?: boolean;
    }
  | { kind: "skip"; where: string; what: string; why: string };

/** Loss and optimizer as the file records them (Keras compile config, TF.js trainingConfig). */
export interface TrainingRecord {
  /** Where they were found, for the output: "the Keras compile config". */
  source: string;
  /** Whose update rules the optimizer follows: Keras' (Python Keras, tf.keras, the TF.js converter's files) or TF.js's. */
  framework: "keras" | "tfjs";
  loss?: { name: string; config: Record<string, unknown> };
  optimizer?: { name: string; config: Record<string, unknown> };
}

/** The exact Q values `qfirm export` stores beside the float32 weights (see src/export/metadata.ts). */
export interface ExactRecord {
  format: string;
  /** Params in ABI order, as the module held them. */
  params: Int32Array;
  /** The spec's other fields (name, loss, optimizer, lut, ...). */
  spec: Record<string, unknown>;
}

export interface ReadModel {
  /** What was read, for the output: "TF.js Layers (model.save layout), 1 weight file". */
  description: string;
  /** The model's name in the file, if it has one. */
  name?: string;
  steps: Step[];
  training?: TrainingRecord;
  exact?: ExactRecord;
  /** Lines the reader wants printed (dequantized weights, dropped quantization). */
  notes: string[];
}

export function tensor(name: string, shape: number[], values: ArrayLike<number>): NamedTensor {
  const count = shape.reduce((n, d) => n * d, 1);
  if (values.length !== count) {
    throw new ImportError(`${name}: holds ${values.length} values; its shape [${shape.join(", ")}] needs ${count}`);
  }
  return { name, shape, values: Float64Array.from(values) };
}

/** The transpose of a [rows, cols] tensor: PyTorch's and TFLite's [out, in] weights become [in, out]. */
export function transposed(t: NamedTensor): NamedTensor {
  const [rows, cols] = t.shape;
  const values = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[c * rows + r] = t.values[r * cols + c];
  return { name: t.name, shape: [cols, rows], values };
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** IEEE 754 half → number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
