// The README's "On a microcontroller" table: qfirm emulate on three models and two
// boards. `npm run mcu` (QFIRM_RUNTIMES set, arm-none-eabi-gcc and qemu-system-arm
// installed). Each model trains on one real row of its data set.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import { BoardRunError, BOARDS, emulate, EMULATE_RUNTIMES, type EmulateResult } from "../src/mcu/emulate.js";
import type { Model } from "../src/spec/model.js";
import { parseSpecText } from "../src/spec/spec.js";
import { loadIris, loadMnist } from "../src/train/datasets.js";

const STEPS = 10;
const BOARD_NAMES = ["mps2-an386", "lm3s6965evb"];
/** The estimate's clock: one instruction per cycle at this rate. */
const CLOCK_HZ = 100e6;

const example = (file: string): Model => parseSpecText(readFileSync(join(ROOT, "examples", file), "utf8"), file);

function models(): { label: string; model: Model }[] {
  const iris = loadIris();
  const mnist = loadMnist(1);
  return [
    { label: "documented example (3-2-1, sigmoid, l2)", model: example("documented-example.json") },
    { label: "Iris (4-8-3, tanh, softmax + cross-entropy), first row", model: { ...example("iris.json"), sample: { input: iris.inputs[0], target: iris.targets[0] } } },
    { label: "MNIST (784-32-10, tanh, softmax + cross-entropy), first digit", model: { ...example("mnist.json"), sample: { input: mnist.inputs[0], target: mnist.targets[0] } } },
  ];
}

const n = (x: number) => x.toLocaleString("en-US");

function row(label: string, board: string, r: EmulateResult): string[] {
  const total = r.ram.static + r.ram.heapPeak + r.ram.stackPeak;
  const ms = (r.instructionsPerStep / CLOCK_HZ) * 1000;
  return [
    label, board, r.runtime, n(r.flash), n(r.ram.static), `${n(r.ram.heapPeak)} (${n(r.linearMemory)})`, n(r.ram.stackPeak), n(total),
    n(r.instructionsPerStep), ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(1)} ms`,
  ];
}

async function main(): Promise<void> {
  const header = [
    "model", "board", "runtime", "flash (bytes)", "RAM static", "heap peak (linear memory)", "stack peak", "RAM total",
    "instructions / train_step", "per step at 100 MHz (estimate)",
  ];
  const rows: string[][] = [];
  for (const { label, model } of models()) {
    for (const board of BOARD_NAMES) {
      const boardLabel = `${board} (${BOARDS[board].cpu}, ${n(BOARDS[board].ram.bytes / 1024)} KiB RAM)`;
      for (const runtime of EMULATE_RUNTIMES) {
        process.stderr.write(`${model.name} on ${board} under ${runtime}…\n`);
        try {
          rows.push(row(label, boardLabel, await emulate(model, { board, runtime, steps: STEPS })));
        } catch (error) {
          if (!(error instanceof BoardRunError)) throw error;
          const { manifest } = await buildModel(model);
          const why = `does not fit: ${n(manifest.memory.bytesUsed)} bytes of linear memory alone (${error.message.replace(/^.*?: /, "")})`;
          rows.push([label, boardLabel, runtime, why, "", "", "", "", "", ""]);
        }
      }
    }
  }
  console.log(`| ${header.join(" | ")} |`);
  console.log(`| ${header.map((_, i) => (i < 3 ? "---" : "---:")).join(" | ")} |`);
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  console.log(`\n${STEPS} train_step calls each; instructions are the mean of steps 2-${STEPS} (QEMU -icount), not cycles.`);
}

await main();
