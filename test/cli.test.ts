// The CLI, through the real binary: `node bin/qfirm.js …` as a user runs it (the
// package's `qfirm` bin), against the contract in DESIGN.md: exit 0 on success, 1
// when a check fails, 2 on bad usage or a bad spec with ONE line naming the field
// and what is wrong, no stack trace, and no file written.
//
// The figures checked against `qfirm example` come from the handwritten notes
// (shared/documented-example.md), never from running the code.
//
// bin/qfirm.js runs dist/, which `npm test` builds first (pretest). Run directly,
// `npx vitest run test/cli.test.ts` needs `npm run build` before it.

import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoStack, expectOneLineFailure, ROOT, runQfirm, type Run } from "./support/cli.js";

const EXAMPLE = "examples/documented-example.json";
const TEST_TIMEOUT_MS = 180_000;

const qfirm = (...args: string[]): Promise<Run> => runQfirm(args);

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "qfirm-cli-test-"));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A fresh folder of its own for one test, so tests can run side by side. */
async function folder(name: string): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir);
  return dir;
}

async function exampleSpec(): Promise<any> {
  return JSON.parse(await readFile(join(ROOT, EXAMPLE), "utf8"));
}

// ---- qfirm example ----

/**
 * The first word of each row's label, in the notes' order: the 23 figures the notes
 * print for the documented example (shared/documented-example.md, "Figures printed").
 */
const NOTES_ROWS = [
  "z1-1", "z2-1", "y1-1", "y2-1", "z1-2", "ŷ", "L",
  "∂L/∂ŷ", "∂ŷ/∂z1-2", "∂L/∂z1-2", "∂L/∂W11-2", "∂L/∂W21-2",
  "∂L/∂y2-1", "∂y1-1/∂z1-1", "∂y2-1/∂z2-1", "∂L/∂z1-1", "∂L/∂z2-1",
  "∂L/∂W11-1", "∂L/∂W21-1", "∂L/∂W31-1", "∂L/∂W12-1", "∂L/∂W22-1", "∂L/∂W32-1",
];
/** ŷ as the notes print it, to 4 decimal places: the module must round to it. */
const NOTES_YHAT = 0.7137;
const NOTES_YHAT_TOLERANCE = 0.5e-4; // half a unit in the 4th decimal

/** Table cells are separated by at least two spaces; labels hold single spaces only. */
function cells(line: string): string[] {
  return line.trim().split(/\s{2,}/);
}

describe.concurrent("qfirm example", () => {
  it("prints a row per figure of the notes, the worst gradient error and parity: ok", async ({ expect }) => {
    const run = await qfirm("example");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.split("\n");

    const headerAt = lines.findIndex((line) => line.startsWith("quantity"));
    expect(headerAt, run.stdout).toBeGreaterThanOrEqual(0);
    const header = cells(lines[headerAt]);
    const moduleColumn = header.indexOf("module");
    const notesColumn = header.indexOf("notes");
    expect(moduleColumn, lines[headerAt]).toBeGreaterThan(0);
    expect(notesColumn, lines[headerAt]).toBeGreaterThan(0);
    expect(lines[headerAt + 1]).toMatch(/^[─ ]+$/);

    const endAt = lines.findIndex((line) => line.startsWith("worst gradient error:"));
    expect(endAt, run.stdout).toBeGreaterThan(headerAt);
    const rows = lines.slice(headerAt + 2, endAt).filter((line) => line.trim() !== "");
    expect(rows.map((row) => row.split(" ")[0])).toEqual(NOTES_ROWS);
    for (const row of rows) expect(cells(row).at(-1), row).toBe("ok");

    const yhat = cells(rows[NOTES_ROWS.indexOf("ŷ")]);
    expect(yhat[notesColumn]).toBe("0.7137");
    const module = Number(yhat[moduleColumn]);
    expect(Number.isFinite(module), yhat.join(" | ")).toBe(true);
    expect(Math.abs(module - NOTES_YHAT), `module ŷ = ${module}`).toBeLessThanOrEqual(NOTES_YHAT_TOLERANCE);

    expect(run.stdout).toMatch(/^worst gradient error: \S.*$/m);
    expect(run.stdout).toMatch(/^parity: ok$/m);
  }, TEST_TIMEOUT_MS);

  it("--json prints the same rows with reference, module and ok", async ({ expect }) => {
    const run = await qfirm("example", "--json");
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Array.isArray(report.rows)).toBe(true);
    expect(report.rows).toHaveLength(NOTES_ROWS.length);
    report.rows.forEach((row: any, i: number) => {
      expect(typeof row.reference, JSON.stringify(row)).toBe("number");
      expect(typeof row.module, JSON.stringify(row)).toBe("number");
      expect(row.ok, JSON.stringify(row)).toBe(true);
      expect(String(row.label).split(" ")[0]).toBe(NOTES_ROWS[i]);
    });
    const yhat = report.rows[NOTES_ROWS.indexOf("ŷ")];
    expect(Math.abs(yhat.module - NOTES_YHAT), `module ŷ = ${yhat.module}`).toBeLessThanOrEqual(NOTES_YHAT_TOLERANCE);
    expect(report.ok).toBe(true);
  }, TEST_TIMEOUT_MS);
});

