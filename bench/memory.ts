// The memory each way of training needs, for the 784-32-10 MNIST model
// (examples/mnist.json): every variant is built and its figures read from the manifest
// and the module, so the README's table is what the modules really take.
//
//   npm run memory             # the table, as Markdown
//   npm run memory -- --json   # the rows as JSON

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildModel } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import type { Manifest } from "../src/build/manifest.js";
import { footprint } from "../src/run/inspect.js";
import { parseSpec } from "../src/spec/spec.js";

export interface MemoryVariant {
  name: string;
  /** What the variant changes in examples/mnist.json. */
  spec: Record<string, unknown>;
}

type Spec = Record<string, unknown> & { layers: Record<string, unknown>[] };

const lastLayerOnly = (spec: Spec): Spec => ({ ...spec, layers: spec.layers.map((l, i) => (i === 0 ? { ...l, trainable: false } : l)) });

/** The variants of the README's table, from examples/mnist.json. */
export function memoryVariants(): MemoryVariant[] {
  const base = JSON.parse(readFileSync(join(ROOT, "examples", "mnist.json"), "utf8")) as Spec;
  const { loss: _loss, optimizer: _optimizer, ...inference } = base;
  const momentum = { type: "sgd", learningRate: 0.01, momentum: 0.9 };
  const adam = { type: "adam", learningRate: 0.001 };
  return [
    { name: "inference only", spec: { ...inference, training: "none" } },
    { name: "lean SGD", spec: { ...base, training: "lean" } },
    { name: "SGD with grads", spec: base },
    { name: "momentum", spec: { ...base, optimizer: momentum } },
    { name: "Adam", spec: { ...base, optimizer: adam } },
    { name: "last layer only trainable, SGD", spec: lastLayerOnly(base) },
    { name: "last layer only trainable, lean SGD", spec: { ...lastLayerOnly(base), training: "lean" } },
    { name: "last layer only trainable, Adam", spec: { ...lastLayerOnly(base), optimizer: adam } },
  ];
}

export interface MemoryRow {
  variant: string;
  training: Manifest["training"];
  trainableParams: number;
  /** Bytes of the grads buffer. */
  grads: number;
  /** Bytes of the optimizer state (velocity or moments, and the step counter). */
  state: number;
  /** Linear memory the module uses (manifest memory.bytesUsed). */
  memoryBytes: number;
  /** memoryBytes ÷ the inference-only module's. */
  ratio: number;
  /** The .wasm file (mcu target), and its code section: the kernels, without the initial params. */
  moduleBytes: number;
  codeBytes: number;
}

export async function memoryRows(): Promise<MemoryRow[]> {
  const rows: Omit<MemoryRow, "ratio">[] = [];
  for (const v of memoryVariants()) {
    const { manifest: m, wasm } = await buildModel(parseSpec(v.spec), "mcu");
    const state = (m.optimizer?.buffers ?? []).reduce((n, b) => n + b.bytes, 0) + (m.optimizer?.step ? 4 : 0);
    rows.push({
      variant: v.name,
      training: m.training,
      trainableParams: m.trainableParamCount,
      grads: m.buffers.grads === null ? 0 : 4 * m.trainableParamCount,
      state,
      memoryBytes: m.memory.bytesUsed,
      moduleBytes: m.module.bytes,
      codeBytes: footprint(wasm, m).code,
    });
  }
  const inference = rows[0].memoryBytes;
  return rows.map((r) => ({ ...r, ratio: r.memoryBytes / inference }));
}

const grouped = (n: number) => n.toLocaleString("en-US");

/**
 * A row's cells: first those the memory layout decides (stable while the layout is),
 * then the module's bytes, which follow the kernels' code.
 */
export function memoryCells(r: MemoryRow): { memory: string[]; module: string[] } {
  return {
    memory: [r.variant, r.training, grouped(r.trainableParams), grouped(r.grads), grouped(r.state), grouped(r.memoryBytes), r.ratio.toFixed(3)],
    module: [grouped(r.moduleBytes), grouped(r.codeBytes)],
  };
}

export function memoryTable(rows: MemoryRow[]): string {
  const lines = [
    "| 784-32-10 | training | trainable params | grads (bytes) | optimizer state (bytes) | linear memory (bytes) | × inference only | module (bytes) | of which code |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const { memory, module } = memoryCells(r);
      return `| ${[...memory, ...module].join(" | ")} |`;
    }),
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: "boolean" } } });
  const rows = await memoryRows();
  console.log(values.json ? JSON.stringify(rows, null, 2) : memoryTable(rows));
}

if (process.argv[1]?.endsWith(join("bench", "memory.js"))) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
