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

/**
 * The format and its range as every message prints them: "q8.24 [-128, 127.99999994]".
 * The upper bound shows the fewest digits that stay at or below it and within half an
 * LSB of it, so it reads as the largest value the format holds, not as the next integer.
 */
export function rangeText(fracBits: number): string {
  const { min, max } = rangeOf(fracBits);
  return `q${32 - fracBits}.${fracBits} [${min}, ${shortestBelow(max, lsb(fracBits) / 2)}]`;
}

function shortestBelow(value: number, within: number): string {
  for (let places = 0; places <= 20; places++) {
    let shown = Number(value.toFixed(places));
    if (shown > value) shown = Number((shown - 10 ** -places).toFixed(places)); // round down, not to nearest
    if (value - shown < within) return String(shown);
  }
  return String(value);
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
    throw new QRangeError(`${where}: ${value} is outside the range of ${rangeText(fracBits)}`);
  }
  return q === 0 ? 0 : q; // no -0
}

export function fromQ(q: number, fracBits: number): number {
  return q / 2 ** fracBits;
}
