// The real binary, as a user runs it (`node bin/qfirm.js …`, which runs dist/: `npm test`
// builds it first), and what every failing run must look like.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "bin", "qfirm.js");
const RUN_TIMEOUT_MS = 90_000;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function requireBuiltCli(): void {
  if (!existsSync(join(ROOT, "dist", "src", "cli", "cli.js"))) {
    throw new Error("dist/src/cli/cli.js is missing: run `npm run build` first (`npm test` does it in pretest).");
  }
}

/** `qfirm …args` in the package folder; resolves with the exit code and output, whatever the code. */
export function qfirm(...args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env.QFIRM_DEBUG;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: RUN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(new Error(`qfirm ${args.join(" ")}: ${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Exit 2, nothing on stdout, one line on stderr, no stack: returns the line. */
export function expectOneLineFailure(run: Run): string {
  const context = `stdout: ${JSON.stringify(run.stdout)}\nstderr: ${JSON.stringify(run.stderr)}`;
  expect(run.code, context).toBe(2);
  expect(run.stdout, context).toBe("");
  expect(run.stderr.endsWith("\n"), context).toBe(true);
  const lines = run.stderr.slice(0, -1).split("\n");
  expect(lines, context).toHaveLength(1);
  expect(run.stderr, context).not.toMatch(/^\s+at\s/m);
  expect(run.stderr, context).not.toContain("internal error");
  return lines[0];
}
