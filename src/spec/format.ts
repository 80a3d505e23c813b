// The qI.F fixed-point format: parsing, and conversion between floats and Q values.
//
// Conversion rule (the driver's and the generator's): v ↦ round(v · 2^F), rounding
// half away from zero. A value outside the format's range, NaN or ±Infinity is an
// error (QRangeError), never a silent wrap-around or saturation.

import type { QFormat } from "./model.js";

export const MIN_FRAC_BITS = 1;
export const MAX_FRAC_BITS = 30;
const FORMAT_PATTERN = /^q(\d+)\.(\d+)$/;

/** Parses "qI.F"; returns an error message instead of throwing so callers can name the field. */
export function parseFormat(text: string): QFormat | string {
  const match = FORMAT_PATTERN.exec(text);
  if (!match) return `"${text}" is not a format like "q8.24"`;
  const intBits = Number(match[1]);
  const fracBits = Number(match[2]);
  if (intBits + fracBits !== 32) return `"${text}" has ${intBits + fracBits} bits; I + F must be 32`;
  if (fracBits < MIN_FRAC_BITS || fracBits > MAX_FRAC_BITS) {
    return `"${text}" has ${fracBits} fraction bits; must be ${MIN_FRAC_BITS} to ${MAX_FRAC_BITS}`;
  }
  return { bits: 32, fracBits };
}

export function formatName(format: QFormat): string {
  return `q${format.bits - format.fracBits}.${format.fracBits}`;
}

export function lsb(fracBits: number): number {
  return 2 ** -fracBits;
}

/** The smallest and largest values the format holds. */
export function rangeOf(fracBits: number): { min: number; max: number } {
  return { min: -(2 ** 31) / 2 ** fracBits, max: (2 ** 31 - 1) / 2 ** fracBits };
}

export class QRangeError extends Error {
  override name = "QRangeError";
}

/** round(v · 2^F), half away from zero; throws QRangeError for NaN, ±Infinity or out of range. */
export function toQ(value: number, fracBits: number, where = "value"): number {
  if (!Number.isFinite(value)) throw new QRangeError(`${where}: ${value} is not a finite number`);
  const scaled = value * 2 ** fracBits;
  const q = Math.sign(scaled) * Math.round(Math.abs(scaled));
  if (q > 2 ** 31 - 1 || q < -(2 ** 31)) {
    const { min, max } = rangeOf(fracBits);
    throw new QRangeError(`${where}: ${value} is outside the range of q${32 - fracBits}.${fracBits} [${min}, ${max}]`);
  }
  return q === 0 ? 0 : q; // no -0
}

export function fromQ(q: number, fracBits: number): number {
  return q / 2 ** fracBits;
}
