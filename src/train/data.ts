// Training data from a file: CSV or JSON, checked against the model it trains.
//
// A data set is rows of (input, target) in floats. Every value must be a finite
// number that the model's format holds (the driver quantizes the rows once, by
// format.ts's rule); a bad row is a DataError naming `file:line:column` and what is
// wrong, on one line, e.g. `iris.csv:7:12: "abc" is not a number`.
//
// CSV (the rule, also in the README):
// - Fields are separated by commas; spaces around a field are ignored; blank lines
//   are skipped; a UTF-8 byte order mark and CRLF line ends are fine.
// - The first non-blank line is a header, and skipped, when NONE of its fields is a
//   number. A line mixing numbers and words is data, and its words are errors.
// - Every row has the same number of fields, one of:
//     inputs + outputs: the last `outputs` fields are the target;
//     inputs + 1, when the model's last layer is softmax (and has ≥ 2 units): the
//       last field is a class label, an integer 0 … outputs − 1, turned one-hot
//       (label k → target 1 at k, 0 elsewhere).
//   The first data row (or the header, when there is one) decides which.
// - Numbers are decimal: 1, -0.5, .25, 3e-4. Not hex, not NaN or Infinity.
//
// JSON: either an array of rows { "input": [...], "target": [...] }, or one object
// { "inputs": [[...], ...], "targets": [[...], ...] }. Under the same softmax rule a
// target may be a single integer, a class label turned one-hot.
//
// For the loss "hinge" every target must be −1 or 1.

import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { rangeText, toQ } from "../spec/format.js";
import { lineColumn, locateJson, type JsonPath } from "../spec/json_locate.js";
import type { Model } from "../spec/model.js";

export class DataError extends Error {
  override name = "DataError";
}

/** Rows of (input, target), as floats. */
export interface Dataset {
  inputs: number[][];
  targets: number[][];
}

/** What a data file must match: the model's shape, format, loss and last activation. */
export type DataShape = Pick<Model, "inputs" | "layers" | "format" | "loss">;

/** Whether a class label (one field, or a JSON number) stands for a one-hot target. */
export function takesLabels(model: DataShape): boolean {
  const last = model.layers[model.layers.length - 1];
  return last.activation === "softmax" && last.units >= 2;
}

function outputsOfShape(model: DataShape): number {
  return model.layers[model.layers.length - 1].units;
}

/** label k → [0, …, 1 at k, …, 0]. */
export function oneHot(label: number, classes: number): number[] {
  const target = new Array<number>(classes).fill(0);
  target[label] = 1;
  return target;
}

/** Reads a data file: `.json` (or text starting with `[` or `{`) as JSON, anything else as CSV. */
export async function loadDataFile(path: string, model: DataShape): Promise<Dataset> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new DataError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseData(text, path, model);
}

