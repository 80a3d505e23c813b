// The browser: `qfirm/browser` (src/browser.ts) imports no Node built-in, and the page
// `qfirm page` writes trains in headless Chromium exactly as the module does in Node.
//
// - The entry is bundled for browsers with esbuild, which cannot resolve a Node
//   built-in there: a clean bundle whose inputs hold no `node:` module is the proof.
// - The page runs in Debian's Chromium (/usr/bin/chromium, or QFIRM_CHROMIUM), driven
//   by playwright-core pointed at it (no browser is downloaded), from file://. Its raw
//   i32 losses must equal those of the same module driven in Node, bit for bit; its
//   float64 column must equal src/reference run here, for plain SGD and for Adam with
//   a decay (whose reference optimizer keeps its moments across steps). With
//   QFIRM_UPDATE_SCREENSHOT=1 the run rewrites docs/page.png, the screenshot the README
//   shows. Without Chromium the test skips with one line;
//   under QFIRM_REQUIRE_RUNTIMES=1 it fails instead.

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { Firmware } from "../src/run/driver.js";
import { trainStep, forward } from "../src/reference/network.js";
import { Optimizer } from "../src/reference/optimizer.js";
import { fromQ } from "../src/spec/format.js";
import type { LayerWeights } from "../src/spec/model.js";
import { parseSpecText } from "../src/spec/spec.js";
import type { PageConfig } from "../src/web/app.js";
import { expectOneLineFailure, ROOT, runQfirm } from "./support/cli.js";

const EXAMPLE = join(ROOT, "examples", "documented-example.json");
const SCREENSHOT = join(ROOT, "docs", "page.png");
/** The README's screenshot is rewritten only when asked, so a test run leaves the tree clean. */
const UPDATE_SCREENSHOT = process.env.QFIRM_UPDATE_SCREENSHOT === "1";
const CHROMIUM = process.env.QFIRM_CHROMIUM ?? "/usr/bin/chromium";
const REQUIRE = process.env.QFIRM_REQUIRE_RUNTIMES === "1";
const STEPS = 200;
const TEST_TIMEOUT_MS = 180_000;

