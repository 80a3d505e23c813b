// qfirm lut-error: the table activations' and softmax's measured error.

import type { Command } from "commander";
import { measureLut, measureSoftmax } from "../check/lut_error.js";
import { parseFormat } from "../spec/format.js";
import { DEFAULT_FORMAT, DEFAULT_LUT, parseSpec, SpecError } from "../spec/spec.js";
import { num, renderTable } from "./table.js";
import { UsageError } from "./usage.js";

export function registerLutError(cli: Command): void {
  cli
    .command("lut-error")
    .description("maximum error of the table sigmoid and tanh against Math over a dense sweep")
    .option("--format <qI.F>", "the values' format", DEFAULT_FORMAT)
    .option("--entries <n>", "table entries", (v) => Number.parseInt(v, 10), DEFAULT_LUT.entries)
    .option("--range <x>", "the table spans tanh on [0, range]", Number.parseFloat, DEFAULT_LUT.range)
    .action(async (options: { format: string; entries: number; range: number }) => {
      const format = parseFormat(options.format);
      if (typeof format === "string") throw new UsageError(`--format: ${format}`);
      // The same rules as a spec's lut.
      const spec = { name: "lut", format: options.format, inputs: 1, layers: [{ units: 1, activation: "tanh" }], init: { seed: 0 }, lut: { entries: options.entries, range: options.range } };
      try {
        parseSpec(spec);
      } catch (error) {
        if (error instanceof SpecError) throw new UsageError(`--${error.path.replace(/^lut\./, "")}: ${error.problem}`);
        throw error;
      }
      const lut = { entries: options.entries, range: options.range };
      const result = { ...(await measureLut(format.fracBits, lut)), "softmax (exp)": await measureSoftmax(format.fracBits) };
      console.log(`table: ${lut.entries} entries of tanh over [0, ${lut.range}] (${lut.entries * 4} bytes), values ${options.format}`);
      const rows = (["sigmoid", "tanh", "softmax (exp)"] as const).map((name) => {
        const r = result[name];
        return [name, r.maxError.toExponential(2), r.lsbs.toFixed(2), num(r.at), r.monotonic ? "yes" : "NO", String(r.points)];
      });
      console.log(renderTable(["function", "max |error|", "LSBs", "at x", "monotonic", "points"], rows));
      console.log("softmax (exp): the first of softmax(x, 0), which is σ(x), against Math; no table parameters apply");
    });
}