export function parseData(text: string, source: string, model: DataShape): Dataset {
  const body = text.replace(/^\uFEFF/, "");
  const ext = extname(source).toLowerCase();
  const looksJson = /^\s*[[{]/.test(body);
  if (ext === ".json" || (ext !== ".csv" && looksJson)) return parseJsonData(body, source, model);
  return parseCsvData(body, source, model);
}

// ---- Values ----

/** Decimal numbers only: no hex, no "Infinity", no empty field (Number("") is 0). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Why `value` cannot be an input or target of the model, or undefined if it can. */
function valueProblem(value: number, model: DataShape): string | undefined {
  if (!Number.isFinite(value)) return `${value} is not a finite number`;
  try {
    toQ(value, model.format.fracBits);
    return undefined;
  } catch {
    return `${value} is outside the range of ${rangeText(model.format.fracBits)}`;
  }
}

function targetProblem(value: number, model: DataShape): string | undefined {
  const problem = valueProblem(value, model);
  if (problem) return problem;
  if (model.loss.type === "hinge" && value !== 1 && value !== -1) return `${value} is not -1 or 1, as loss "hinge" needs`;
  return undefined;
}

function labelProblem(value: number, classes: number): string | undefined {
  if (!Number.isInteger(value) || value < 0 || value >= classes) {
    return `${value} is not a class label (an integer from 0 to ${classes - 1})`;
  }
  return undefined;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function preview(text: string): string {
  const shown = text.length > 24 ? `${text.slice(0, 23)}…` : text;
  return JSON.stringify(shown);
}

// ---- CSV ----

interface Field {
  text: string;
  /** 1-based column of the field's first non-space character (or where it would be). */
  column: number;
}

function splitFields(line: string): Field[] {
  const fields: Field[] = [];
  let start = 0;
  for (;;) {
    const comma = line.indexOf(",", start);
    const end = comma === -1 ? line.length : comma;
    const raw = line.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    fields.push({ text: raw.trim(), column: start + lead + 1 });
    if (comma === -1) return fields;
    start = comma + 1;
  }
}

export function parseCsvData(text: string, source: string, model: DataShape): Dataset {
  const outputs = outputsOfShape(model);
  const labels = takesLabels(model);
  const at = (line: number, column: number, problem: string) => new DataError(`${source}:${line}:${column}: ${problem}`);
  const expected = labels
    ? `${model.inputs} inputs and ${plural(outputs, "target")} (${model.inputs + outputs} fields) or ${model.inputs} inputs and a class label (${model.inputs + 1})`
    : `${model.inputs} inputs and ${plural(outputs, "target")} (${model.inputs + outputs} fields)`;

  const inputs: number[][] = [];
  const targets: number[][] = [];
  /** Fields per row, once the header or first row has decided. */
  let width: number | undefined;
  let widthFrom = "";
  let first = true;

  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].endsWith("\r") ? lines[n].slice(0, -1) : lines[n];
    if (line.trim() === "") continue;
    const lineNo = n + 1;
    const fields = splitFields(line);

    const chooseWidth = (count: number, what: string) => {
      if (count === model.inputs + outputs || (labels && count === model.inputs + 1)) {
        width = count;
        widthFrom = what;
        return;
      }
      const column = count > model.inputs + outputs ? fields[model.inputs + outputs].column : line.length + 1;
      throw at(lineNo, column, `has ${plural(count, "field")}; the model takes ${expected}`);
    };

    if (first) {
      first = false;
      if (!fields.some((f) => DECIMAL.test(f.text))) {
        chooseWidth(fields.length, `the header (line ${lineNo})`);
        continue;
      }
    }
    if (width === undefined) chooseWidth(fields.length, `line ${lineNo}`);
    if (fields.length !== width) {
      const column = fields.length > width! ? fields[width!].column : line.length + 1;
      throw at(lineNo, column, `has ${plural(fields.length, "field")}; ${widthFrom} has ${width}`);
    }

    const values = fields.map((f) => {
      if (!DECIMAL.test(f.text)) {
        throw at(lineNo, f.column, f.text === "" ? "empty field; expected a number" : `${preview(f.text)} is not a number`);
      }
      return Number(f.text);
    });
    for (let i = 0; i < model.inputs; i++) {
      const problem = valueProblem(values[i], model);
      if (problem) throw at(lineNo, fields[i].column, `input ${i + 1}: ${problem}`);
    }
    if (width === model.inputs + outputs) {
      for (let j = 0; j < outputs; j++) {
        const problem = targetProblem(values[model.inputs + j], model);
        if (problem) throw at(lineNo, fields[model.inputs + j].column, `target ${j + 1}: ${problem}`);
      }
      targets.push(values.slice(model.inputs));
    } else {
      const label = values[model.inputs];
      const problem = labelProblem(label, outputs);
      if (problem) throw at(lineNo, fields[model.inputs].column, `label: ${problem}`);
      targets.push(oneHot(label, outputs));
    }
    inputs.push(values.slice(0, model.inputs));
  }
  if (inputs.length === 0) throw new DataError(`${source}: no data rows`);
  return { inputs, targets };
}

// ---- JSON ----


class JsonProblem {
  constructor(
    readonly path: JsonPath,
    readonly problem: string,
  ) {}
}

function pathName(path: JsonPath): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").replace(/^\./, "") || "(root)";
}

