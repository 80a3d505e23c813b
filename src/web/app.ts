// The script of the page `qfirm page` writes. In the browser it trains the spec's
// sample with the module's own train_step, and the float64 reference (src/reference)
// beside it from the same starting weights, plotting both losses as they go; then it
// shows the final output of each and hands the raw losses to whoever drives the page:
// `#losses` gets the i32 losses train_step returned, space-separated, and
// document.title becomes "done" ("error" if anything failed, with the message shown).
//
// Bundled with qfirm/browser into one script (dist/web/app.js, `npm run build`) that
// the page holds inline: no request leaves the page, and it works from file://.

import { Firmware, fromQ, reference, type LayerWeights, type Manifest, type Model } from "../browser.js";
import { lineChartSvg } from "../train/svg.js";

/** What the page hands the script, as JSON in #qfirm-config. */
export interface PageConfig {
  /** The module's bytes, base64. */
  wasm: string;
  manifest: Manifest;
  /** The parsed spec; its `sample` is what trains. */
  model: Model;
  steps: number;
}

function bytesOf(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** The next frame, so the plot shows while training runs (or a moment later where frames are paused). */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    requestAnimationFrame(() => resolve());
    setTimeout(resolve, 100);
  });
}

function plot(model: Model, fixed: number[], float: number[]): string {
  const svg = lineChartSvg({
    title: `${model.name}: loss per training step`,
    xLabel: "step",
    yLabel: "loss before the step",
    series: [
      { name: "fixed-point module", values: fixed, color: "#d62728" },
      { name: "float64 reference", values: float, color: "#1f77b4", dash: "6 4" },
    ],
  });
  return svg.replace(/^<\?xml[^>]*>\s*/, "");
}

function shown(value: number): string {
  return value === 0 ? "0" : String(Number(value.toPrecision(6)));
}

function cell(row: HTMLTableRowElement, text: string, value?: number): void {
  const td = row.insertCell();
  td.textContent = text;
  if (value !== undefined) td.dataset.value = String(value);
}

async function run(): Promise<void> {
  const config = JSON.parse(element("qfirm-config").textContent ?? "") as PageConfig;
  const { manifest, model, steps } = config;
  const sample = model.sample;
  if (!sample) throw new Error("the spec has no sample to train");

  const firmware = await Firmware.load(bytesOf(config.wasm), manifest);
  firmware.setInput(sample.input);
  firmware.setTarget(sample.target);
  let params: LayerWeights[] = firmware.params(); // the reference starts from the module's own weights
  const optimizer = new reference.Optimizer(model); // kept across steps, as the module keeps its state
  const trainStep = firmware.exports.train_step;
  const lossFormat = manifest.loss;
  if (!trainStep || !lossFormat) throw new Error("the module does not train (built with training \"none\")");

  const raw: number[] = [];
  const fixed: number[] = [];
  const float: number[] = [];
  const chart = element("plot");
  const status = element("status");
  const perFrame = Math.max(1, Math.ceil(steps / 60));
  for (let step = 0; step < steps; ) {
    for (const end = Math.min(steps, step + perFrame); step < end; step++) {
      const q = trainStep();
      raw.push(q);
      fixed.push(fromQ(q, lossFormat.fracBits));
      const next = reference.trainStep(model, params, sample.input, sample.target, optimizer);
      float.push(next.loss);
      params = next.params;
    }
    chart.innerHTML = plot(model, fixed, float);
    status.textContent = `step ${step} of ${steps}: loss ${shown(fixed[step - 1])} (module), ${shown(float[step - 1])} (float64)`;
    await nextFrame();
  }

  firmware.forward();
  const moduleOutput = firmware.output();
  const floatOutput = reference.forward(model, params, sample.input).a[model.layers.length - 1];
  const lsb = 2 ** -manifest.format.fracBits;
  const body = element<HTMLTableElement>("outputs").tBodies[0];
  moduleOutput.forEach((value, j) => {
    const row = body.insertRow();
    cell(row, `ŷ${moduleOutput.length > 1 ? `[${j}]` : ""}`);
    cell(row, String(sample.target[j]), sample.target[j]);
    cell(row, value.toPrecision(9), value);
    cell(row, floatOutput[j].toPrecision(9), floatOutput[j]);
    cell(row, ((value - floatOutput[j]) / lsb).toFixed(1));
  });
  element("losses").textContent = raw.join(" ");
  document.title = "done";
}

run().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const shown = document.getElementById("error");
  if (shown) shown.textContent = `error: ${message}`;
  document.title = "error";
});
