// Writes the AssemblyScript entry for one model: shapes, formats, buffer addresses
// and table indexing as compile-time constants, calling the kernels in assembly/.
// Initial data (params, sample, table) is returned separately as data segments,
// which compile.ts places at the layout's addresses.

import { toQ } from "./format.js";
import { flattenParams, memoryLayout, paramCount, type MemoryLayout } from "./layout.js";
import { lutIndexing, tanhTable, type LutIndexing } from "./lut.js";
import { fanInOf, outputsOf, type Activation, type Model } from "./model.js";

export interface DataSegment {
  offset: number;
  words: Int32Array;
}

export interface GeneratedEntry {
  source: string;
  layout: MemoryLayout;
  segments: DataSegment[];
}

/** ceil(log2(terms + 1)): the pre-shift that keeps a sum of `terms` products of two i32 in an i64. */
export function accShiftFor(terms: number): number {
  return Math.ceil(Math.log2(terms + 1));
}

export function usesTable(model: Model): boolean {
  return model.layers.some((layer) => layer.activation === "sigmoid" || layer.activation === "tanh");
}

const i64 = (value: bigint): string => `<i64>${value}`;

function lutArgs(ix: LutIndexing): string {
  return `TANH_TABLE, TABLE_ENTRIES, ${i64(ix.limit)}, ${i64(ix.posMul)}, ${ix.posShift}, ${i64(ix.hThirdQ30)}`;
}

interface Names {
  z: string;
  a: string;
  dA: string;
  dZ: string;
  n: number;
}

interface TableIndexing {
  sigmoid: LutIndexing;
  tanh: LutIndexing;
}

/** Per activation: the forward call (z → a) and backward call (dA → dZ, from a). */
const ACTIVATION_CODE: Record<
  Activation,
  { kernel: string; forward(v: Names, lut: TableIndexing): string; backward(v: Names): string }
> = {
  sigmoid: {
    kernel: "sigmoid",
    forward: (v, lut) => `sigmoid_forward(${v.z}, ${v.a}, ${v.n}, F, ${lutArgs(lut.sigmoid)});`,
    backward: (v) => `sigmoid_backward(${v.a}, ${v.dA}, ${v.dZ}, ${v.n}, F, G);`,
  },
  tanh: {
    kernel: "tanh",
    forward: (v, lut) => `tanh_forward(${v.z}, ${v.a}, ${v.n}, F, ${lutArgs(lut.tanh)});`,
    backward: (v) => `tanh_backward(${v.a}, ${v.dA}, ${v.dZ}, ${v.n}, F, G);`,
  },
  relu: {
    kernel: "relu",
    forward: (v) => `relu_forward(${v.z}, ${v.a}, ${v.n});`,
    backward: (v) => `relu_backward(${v.a}, ${v.dA}, ${v.dZ}, ${v.n});`,
  },
  linear: {
    kernel: "linear",
    forward: (v) => `linear_forward(${v.z}, ${v.a}, ${v.n});`,
    backward: (v) => `linear_backward(${v.dA}, ${v.dZ}, ${v.n});`,
  },
  softmax: {
    kernel: "softmax",
    forward: () => {
      throw new Error("softmax is not implemented yet");
    },
    backward: () => {
      throw new Error("softmax is not implemented yet");
    },
  },
};

