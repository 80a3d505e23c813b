// The runtimes from QFIRM_RUNTIMES, built out of tree into the cache: their own
// command lines (wasm3's REPL, WAMR's iwasm, fast and classic) run a module's
// train_step and give V8's losses bit for bit; a second request comes from the
// cache; two processes building at once both get a complete build.

import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { ROOT } from "../src/build/compile.js";
import { exec, ToolchainError } from "../src/mcu/exec.js";
import { cacheRoot, cachedBuild, HOST_RUNTIMES, hostRuntime, runtimeSource } from "../src/mcu/runtimes.js";
import { parseSpecText } from "../src/spec/spec.js";
import { describeWith } from "./support/runtimes.js";

const STEPS = 20;

describe("the build cache", () => {
  it("keeps the other process's build when it lands first, and leaves nothing half-built", async () => {
    const cache = await mkdtemp(join(tmpdir(), "qfirm-cache-"));
    const env = { QFIRM_CACHE: cache };
    let final = "";
    const dir = await cachedBuild("race", ["a"], async (temp) => {
      await writeFile(join(temp, "ours"), "");
      // Another process renames its complete build into place meanwhile.
      final = join(cache, readdirSync(cache).find((n) => n.endsWith(".lock"))!.replace(/\.lock$/, ""));
      await mkdir(final);
      await writeFile(join(final, "theirs"), "");
    }, env);
    expect(dir).toBe(final);
    expect(readdirSync(dir)).toEqual(["theirs"]);
    expect(readdirSync(cache)).toEqual([basename(final)]);
    await rm(cache, { recursive: true, force: true });
  });

  it("builds once per key: other flags make another build, the same key none", async () => {
    const cache = await mkdtemp(join(tmpdir(), "qfirm-cache-"));
    const env = { QFIRM_CACHE: cache };
    let calls = 0;
    const build = (text: string) => async (d: string) => {
      calls++;
      await writeFile(join(d, "x"), text);
    };
    const a = await cachedBuild("k", ["flags", 1], build("1"), env);
    const b = await cachedBuild("k", ["flags", 2], build("2"), env);
    const c = await cachedBuild("k", ["flags", 1], build("3"), env);
    expect(a).not.toBe(b);
    expect(c).toBe(a);
    expect(calls).toBe(2);
    expect([readFileSync(join(a, "x"), "utf8"), readFileSync(join(b, "x"), "utf8")]).toEqual(["1", "2"]);
    await rm(cache, { recursive: true, force: true });
  });
});

describe("finding runtimes", () => {
  it("names QFIRM_RUNTIMES when it is not set", () => {
    expect(() => runtimeSource("wasm3", {})).toThrow(ToolchainError);
    expect(() => runtimeSource("wasm3", {})).toThrow(/QFIRM_RUNTIMES is not set/);
  });

  it("names the runtime whose sources are missing", () => {
    expect(() => runtimeSource("wamr", { QFIRM_RUNTIMES: tmpdir() })).toThrow(/no wamr sources/);
  });

  it("keeps builds in QFIRM_CACHE, else under XDG_CACHE_HOME or ~/.cache", () => {
    expect(cacheRoot({ QFIRM_CACHE: "/x/y" })).toBe("/x/y");
    expect(cacheRoot({ XDG_CACHE_HOME: "/c" })).toBe("/c/qfirm");
  });
});

async function documentedModule(): Promise<{ path: string; v8: number[] }> {
  const model = parseSpecText(await readFile(join(ROOT, "examples", "documented-example.json"), "utf8"));
  const { wasm } = await buildModel(model);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
  const trainStep = instance.exports.train_step as () => number;
  const v8 = Array.from({ length: STEPS }, () => trainStep());
  const dir = await mkdtemp(join(tmpdir(), "qfirm-runtimes-"));
  const path = join(dir, "model.wasm");
  await writeFile(path, wasm);
  return { path, v8 };
}

/** The i32 results the runtime's REPL printed: wasm3 "Result: N", iwasm "0x…:i32". */
function replResults(text: string): number[] {
  return [...text.matchAll(/Result: (-?\d+)|0x([0-9a-f]+):i32/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : parseInt(m[2], 16)) | 0);
}

describeWith({ runtimes: ["wasm3", "wamr"], tools: [["cc", "gcc"], ["cmake", "cmake"]] }, "the runtimes' own command lines", () => {
  let module: { path: string; v8: number[] };
  const modulePromise = documentedModule().then((m) => (module = m));
  afterAll(async () => {
    await modulePromise;
    await rm(join(module.path, ".."), { recursive: true, force: true });
  });

  it.each(HOST_RUNTIMES)("%s runs train_step from its REPL, bit-identical to V8", async (name) => {
    await modulePromise;
    const runtime = await hostRuntime(name);
    const run = await exec(runtime.cli, ["--repl", module.path], { input: "train_step\n".repeat(STEPS) });
    expect(run.code, run.stderr).toBe(0);
    expect(replResults(run.stdout + run.stderr)).toEqual(module.v8);
    expect(new Set(module.v8).size).toBeGreaterThan(1);
  });

  it("gives two processes building the same library at once one complete build, then serves it from the cache", async () => {
    const cache = await mkdtemp(join(tmpdir(), "qfirm-cache-"));
    try {
      const script = `import("${join(ROOT, "dist", "src", "mcu", "runtimes.js")}").then(async (r) => console.log((await r.wasm3Library("cc", "ar", ["-O0"])).library))`;
      const env = { ...process.env, QFIRM_CACHE: cache };
      const run = promisify(execFile);
      const [a, b] = await Promise.all([0, 1].map(() => run(process.execPath, ["-e", script], { env })));
      expect(a.stdout).toBe(b.stdout);
      const library = a.stdout.trim();
      const nm = await exec("nm", [library]);
      expect(nm.stdout).toMatch(/ T m3_LoadModule$/m);
      // Nothing half-built is left behind.
      expect(readdirSync(cache)).toEqual([basename(dirname(library))]); // no temporary folder, no lock
      const built = statSync(library);
      const third = await run(process.execPath, ["-e", script], { env });
      expect(third.stdout).toBe(a.stdout);
      expect(statSync(library)).toMatchObject({ ino: built.ino, mtimeMs: built.mtimeMs });
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});
