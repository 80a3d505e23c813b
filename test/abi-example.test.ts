// docs/abi.md's complete host example, as printed there, compiled with the README's
// CMake snippet against wasm3 and with the system C compiler against WAMR: it runs,
// its losses and output are V8's, and its output is the one docs/abi.md shows.

import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildModel, type Built } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import { renderHeader } from "../src/build/header.js";
import { exec, execOk } from "../src/mcu/exec.js";
import { hostFiles, type Host } from "../src/mcu/host.js";
import { hostRuntime, runtimeSource } from "../src/mcu/runtimes.js";
import { parseSpecText } from "../src/spec/spec.js";
import { describeWith } from "./support/runtimes.js";

/** The text between a marker line and the next fenced block's end. */
function fencedAfter(text: string, marker: string): string {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker ${marker} not found`);
  const block = /```\w*\n([\s\S]*?)```/.exec(text.slice(at));
  if (!block) throw new Error(`no fenced block after ${marker}`);
  return block[1];
}

const ABI = readFileSync(join(ROOT, "docs", "abi.md"), "utf8");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const EXAMPLE_C = fencedAfter(ABI, "<!-- example: main.c -->");
const CMAKE_SNIPPET = fencedAfter(README, "<!-- cmake: host library -->");
const SHOWN_OUTPUT = fencedAfter(ABI, "Its output (the same with wasm3 and WAMR):");

describeWith({ runtimes: ["wasm3", "wamr"], tools: [["cc", "gcc"], ["cmake", "cmake"]] }, "docs/abi.md's host example", () => {
  let dir: string;
  let built: Built;

  /** A project folder: main.c from docs/abi.md and fw/ as `qfirm build --host` writes it. */
  async function project(host: Host): Promise<string> {
    const project = join(dir, host);
    await mkdir(join(project, "fw"), { recursive: true });
    await writeFile(join(project, "main.c"), EXAMPLE_C);
    await writeFile(join(project, "fw", "model.h"), renderHeader(built.manifest, built.wasm));
    for (const [name, text] of Object.entries(hostFiles(host))) await writeFile(join(project, "fw", name), text);
    return project;
  }

  /** What the example must print: V8's losses at steps 0, 10, … 40 and its output after them. */
  async function expectV8(stdout: string): Promise<void> {
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(built.wasm), {});
    const e = instance.exports as Record<string, (() => number) | WebAssembly.Memory>;
    const losses = Array.from({ length: 50 }, () => (e.train_step as () => number)());
    (e.forward as () => number)();
    const output = new Int32Array((e.memory as WebAssembly.Memory).buffer)[built.manifest.buffers.output / 4] / 2 ** 24;
    const printed = [...stdout.matchAll(/^step (\d+): loss (-?\d+) /gm)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(printed).toEqual([0, 10, 20, 30, 40].map((k) => [k, losses[k]]));
    const out = /^output (-?[\d.]+), target 0\.61$/m.exec(stdout);
    expect(out, stdout).not.toBeNull();
    expect(Math.abs(Number(out![1]) - output)).toBeLessThanOrEqual(5e-7);
    expect(stdout).toBe(SHOWN_OUTPUT);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qfirm-abi-example-"));
    built = await buildModel(parseSpecText(readFileSync(join(ROOT, "examples", "documented-example.json"), "utf8")));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("builds with the README's CMake snippet against wasm3, and prints V8's losses", async () => {
    const root = await project("wasm3");
    await writeFile(join(root, "CMakeLists.txt"), `cmake_minimum_required(VERSION 3.13)\nproject(example C)\nadd_executable(firmware main.c)\n${CMAKE_SNIPPET}`);
    await execOk("cmake", ["-S", root, "-B", join(root, "build"), `-DWASM3_DIR=${runtimeSource("wasm3")}`]);
    await execOk("cmake", ["--build", join(root, "build"), "-j", "2"]);
    const run = await exec(join(root, "build", "firmware"), []);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await expectV8(run.stdout);
  });

  it("builds against WAMR (-DQFIRM_USE_WAMR), and prints V8's losses", async () => {
    const root = await project("wamr");
    const wamr = await hostRuntime("wamr-fast");
    await execOk("cc", [
      "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-DQFIRM_USE_WAMR", "-I", join(root, "fw"), ...wamr.include.flatMap((i) => ["-I", i]),
      join(root, "main.c"), join(root, "fw", "qfirm_wamr.c"), "-o", join(root, "firmware"), ...wamr.link,
    ]);
    const run = await exec(join(root, "firmware"), []);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    await expectV8(run.stdout);
  });
});