// ---- qfirm build ----

/** The temporary folders a build works in beside --out (`.<name>.tmp-…`, `….old`). */
function leftovers(names: string[]): string[] {
  return names.filter((name) => name.startsWith(".") || name.includes(".tmp-") || name.endsWith(".old"));
}

describe.concurrent("qfirm build", () => {
  it("writes model.wasm (standalone, instantiable) and model.json (the manifest)", async ({ expect }) => {
    const dir = await folder("build");
    const out = join(dir, "fw");
    const run = await qfirm("build", EXAMPLE, "--out", out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expectNoStack(run);
    expect(leftovers(await readdir(dir))).toEqual([]);

    const wasm = await readFile(join(out, "model.wasm"));
    expect([...wasm.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]); // \0asm
    const { instance } = await WebAssembly.instantiate(wasm, {}); // no import at all
    expect(instance.exports.memory).toBeInstanceOf(WebAssembly.Memory);

    const manifest = JSON.parse(await readFile(join(out, "model.json"), "utf8"));
    expect(manifest.abi).toBe(1);
    expect(manifest.format.fracBits).toBe(24);
    expect(manifest.params.map((t: any) => t.shape)).toEqual([[3, 2], [2], [2, 1], [1]]);
    for (const tensor of manifest.params) {
      expect(typeof tensor.offset, JSON.stringify(tensor)).toBe("number");
      expect(typeof tensor.gradOffset, JSON.stringify(tensor)).toBe("number");
    }
    // The buffers' offsets are numbers, and the module agrees with them.
    for (const buffer of ["input", "output", "target", "params", "grads"]) {
      const offset = manifest.buffers[buffer];
      expect(typeof offset, buffer).toBe("number");
      const ptr = instance.exports[`${buffer}_ptr`] as () => number;
      expect(typeof ptr, `${buffer}_ptr export`).toBe("function");
      expect(ptr(), `${buffer}_ptr()`).toBe(offset);
    }
  }, TEST_TIMEOUT_MS);

  it("building again into the same --out needs --force, and then replaces the artifacts", async ({ expect }) => {
    const dir = await folder("twice");
    const out = join(dir, "fw");
    const first = await qfirm("build", EXAMPLE, "--out", out);
    expect(first.code, first.stderr).toBe(0);
    // Spoil the first build's files: a refused build leaves them be, a forced one puts whole ones in their place.
    await writeFile(join(out, "model.wasm"), "stale");
    await writeFile(join(out, "model.json"), "stale");

    const refused = expectOneLineFailure(await qfirm("build", EXAMPLE, "--out", out));
    expect(refused).toBe(`qfirm: --out ${out}: folder holds an earlier build (model.h, model.json, model.wasm); give --force to replace it`);
    expect(await readFile(join(out, "model.wasm"), "utf8")).toBe("stale");

    const second = await qfirm("build", EXAMPLE, "--out", out, "--force");
    expect(second.code, second.stderr).toBe(0);
    expectNoStack(second);
    const wasm = await readFile(join(out, "model.wasm"));
    expect([...wasm.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]);
    await WebAssembly.instantiate(wasm, {});
    expect(JSON.parse(await readFile(join(out, "model.json"), "utf8")).abi).toBe(1);
    expect(await readdir(dir)).toEqual(["fw"]);
  }, TEST_TIMEOUT_MS);

  it("does not build into a folder holding a file it did not write", async ({ expect }) => {
    const dir = await folder("foreign");
    const out = join(dir, "fw");
    await mkdir(out);
    await writeFile(join(out, "notes.txt"), "mine, not qfirm's\n");

    const run = await qfirm("build", EXAMPLE, "--out", out);
    const line = expectOneLineFailure(run);
    expect(line).toMatch(/^qfirm: /);
    expect(line).toContain("--out");
    expect(line).toContain("notes.txt");
    expect(await readdir(out)).toEqual(["notes.txt"]);
    expect(await readFile(join(out, "notes.txt"), "utf8")).toBe("mine, not qfirm's\n");
    expect(await readdir(dir)).toEqual(["fw"]);
  }, TEST_TIMEOUT_MS);
});

// ---- qfirm check ----

describe.concurrent("qfirm check", () => {
  it("passes on the spec's sample", async ({ expect }) => {
    const run = await qfirm("check", EXAMPLE);
    expect(run.code, run.stderr).toBe(0);
    expectNoStack(run);
    expect(run.stdout).toMatch(/^parity: ok$/m);
  }, TEST_TIMEOUT_MS);

  it("passes on --input and --target given on the command line", async ({ expect }) => {
    const run = await qfirm("check", EXAMPLE, "--input", "0.02,0.03,-2.06", "--target", "0.61");
    expect(run.code, run.stderr).toBe(0);
    expectNoStack(run);
    expect(run.stdout).toMatch(/^parity: ok$/m);
  }, TEST_TIMEOUT_MS);

  it("turns away an --input of the wrong length with one line naming input", async ({ expect }) => {
    const line = expectOneLineFailure(await qfirm("check", EXAMPLE, "--input", "1,2"));
    expect(line).toMatch(/^qfirm: /);
    expect(line).toContain("input");
  }, TEST_TIMEOUT_MS);
});

// ---- Bad specs ----

interface BadSpec {
  name: string;
  /** The spec file's text, or a change to the documented example. */
  text?: string;
  change?: (spec: any) => void;
  /** What the one line must contain: the field's path and the offending value. */
  mentions: string[];
}

const BAD_SPECS: BadSpec[] = [
  { name: "not JSON", text: '{ "name": "documented-example",\n  "inputs": 3,\n', mentions: ["JSON"] },
  { name: "inputs: 2.5", change: (s) => (s.inputs = 2.5), mentions: ["inputs", "2.5"] },
  { name: "missing layers", change: (s) => delete s.layers, mentions: ["layers", "missing"] },
  {
    name: 'layers[1].activation: "swish"',
    change: (s) => (s.layers[1].activation = "swish"),
    mentions: ["layers[1].activation", "swish"],
  },
  { name: "unknown loss", change: (s) => (s.loss = { type: "mse" }), mentions: ["loss.type", "mse"] },
  {
    name: "a weight row of the wrong length",
    change: (s) => (s.weights[0].weight[1] = [0.74]),
    mentions: ["weights[0].weight[1]"],
  },
  {
    name: "a weight matrix with too few rows",
    change: (s) => s.weights[0].weight.pop(),
    mentions: ["weights[0].weight"],
  },
  { name: "a bias of the wrong length", change: (s) => (s.weights[1].bias = [-0.41, 0]), mentions: ["weights[1].bias"] },
  { name: 'format "q0.32"', change: (s) => (s.format = "q0.32"), mentions: ["format", "q0.32"] },
  { name: 'format "q1.31"', change: (s) => (s.format = "q1.31"), mentions: ["format", "q1.31"] },
  {
    name: "a sample value beyond q8.24",
    change: (s) => (s.sample.input[2] = 300),
    mentions: ["sample.input[2]", "300"],
  },
];

describe.concurrent("a bad spec: exit 2, one line naming the field, no stack, nothing written", () => {
  BAD_SPECS.forEach((bad, i) => {
    async function writeSpec(dir: string): Promise<string> {
      const path = join(dir, "spec.json");
      if (bad.text !== undefined) {
        await writeFile(path, bad.text);
      } else {
        const spec = await exampleSpec();
        bad.change!(spec);
        await writeFile(path, JSON.stringify(spec, null, 2));
      }
      return path;
    }

    function expectNamed(line: string): void {
      expect(line).toMatch(/^qfirm: /);
      for (const text of bad.mentions) expect(line).toContain(text);
    }

    it(`${bad.name}: check`, async ({ expect }) => {
      const dir = await folder(`bad-check-${i}`);
      const spec = await writeSpec(dir);
      const line = expectOneLineFailure(await qfirm("check", spec));
      expectNamed(line);
      if (bad.text !== undefined) expect(line).toContain(basename(spec));
    }, TEST_TIMEOUT_MS);

    it(`${bad.name}: build --out`, async ({ expect }) => {
      const dir = await folder(`bad-build-${i}`);
      const spec = await writeSpec(dir);
      const line = expectOneLineFailure(await qfirm("build", spec, "--out", join(dir, "never")));
      expectNamed(line);
      // Neither the folder nor a temporary one beside it (.never.tmp-…).
      expect(existsSync(join(dir, "never"))).toBe(false);
      expect(await readdir(dir)).toEqual(["spec.json"]);
    }, TEST_TIMEOUT_MS);
  });
});

// ---- Usage ----

describe.concurrent("bad usage: exit 2, one line, no stack", () => {
  it("an unknown command", async ({ expect }) => {
    const line = expectOneLineFailure(await qfirm("frobnicate", EXAMPLE));
    expect(line).toContain("frobnicate");
  }, TEST_TIMEOUT_MS);

  it("build without --out", async ({ expect }) => {
    const line = expectOneLineFailure(await qfirm("build", EXAMPLE));
    expect(line).toContain("--out");
  }, TEST_TIMEOUT_MS);

  it("an unknown --target", async ({ expect }) => {
    const dir = await folder("esp32");
    const line = expectOneLineFailure(await qfirm("build", EXAMPLE, "--out", join(dir, "fw"), "--target", "esp32"));
    expect(line).toContain("esp32");
    expect(await readdir(dir)).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it("a spec path that does not exist", async ({ expect }) => {
    const missing = join(tmp, "no-such-spec.json");
    for (const args of [["check", missing], ["build", missing, "--out", join(tmp, "no-such-out")]]) {
      const line = expectOneLineFailure(await qfirm(...args));
      expect(line).toMatch(/^qfirm: /);
      expect(line).toContain(missing);
    }
    expect(existsSync(join(tmp, "no-such-out"))).toBe(false);
  }, TEST_TIMEOUT_MS);
});

describe.concurrent("--version", () => {
  it("prints the package's version, one line, exit 0", async ({ expect }) => {
    const { version } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const run = await qfirm("--version");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
    expect(run.stderr).toBe("");
  }, TEST_TIMEOUT_MS);
});

describe.concurrent("--help", () => {
  it("qfirm --help lists every command", async ({ expect }) => {
    const run = await qfirm("--help");
    expect(run.code, run.stderr).toBe(0);
    for (const command of ["build", "check", "example"]) expect(run.stdout).toContain(command);
  }, TEST_TIMEOUT_MS);

  for (const command of ["build", "check", "example", "lut-error", "train", "page"]) {
    it(`qfirm ${command} --help`, async ({ expect }) => {
      const run = await qfirm(command, "--help");
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`qfirm ${command}`);
      expectNoStack(run);
    }, TEST_TIMEOUT_MS);
  }
});
