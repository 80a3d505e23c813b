// qfirm page: one self-contained HTML page that trains the spec's sample in a browser.

import type { Command } from "commander";
import { checkOutputs, writeFiles } from "../build/artifacts.js";
import { buildModel } from "../build/build.js";
import { DEFAULT_PAGE_STEPS, pageScript, renderPage } from "../web/page.js";
import { loadSpec, parseCount, UsageError } from "./usage.js";

export function registerPage(cli: Command): void {
  cli
    .command("page")
    .description("write one self-contained HTML page that trains SPEC's sample in a browser")
    .argument("<spec>", "the model's JSON spec (with a sample)")
    .requiredOption("--out <file>", "the page to write (FILE.html)")
    .option("--steps <n>", "train_step calls", parseCount(1, 100_000), DEFAULT_PAGE_STEPS)
    .option("--force", "replace an existing --out file")
    .action(async (specPath: string, options: { out: string; steps: number; force?: boolean }) => {
      const model = await loadSpec(specPath);
      if (!model.sample) throw new UsageError(`${specPath}: the spec has no "sample"; the page trains it`);
      if (model.training === "none") throw new UsageError(`${specPath}: "training" is "none"; the page trains the sample, so give the spec "full" or "lean"`);
      const writing = { inputs: [specPath], force: options.force };
      checkOutputs([{ path: options.out, kind: "file", option: "--out" }], writing);
      const script = await pageScript();
      const built = await buildModel(model, "web");
      const page = renderPage(model, built, { steps: options.steps, script });
      await writeFiles({ [options.out]: page }, writing);
      console.log(`wrote ${options.out} (${Buffer.byteLength(page).toLocaleString("en-US")} bytes): ${model.name} trains its sample for ${options.steps} steps in the browser`);
    });
}