export function parseJsonData(text: string, source: string, model: DataShape): Dataset {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const where = locateJson(text, undefined);
    const what = (e instanceof Error ? e.message : String(e))
      .replace(/\s*in JSON at position \d+.*$/s, "")
      .replace(/,\s*(\.\.\.)?"[\s\S]*" is not valid JSON$/, "")
      .replace(/\s+/g, " ")
      .trim();
    const position = where.stop ?? text.length;
    const { line, column } = lineColumn(text, position);
    throw new DataError(`${source}:${line}:${column}: not valid JSON: ${what}`);
  }
  try {
    return jsonRows(value, model);
  } catch (e) {
    if (!(e instanceof JsonProblem)) throw e;
    const position = locateJson(text, e.path).found ?? 0;
    const { line, column } = lineColumn(text, position);
    const field = e.path.length ? `${pathName(e.path)}: ` : "";
    throw new DataError(`${source}:${line}:${column}: ${field}${e.problem}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `a string ${preview(value)}`;
  return String(value);
}

const SHAPES = 'an array of { "input", "target" } rows or { "inputs", "targets" }';

function jsonRows(value: unknown, model: DataShape): Dataset {
  const pairs: { input: unknown; target: unknown; inputPath: JsonPath; targetPath: JsonPath }[] = [];
  if (Array.isArray(value)) {
    value.forEach((row, k) => {
      if (!isObject(row)) throw new JsonProblem([k], `is ${describeJson(row)}; expected a row { "input", "target" }`);
      for (const key of Object.keys(row)) {
        if (key !== "input" && key !== "target") throw new JsonProblem([k, key], `unknown field (a row has "input" and "target")`);
      }
      if (!("input" in row)) throw new JsonProblem([k], `missing "input"`);
      if (!("target" in row)) throw new JsonProblem([k], `missing "target"`);
      pairs.push({ input: row.input, target: row.target, inputPath: [k, "input"], targetPath: [k, "target"] });
    });
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      if (key !== "inputs" && key !== "targets") throw new JsonProblem([key], `unknown field; expected ${SHAPES}`);
    }
    const { inputs, targets } = value;
    if (!Array.isArray(inputs)) throw new JsonProblem("inputs" in value ? ["inputs"] : [], `"inputs" must be an array of rows`);
    if (!Array.isArray(targets)) throw new JsonProblem("targets" in value ? ["targets"] : [], `"targets" must be an array of rows`);
    if (inputs.length !== targets.length) {
      throw new JsonProblem(["targets"], `has ${plural(targets.length, "row")}; "inputs" has ${inputs.length}`);
    }
    inputs.forEach((input, k) => pairs.push({ input, target: targets[k], inputPath: ["inputs", k], targetPath: ["targets", k] }));
  } else {
    throw new JsonProblem([], `is ${describeJson(value)}; expected ${SHAPES}`);
  }
  if (pairs.length === 0) throw new JsonProblem([], "has no rows");

  const outputs = outputsOfShape(model);
  const labels = takesLabels(model);
  const numbers = (raw: unknown, path: JsonPath, length: number, what: string, check: (v: number) => string | undefined) => {
    if (!Array.isArray(raw)) throw new JsonProblem(path, `is ${describeJson(raw)}; expected an array of ${length} numbers`);
    if (raw.length !== length) throw new JsonProblem(path, `has ${plural(raw.length, "value")}; the model takes ${length} ${what}`);
    raw.forEach((v, i) => {
      if (typeof v !== "number") throw new JsonProblem([...path, i], `is ${describeJson(v)}; expected a number`);
      const problem = check(v);
      if (problem) throw new JsonProblem([...path, i], problem);
    });
    return (raw as number[]).slice();
  };

  const data: Dataset = { inputs: [], targets: [] };
  for (const pair of pairs) {
    data.inputs.push(numbers(pair.input, pair.inputPath, model.inputs, "inputs", (v) => valueProblem(v, model)));
    if (labels && typeof pair.target === "number") {
      const problem = labelProblem(pair.target, outputs);
      if (problem) throw new JsonProblem(pair.targetPath, problem);
      data.targets.push(oneHot(pair.target, outputs));
    } else {
      data.targets.push(numbers(pair.target, pair.targetPath, outputs, "outputs", (v) => targetProblem(v, model)));
    }
  }
  return data;
}