/** The flags the page test runs Chromium with: headless, nothing it would reach out for. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "qfirm-browser-test-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("qfirm/browser", () => {
  it("bundles for the browser with no Node built-in in its import graph", async () => {
    for (const entry of ["src/browser.ts", "src/web/app.ts"]) {
      const result = await build({
        entryPoints: [join(ROOT, entry)],
        bundle: true,
        platform: "browser",
        format: "esm",
        write: false,
        metafile: true,
        logLevel: "silent",
      });
      expect(result.errors, entry).toEqual([]);
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.filter((path) => path.startsWith("node:") || /(^|\/)(fs|path|url|crypto|module|os|child_process)$/.test(path)), entry).toEqual([]);
      // What it holds: the driver, the format conversion and the reference; never the compiler.
      expect(inputs.some((path) => path.endsWith("src/run/driver.ts")), entry).toBe(true);
      expect(inputs.some((path) => path.endsWith("src/spec/format.ts")), entry).toBe(true);
      expect(inputs.some((path) => path.endsWith("src/reference/network.ts")), entry).toBe(true);
      expect(inputs.filter((path) => /binaryen|assemblyscript\/dist|src\/build\/compile|ajv/.test(path)), entry).toEqual([]);
    }
  });

  it("is the package's ./browser export, built", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
    expect(pkg.exports["./browser"]).toEqual({ types: "./dist/src/browser.d.ts", default: "./dist/src/browser.js" });
    expect(existsSync(join(ROOT, "dist", "src", "browser.js"))).toBe(true);
  });
});

describe("qfirm page", () => {
  it("refuses a spec without a sample, an existing page without --force, and its own spec as --out", async () => {
    const spec = JSON.parse(await readFile(EXAMPLE, "utf8"));
    delete spec.sample;
    const noSample = join(tmp, "no-sample.json");
    await writeFile(noSample, JSON.stringify(spec));
    expect(expectOneLineFailure(await runQfirm(["page", noSample, "--out", join(tmp, "a.html")]))).toBe(
      `qfirm: ${noSample}: the spec has no "sample"; the page trains it`,
    );
    const existing = join(tmp, "existing.html");
    await writeFile(existing, "mine\n");
    expect(expectOneLineFailure(await runQfirm(["page", EXAMPLE, "--out", existing]))).toBe(`qfirm: --out ${existing}: exists; give --force to replace it`);
    expect(await readFile(existing, "utf8")).toBe("mine\n");
    expect(expectOneLineFailure(await runQfirm(["page", EXAMPLE, "--out", EXAMPLE, "--force"]))).toBe(
      `qfirm: --out ${EXAMPLE}: is an input of this command; write elsewhere`,
    );
    expect(existsSync(join(tmp, "a.html"))).toBe(false);
  }, TEST_TIMEOUT_MS);

  // The documented example (plain SGD; its run makes the README's screenshot), and Adam
  // with a decay and a frozen layer, whose float64 column needs one reference optimizer
  // kept across steps, as the page keeps it.
  const adamSpec = async (): Promise<string> => {
    const spec = JSON.parse(await readFile(EXAMPLE, "utf8"));
    const path = join(tmp, "adam.json");
    const optimizer = { type: "adam", learningRate: 0.05, decay: { type: "exponential", rate: 0.5, steps: 100 } };
    await writeFile(path, JSON.stringify({ ...spec, name: "adam-example", optimizer, layers: [{ ...spec.layers[0], trainable: false }, spec.layers[1]] }));
    return path;
  };
  it.for([
    ["documented-example", async () => EXAMPLE, true],
    ["adam-example", adamSpec, false],
  ] as const)(`%s: trains the sample for ${STEPS} steps in headless Chromium, losses equal to Node's bit for bit`, { timeout: TEST_TIMEOUT_MS }, async ([name, specPath, screenshot], { skip }) => {
    if (!existsSync(CHROMIUM)) {
      if (REQUIRE) throw new Error(`QFIRM_REQUIRE_RUNTIMES=1: no Chromium at ${CHROMIUM} (apt-get install chromium, or set QFIRM_CHROMIUM)`);
      console.warn(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set QFIRM_CHROMIUM)`);
      skip();
    }
    const spec = await specPath();
    const page = join(tmp, `${name}.html`);
    const run = await runQfirm(["page", spec, "--out", page]); // --steps defaults to 200
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^wrote ${page} \\([\\d,]+ bytes\\): ${name} trains its sample for ${STEPS} steps in the browser\\n$`));

    // The same module in Node: the page's bytes are the in-process build's.
    const html = await readFile(page, "utf8");
    const config = JSON.parse(/<script type="application\/json" id="qfirm-config">(.*?)<\/script>/s.exec(html)![1]) as PageConfig;
    const model = parseSpecText(await readFile(spec, "utf8"));
    const built = await buildModel(model, "web");
    expect(Buffer.from(config.wasm, "base64").equals(Buffer.from(built.wasm))).toBe(true);
    expect(config.steps).toBe(STEPS);
    const firmware = await Firmware.load(built.wasm, built.manifest);
    firmware.setInput(model.sample!.input);
    firmware.setTarget(model.sample!.target);
    let params: LayerWeights[] = firmware.params();
    const optimizer = new Optimizer(model);
    const nodeLosses: number[] = [];
    const floatLosses: number[] = [];
    for (let k = 0; k < STEPS; k++) {
      nodeLosses.push(firmware.exports.train_step!());
      const next = trainStep(model, params, model.sample!.input, model.sample!.target, optimizer);
      floatLosses.push(next.loss);
      params = next.params;
    }
    firmware.forward();
    const nodeOutput = firmware.output();
    const floatOutput = forward(model, params, model.sample!.input).a[model.layers.length - 1];

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }); // a fresh profile in a temporary folder
    try {
      const tab = await browser.newPage({ viewport: { width: 760, height: 600 } });
      const requests: string[] = [];
      tab.on("request", (request) => requests.push(request.url()));
      await tab.goto(pathToFileURL(page).href);
      await tab.waitForFunction(() => document.title === "done" || document.title === "error", null, { timeout: 60_000 });
      expect(await tab.textContent("#error")).toBe("");
      expect(await tab.title()).toBe("done");

      const losses = (await tab.textContent("#losses"))!.split(" ").map(Number);
      expect(losses).toHaveLength(STEPS);
      expect(losses).toEqual(nodeLosses);

      // The float64 column is src/reference's, and the module's output is Node's.
      const cells = await tab.$$eval("#outputs tbody td[data-value]", (tds) => tds.map((td) => Number((td as HTMLElement).dataset.value)));
      expect(cells).toEqual([model.sample!.target[0], nodeOutput[0], floatOutput[0]]);
      // And the module learned what float64 learned: every step's loss within 1e-6 of the reference's.
      const worst = Math.max(...losses.map((q, k) => Math.abs(fromQ(q, built.manifest.loss!.fracBits) - floatLosses[k])));
      expect(worst).toBeLessThan(1e-6);
      expect(floatLosses[STEPS - 1]).toBeLessThan(floatLosses[0] / 100);

      // Nothing was fetched: the page itself is the only request.
      expect(requests).toEqual([pathToFileURL(page).href]);
      if (screenshot) {
        const png = await tab.screenshot({ fullPage: true, ...(UPDATE_SCREENSHOT ? { path: SCREENSHOT } : {}) });
        expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
      }
    } finally {
      await browser.close();
    }
  });
});
