// The native baseline (native/qfirm_native.c): qfirm's fixed-point algorithm as plain
// C, compiled at bench time by the system `cc -O3 -march=native` into the qfirm cache
// (QFIRM_NATIVE_MARCH=x86-64-v3, say, for another target: -march=native on a core with
// AVX-512 gives gcc 512-bit i64 lanes, which a wasm module cannot have),
// run on a model file written here. Before its rates count, its params after two
// passes over the rows must equal the module's bit for bit.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../src/build/compile.js";
import { accShiftFor } from "../src/build/codegen.js";
import { flattenParams } from "../src/build/layout.js";
import { expTable, lutIndexing, tanhTable, type LutIndexing } from "../src/build/lut.js";
import { which } from "../src/mcu/exec.js";
import { cacheRoot } from "../src/mcu/runtimes.js";
import { toQ } from "../src/spec/format.js";
import { fanInOf, type Activation, type Model } from "../src/spec/model.js";
import { quantizeRows } from "../src/train/train.js";
import type { Budget } from "./measure.js";
import type { BenchModel } from "./models.js";

const SOURCE = join(ROOT, "bench", "native", "qfirm_native.c");
export const NATIVE_FLAGS = ["-O3", `-march=${process.env.QFIRM_NATIVE_MARCH || "native"}`];
const ACTIVATION_CODE: Record<Activation, number> = { sigmoid: 0, tanh: 1, relu: 2, linear: 3, softmax: 4 };
const LOSS_CODE: Partial<Record<Model["loss"]["type"], number>> = { l2: 0, cross_entropy: 1 };

export interface NativeBaseline {
  /** The compiler's first --version line. */
  compiler: string;
  /** One rate (samples per second) per window, warm-up first (untimed). */
  rates(bench: BenchModel, budget: Budget): number[];
  /** PASSES × train_samples(all rows): the params afterwards. */
  paramsAfter(bench: BenchModel, passes: number): Int32Array;
}

/** Why there is no native baseline here (no cc), or undefined. */
export function nativeUnavailable(): string | undefined {
  const march = process.env.QFIRM_NATIVE_MARCH;
  if (march && !/^[A-Za-z0-9_.+-]+$/.test(march)) return `QFIRM_NATIVE_MARCH="${march}" is not a -march name (e.g. native, x86-64-v3)`;
  return which("cc") ? undefined : "no C compiler (cc) on this machine";
}

function words64(value: bigint): number[] {
  return [Number(BigInt.asIntN(32, value)), Number(BigInt.asIntN(32, value >> 32n))];
}

function indexingWords(ix: LutIndexing): number[] {
  return [...words64(ix.limit), ...words64(ix.posMul), ix.posShift, ...words64(ix.hThirdQ30)];
}

/** The model file qfirm_native.c reads (little-endian i32 words). */
export function modelFile(bench: BenchModel): Int32Array {
  const { model, data } = bench;
  const F = model.format.fracBits;
  const lossCode = LOSS_CODE[model.loss.type];
  if (lossCode === undefined) throw new Error(`${bench.name}: the native baseline has no ${model.loss.type} loss`);
  const last = model.layers.length - 1;
  const words: number[] = [1, F, model.gradFormat.fracBits, toQ(model.learningRate, F, "learningRate"), model.inputs, model.layers.length];
  model.layers.forEach((layer, l) => {
    words.push(layer.units, ACTIVATION_CODE[layer.activation], accShiftFor(fanInOf(model, l)), accShiftFor(layer.units));
  });
  words.push(lossCode, accShiftFor(model.layers[last].units));
  const table = tanhTable(model.lut);
  words.push(table.length, ...indexingWords(lutIndexing(model.lut, F, 0.5)), ...indexingWords(lutIndexing(model.lut, F, 1)), ...table);
  words.push(...expTable());
  const params = flattenParams(model.weights).map((v, i) => toQ(v, F, `params[${i}]`));
  words.push(params.length, ...params, data.inputs.length);
  return Int32Array.from([...words, ...quantizeRows(data, model)]);
}

/** Compiles qfirm_native.c for one format, once per source, compiler and flags (kept in the qfirm cache). */
function compiled(cc: string, compiler: string, fracBits: number, gradFracBits: number): string {
  const source = readFileSync(SOURCE);
  const flags = [...NATIVE_FLAGS, `-DQF=${fracBits}`, `-DQG=${gradFracBits}`];
  const key = createHash("sha256").update(source).update(compiler).update(flags.join(" ")).digest("hex").slice(0, 16);
  const dir = join(cacheRoot(), "bench-native");
  const program = join(dir, `qfirm_native-${key}`);
  if (existsSync(program)) return program;
  mkdirSync(dir, { recursive: true });
  const partial = `${program}.${process.pid}`;
  execFileSync(cc, [...flags, "-o", partial, SOURCE], { stdio: ["ignore", "ignore", "pipe"] });
  renameSync(partial, program);
  return program;
}

export function nativeBaseline(scratch: string): NativeBaseline {
  const cc = which("cc")!;
  const compiler = execFileSync(cc, ["--version"], { encoding: "utf8" }).split("\n")[0];
  const prepared = (bench: BenchModel) => {
    const file = join(scratch, `${bench.name}.model`);
    if (!existsSync(file)) writeFileSync(file, modelFile(bench));
    return { file, program: compiled(cc, compiler, bench.model.format.fracBits, bench.model.gradFormat.fracBits) };
  };
  return {
    compiler,
    rates(bench, budget) {
      const { file, program } = prepared(bench);
      const args = ["rates", file, String(budget.warmupSeconds), String(budget.windows), String(budget.windowSeconds)];
      return execFileSync(program, args, { encoding: "utf8" }).trim().split("\n").map(Number);
    },
    paramsAfter(bench, passes) {
      const { file, program } = prepared(bench);
      const out = join(scratch, `${bench.name}.params`);
      execFileSync(program, ["check", file, String(passes), out], { encoding: "utf8" });
      const bytes = readFileSync(out);
      return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
    },
  };
}