export function generateEntry(model: Model): GeneratedEntry {
  const table = usesTable(model) ? tanhTable(model.lut) : [];
  const layout = memoryLayout(model, table.length);
  const F = model.format.fracBits;
  const lut: TableIndexing = { sigmoid: lutIndexing(model.lut, F, 0.5), tanh: lutIndexing(model.lut, F, 1) };

  const segments: DataSegment[] = [];
  const words = (values: number[], fracBits: number, where: string) =>
    Int32Array.from(values, (v, i) => toQ(v, fracBits, `${where}[${i}]`));
  segments.push({ offset: layout.params, words: words(flattenParams(model.weights), F, "params") });
  if (model.sample) {
    segments.push({ offset: layout.input, words: words(model.sample.input, F, "sample.input") });
    segments.push({ offset: layout.target, words: words(model.sample.target, F, "sample.target") });
  }
  if (layout.table !== undefined) segments.push({ offset: layout.table, words: Int32Array.from(table) });

  const last = model.layers.length - 1;
  const outputs = outputsOf(model);
  const count = paramCount(model);

  // Element offsets of each layer's weight and bias inside params / grads.
  let index = 0;
  const tensorAt = model.layers.map((layer, l) => {
    const weight = index;
    index += fanInOf(model, l) * layer.units;
    const bias = index;
    index += layer.units;
    return { weight: weight * 4, bias: bias * 4 };
  });

  const names = (l: number): Names => ({ z: `Z${l}`, a: `A${l}`, dA: `DA${l}`, dZ: `DZ${l}`, n: model.layers[l].units });
  const inputOf = (l: number) => (l === 0 ? "INPUT" : `A${l - 1}`);
  const kernels = new Set(model.layers.map((layer) => ACTIVATION_CODE[layer.activation].kernel));

  const forwardLines = model.layers.flatMap((layer, l) => {
    const v = names(l);
    return [
      `dense_forward(${inputOf(l)}, PARAMS + ${tensorAt[l].weight}, PARAMS + ${tensorAt[l].bias}, ${v.z}, ${fanInOf(model, l)}, ${v.n}, F, ${accShiftFor(fanInOf(model, l))});`,
      ACTIVATION_CODE[layer.activation].forward(v, lut),
    ];
  });
  const backwardLines = [`loss_l2_backward(A${last}, TARGET, DA${last}, ${outputs}, F, G);`];
  for (let l = last; l >= 0; l--) {
    const v = names(l);
    backwardLines.push(ACTIVATION_CODE[model.layers[l].activation].backward(v));
    const dX = l === 0 ? "0" : `DA${l - 1}`;
    backwardLines.push(
      `dense_backward(${inputOf(l)}, PARAMS + ${tensorAt[l].weight}, ${v.dZ}, GRADS + ${tensorAt[l].weight}, GRADS + ${tensorAt[l].bias}, ${dX}, ${fanInOf(model, l)}, ${v.n}, F, G, ${accShiftFor(v.n)});`,
    );
  }

  const bufferLines = [
    `const INPUT: usize = ${layout.input};`,
    `const TARGET: usize = ${layout.target};`,
    `const PARAMS: usize = ${layout.params};`,
    `const GRADS: usize = ${layout.grads};`,
    ...layout.layers.map((b, l) => `const Z${l}: usize = ${b.z}; const A${l}: usize = ${b.a}; const DA${l}: usize = ${b.dA}; const DZ${l}: usize = ${b.dZ};`),
  ];
  if (layout.table !== undefined) {
    bufferLines.push(`// tanh table: entry i = tanh(i·${model.lut.range}/${model.lut.entries - 1}) in q2.30 (src/lut.ts).`);
    bufferLines.push(`const TANH_TABLE: usize = ${layout.table};`, `const TABLE_ENTRIES: i32 = ${model.lut.entries};`);
  }

  const source = `// Generated by qfirm from the spec "${model.name}". Do not edit: change the spec and rebuild.
// Values and params q${32 - F}.${F} (F); gradients and deltas q${32 - model.gradFormat.fracBits}.${model.gradFormat.fracBits} (G).
import { q_zero } from "./q";
import { dense_forward, dense_backward } from "./dense";
${[...kernels].map((k) => `import { ${k}_forward, ${k}_backward } from "./${k}";`).join("\n")}
import { loss_l2, loss_l2_backward } from "./loss_l2";
import { sgd_step } from "./sgd";

const F: i32 = ${F};
const G: i32 = ${model.gradFormat.fracBits};
const PARAM_COUNT: i32 = ${count};

${bufferLines.join("\n")}

let learningRate: i32 = ${toQ(model.learningRate, F, "learningRate")};

export function input_ptr(): usize { return INPUT; }
export function output_ptr(): usize { return A${last}; }
export function target_ptr(): usize { return TARGET; }
export function params_ptr(): usize { return PARAMS; }
export function grads_ptr(): usize { return GRADS; }

export function forward(): void {
  ${forwardLines.join("\n  ")}
}

export function loss(): i32 {
  return loss_l2(A${last}, TARGET, ${outputs}, F, ${accShiftFor(outputs)});
}

export function zero_grad(): void {
  q_zero(GRADS, PARAM_COUNT);
}

export function backward(): void {
  ${backwardLines.join("\n  ")}
}

export function step(): void {
  sgd_step(PARAMS, GRADS, PARAM_COUNT, learningRate, F, G, F);
}

export function set_learning_rate(q: i32): void {
  learningRate = q;
}

export function train_step(): i32 {
  zero_grad();
  forward();
  const before = loss();
  backward();
  step();
  return before;
}
`;
  return { source, layout, segments };
}
