// The page `qfirm page` writes: one HTML file holding everything it needs inline (the
// module as base64, the manifest, the parsed spec, and the script bundled from
// src/web/app.ts with qfirm/browser), so it opens from file:// with no server, no
// build step and no request. Its Content-Security-Policy allows nothing to be
// fetched: only the inline script, inline styles and compiling the inline module.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Built } from "../build/build.js";
import { ROOT } from "../build/compile.js";
import { formatName } from "../spec/format.js";
import { outputsOf, type Model } from "../spec/model.js";
import type { PageConfig } from "./app.js";

export const DEFAULT_PAGE_STEPS = 200;

/** The page's script: src/web/app.ts bundled for browsers by `npm run build`. */
export const PAGE_SCRIPT = join(ROOT, "dist", "web", "app.js");

export async function pageScript(): Promise<string> {
  if (!existsSync(PAGE_SCRIPT)) throw new Error(`${PAGE_SCRIPT} is missing; run \`npm run build\` in ${ROOT}`);
  return readFile(PAGE_SCRIPT, "utf8");
}

const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'";

const STYLE = `
  body { font: 15px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 680px; padding: 0 16px; color: #222; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  .meta { color: #555; margin: 0 0 12px; }
  #status { font-variant-numeric: tabular-nums; min-height: 1.45em; }
  #plot svg { width: 100%; height: auto; border: 1px solid #ddd; }
  table { border-collapse: collapse; margin: 12px 0; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 12px; text-align: right; border-bottom: 1px solid #e4e4e4; }
  th:first-child, td:first-child { text-align: left; }
  #error { color: #b00020; white-space: pre-wrap; }
  details pre { white-space: pre-wrap; word-break: break-all; font-size: 12px; }
  footer { color: #777; font-size: 13px; margin-top: 16px; }
`;

function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON that can sit inside a <script> element: no "<" to end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export interface PageOptions {
  /** train_step calls. */
  steps: number;
  /** The bundled script (pageScript()). */
  script: string;
}

/** The page for `model`, built as `built` (a module with the spec's sample). */
export function renderPage(model: Model, built: Built, options: PageOptions): string {
  if (!model.sample) throw new Error(`${model.name}: the spec has no sample to train`);
  if (/<\/script/i.test(options.script)) throw new Error("the page script holds </script; it cannot be inlined");
  const config: PageConfig = {
    wasm: Buffer.from(built.wasm).toString("base64"),
    manifest: built.manifest,
    model,
    steps: options.steps,
  };
  const shape = [model.inputs, ...model.layers.map((l) => l.units)].join("-");
  const activations = model.layers.map((l) => l.activation).join(", ");
  const meta = [
    `${shape} (${activations})`,
    `${formatName(model.format)}`,
    `loss ${model.loss.type}`,
    `learning rate ${model.learningRate}`,
    `module ${built.wasm.length.toLocaleString("en-US")} bytes`,
    `${options.steps} steps of train_step on the spec's sample`,
  ].join(" · ");
  const outputs = outputsOf(model);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>qfirm: ${escapeHtml(model.name)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(model.name)}, trained in this browser</h1>
<p class="meta">${escapeHtml(meta)}</p>
<p id="status">loading the module…</p>
<p id="error"></p>
<div id="plot"></div>
<table id="outputs">
<caption>after training: the sample's output${outputs > 1 ? "s" : ""}</caption>
<thead><tr><th></th><th>target</th><th>module</th><th>float64</th><th>module − float64 (LSBs)</th></tr></thead>
<tbody></tbody>
</table>
<details><summary>the module's losses as train_step returned them (raw i32)</summary><pre id="losses"></pre></details>
<footer>Made by <code>qfirm page</code>: the fixed-point WebAssembly module and the float64 reference run here, from this file alone; nothing is fetched.</footer>
<script type="application/json" id="qfirm-config">${scriptJson(config)}</script>
<script>
${options.script}
</script>
</body>
</html>
`;
}
