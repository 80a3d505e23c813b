// What every command shares: the usage error (exit 2, one line), reading a spec,
// and parsers for option values.

import { readFile } from "node:fs/promises";
import { InvalidArgumentError } from "commander";
import { TARGETS, type Target } from "../build/compile.js";
import type { Model } from "../spec/model.js";
import { parseSpecText } from "../spec/spec.js";

/** A bad command line: exit 2 with one line. */
export class UsageError extends Error {}

/** A file's text, or a UsageError naming it. */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

export async function loadSpec(path: string): Promise<Model> {
  return parseSpecText(await readText(path), path);
}

export function parseTarget(value: string): Target {
  if (!(TARGETS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`"${value}" is not one of ${TARGETS.join(", ")}`);
  }
  return value as Target;
}

export function parseNumbers(value: string): number[] {
  const numbers = value.split(",").map((s) => Number(s.trim()));
  if (value.trim() === "" || numbers.some((n) => Number.isNaN(n))) {
    throw new InvalidArgumentError(`"${value}" is not a comma-separated list of numbers`);
  }
  return numbers;
}

export function parseCount(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`"${value}" is not an integer from ${min} to ${max.toLocaleString("en-US")}`);
    }
    return n;
  };
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a number > 0`);
  return n;
}

export function parseFraction(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`"${value}" is not a number from 0 to 1 (excluded)`);
  return n;
}
