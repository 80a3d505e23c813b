// The tanh table and the constants that index it (assembly/lut.ts explains the scheme).
// Computed here, where Math.tanh exists, and emitted as static data: the module
// itself never needs a float.

import type { LutConfig } from "../spec/model.js";

export const LUT_FRAC_BITS = 30;

/** Entry i = tanh(i·h) in q2.30, h = range / (entries − 1). */
export function tanhTable(lut: LutConfig): number[] {
  const h = lut.range / (lut.entries - 1);
  return Array.from({ length: lut.entries }, (_, i) => Math.round(Math.tanh(i * h) * 2 ** LUT_FRAC_BITS));
}

/** What lut_tanh_q30 needs for one argument scale (1 for tanh, ½ for sigmoid) and input format. */
export interface LutIndexing {
  /** |x| ≥ limit (q.F) reads the last entry: beyond the range, or where the position reaches it. */
  limit: bigint;
  /** position in entries, q.30 = (|x| · posMul) >> posShift. */
  posMul: bigint;
  posShift: number;
  /** h/3 in q.30. */
  hThirdQ30: bigint;
}

export function lutIndexing(lut: LutConfig, fracBits: number, argScale: number): LutIndexing {
  const h = lut.range / (lut.entries - 1);
  const rangeLimit = BigInt(Math.ceil((lut.range / argScale) * 2 ** fracBits));
  // Exact: position (q.30) per unit of |x| (q.F) is argScale / h · 2^(30 − F).
  const rate = (argScale / h) * 2 ** (LUT_FRAC_BITS - fracBits);
  // |x| never exceeds 2^31 nor `limit`; keep |x|·posMul below 2^62.
  const maxAbs = Math.min(Number(rangeLimit), 2 ** 31);
  let posShift = Math.max(0, Math.min(62, Math.floor(Math.log2(2 ** 62 / (maxAbs * rate)))));
  let posMul = BigInt(Math.round(rate * 2 ** posShift));
  // (|x|·2m) >> s = (|x|·m) >> (s − 1) exactly: dropping common factors of two changes no
  // position, and at posShift 0 the kernel has one 64-bit shift fewer per value.
  while (posShift > 0 && posMul % 2n === 0n) {
    posMul /= 2n;
    posShift--;
  }
  const hThirdQ30 = BigInt(Math.round((h / 3) * 2 ** LUT_FRAC_BITS));
  // posMul is rounded, so a position can reach the last entry just below `range`:
  // the smallest |x| with (|x|·posMul) >> posShift ≥ (entries − 1)·2^30 reads it too,
  // and one comparison in the kernel covers both cases.
  const lastAt = (BigInt(lut.entries - 1) << BigInt(LUT_FRAC_BITS + posShift)) + posMul - 1n;
  const reachesLast = lastAt / posMul;
  return { limit: reachesLast < rangeLimit ? reachesLast : rangeLimit, posMul, posShift, hThirdQ30 };
}

/** Entry i = 2^(−i/16) in q2.30: the exp kernel's table (assembly/exp.ts). */
export function expTable(): number[] {
  return Array.from({ length: 16 }, (_, i) => Math.round(2 ** (-i / 16) * 2 ** LUT_FRAC_BITS));
}

/** The kernels' table arguments as AssemblyScript source: the table's address and size names, then the indexing. */
export function lutArgs(ix: LutIndexing, table: string, entries: string): string {
  return `${table}, ${entries}, <i64>${ix.limit}, <i64>${ix.posMul}, ${ix.posShift}, <i64>${ix.hThirdQ30}`;
}
