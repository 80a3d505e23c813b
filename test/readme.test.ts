// The README cannot rot: its JavaScript example runs as written, against the package
// as a user imports it ("qfirm"), and prints exactly the output the README shows; its
// CLI tables name every command and option the CLI has; the page command prints the
// line it shows.
//
// Beyond matching the README, the example's figures are checked against what they
// claim: the module's losses against the float64 reference's, and XOR's truth table.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { program } from "../src/cli/cli.js";
import { ROOT, runQfirm } from "./support/cli.js";

const run = promisify(execFile);
const TEST_TIMEOUT_MS = 180_000;

let readme: string;
let tmp: string;
beforeAll(async () => {
  readme = await readFile(join(ROOT, "README.md"), "utf8");
  tmp = await mkdtemp(join(tmpdir(), "qfirm-readme-test-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The text of the README's section under `heading` (up to the next "## "). */
function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README section "${heading}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The fenced blocks of `text` with the language `lang`, in order. */
function blocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

describe("Use it from JavaScript", () => {
  it("the example runs against `qfirm` and prints the output the README shows", async () => {
    const text = section("Use it from JavaScript");
    const [code] = blocks(text, "js");
    const [shown] = blocks(text, "text");
    expect(code).toContain('from "qfirm"');

    const dir = join(tmp, "example");
    await mkdir(join(dir, "node_modules"), { recursive: true });
    await symlink(ROOT, join(dir, "node_modules", "qfirm"), "dir"); // as `npm install qfirm` places it
    await writeFile(join(dir, "example.mjs"), code);
    const { stdout } = await run(process.execPath, ["example.mjs"], { cwd: dir, timeout: 120_000 });
    expect(stdout).toBe(shown);

    // What the figures claim.
    const losses = [...stdout.matchAll(/loss ([\d.]+) \(module\), ([\d.]+) \(float64\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(losses).toHaveLength(2);
    for (const [fixed, float] of losses) expect(Math.abs(fixed - float)).toBeLessThanOrEqual(2e-6);
    const xor = [...stdout.matchAll(/^xor\((\d),(\d)\) = ([\d.]+)$/gm)].map((m) => [Number(m[1]) ^ Number(m[2]), Number(m[3])]);
    expect(xor).toHaveLength(4);
    for (const [truth, output] of xor) expect(Math.abs(output - truth)).toBeLessThan(0.1);
    const wasm = await readFile(join(dir, "xor-fw", "model.wasm"));
    expect([...wasm.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]);
    expect(await readFile(join(dir, "xor-fw", "model.h"), "utf8")).toContain(`${wasm.length}`);
  }, TEST_TIMEOUT_MS);

  it("documents every export of `qfirm`", async () => {
    const text = section("Use it from JavaScript");
    const library = await import("../src/index.js");
    const missing = Object.keys(library).filter((name) => !new RegExp("`" + name + "[`(.]").test(text));
    expect(missing).toEqual([]);
  });
});

describe("CLI", () => {
  it("the tables name every command and every option", () => {
    const text = section("CLI");
    const cli = program();
    for (const command of cli.commands) {
      expect(text, command.name()).toContain(`\`qfirm ${command.name()}`);
      for (const option of command.options) {
        // A row of the options table: | commands | `--flag …` | meaning | default |
        const documented = text.split("\n").some((line) => {
          const cells = line.split(" | ").map((c) => c.replace(/^\| /, ""));
          return cells.length >= 3 && cells[0].split(", ").includes(command.name()) && new RegExp(`\`${option.long}[ \`]`).test(cells[1]);
        });
        expect(documented, `qfirm ${command.name()} ${option.long} in the options table`).toBe(true);
      }
    }
    for (const option of cli.options) expect(text, option.long).toContain(`qfirm ${option.long}`);
  });
});

describe("In the browser", () => {
  it("qfirm page prints the line the README shows", async () => {
    const [shown] = blocks(section("In the browser"), "text");
    const command = /^\$ npx qfirm (.*)\n/.exec(shown)!;
    const args = command[1].split(" ");
    const out = args[args.indexOf("--out") + 1];
    args[args.indexOf("--out") + 1] = join(tmp, out);
    const page = await runQfirm(args);
    expect(page.code, page.stderr).toBe(0);
    // The page's size moves with the module and the script; the rest is as shown.
    const bytes = /\(([\d,]+) bytes\)/;
    expect(page.stdout.replace(join(tmp, out), out).replace(bytes, "(N bytes)")).toBe(shown.slice(command[0].length).replace(bytes, "(N bytes)"));
  }, TEST_TIMEOUT_MS);
});
