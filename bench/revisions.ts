// `npm run bench:revisions -- REV [REV …] [--case NAME] [--rounds N]`: the mcu module
// as other commits generate it, against this checkout's, in wasm3 and WAMR's fast and
// classic interpreters, in one interleaved run (the bench's own engines run this
// checkout only, so a kernel change's gain over an older commit is measured here).
// Each REV is exported with `git archive` into the qfirm cache, compiled there with
// this checkout's tsc, and its generator bakes the bench's rows (bakedModule).

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ROOT } from "../src/build/compile.js";
import { cacheRoot } from "../src/mcu/runtimes.js";
import { bakedModule, interpreterRate, interpreters, rowsPerCall, type Generator } from "./interpreters.js";
import { benchModels } from "./models.js";

const USAGE = "usage: npm run bench:revisions -- REV [REV ...] [--case NAME] [--rounds N]";
const SECONDS = 1;

function fail(message: string): never {
  process.stderr.write(`bench:revisions: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function git(args: string[]): string {
  return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** REV's sources, compiled, in the cache (once per commit). */
function checkout(rev: string): { sha: string; dir: string } {
  let sha: string;
  try {
    sha = git(["rev-parse", "--verify", `${rev}^{commit}`]);
  } catch {
    fail(`${rev}: not a commit of this repository`);
  }
  const dir = join(cacheRoot(), "bench-revisions", sha);
  if (existsSync(join(dir, "dist", "src", "build", "codegen.js"))) return { sha, dir };
  mkdirSync(join(cacheRoot(), "bench-revisions"), { recursive: true });
  const partial = mkdtempSync(join(cacheRoot(), "bench-revisions", `${sha.slice(0, 12)}-`));
  execFileSync("sh", ["-c", `git archive ${sha} | tar -x -C '${partial}'`], { cwd: ROOT, stdio: "inherit" });
  symlinkSync(join(ROOT, "node_modules"), join(partial, "node_modules"));
  execFileSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: partial, stdio: "inherit" });
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return { sha, dir };
}

async function generatorOf(dir: string): Promise<Generator> {
  const load = (file: string) => import(pathToFileURL(join(dir, "dist", "src", "build", file)).href);
  return { generateEntry: (await load("codegen.js")).generateEntry, compileModule: (await load("compile.js")).compileModule };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { case: { type: "string" }, rounds: { type: "string" } }, allowPositionals: true });
  if (positionals.length === 0) fail("name at least one revision");
  const rounds = Number(values.rounds ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds ${values.rounds}: not a whole number ≥ 1`);
  const bench = benchModels().find((m) => m.name === (values.case ?? "mnist-dense"));
  if (!bench) fail(`--case ${values.case}: no such bench model (${benchModels().map((m) => m.name).join(", ")})`);
  const found = await interpreters();
  if (typeof found === "string") fail(found);

  const scratch = mkdtempSync(join(tmpdir(), "qfirm-revisions-"));
  const modules: { label: string; path: string }[] = [];
  for (const rev of positionals) {
    const { sha, dir } = checkout(rev);
    const out = join(scratch, sha);
    mkdirSync(out);
    modules.push({ label: `${rev} (${sha.slice(0, 7)})`, path: await bakedModule(bench, out, await generatorOf(dir)) });
  }
  const here = join(scratch, "here");
  mkdirSync(here);
  modules.push({ label: "this checkout", path: await bakedModule(bench, here) });

  const rows = rowsPerCall(bench);
  console.log(`${bench.name}: train_samples(${rows}) samples per second, best of ${rounds} interleaved rounds (÷ the first)\n`);
  console.log(`| interpreter | ${modules.map((m) => m.label).join(" | ")} |`);
  console.log(`| --- | ${modules.map(() => "---:").join(" | ")} |`);
  for (const interpreter of found) {
    const best = modules.map(() => 0);
    for (let round = 0; round < rounds; round++) {
      modules.forEach((m, k) => {
        best[k] = Math.max(best[k], interpreterRate(interpreter, m.path, rows, SECONDS));
      });
    }
    const cells = best.map((rate) => `${Math.round(rate).toLocaleString("en-US")} (${(rate / best[0]).toFixed(2)}×)`);
    console.log(`| ${interpreter.name} | ${cells.join(" | ")} |`);
  }
  rmSync(scratch, { recursive: true, force: true });
}

await main();
