// Running the real binary, `node bin/qfirm.js …`, as a user does, and the shape every
// failing run must have (exit 2, one line on stderr, no stack).
//
// bin/qfirm.js runs dist/, which `npm test` builds first (pretest). Run directly, a
// test file that uses this needs `npm run build` before it.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BIN = join(ROOT, "bin", "qfirm.js");

/** One run builds a module (~2 s); leave room for a loaded machine running tests side by side. */
export const RUN_TIMEOUT_MS = 90_000;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Default: the package folder. */
  cwd?: string;
  /** Added to (or, undefined, removed from) the environment. */
  env?: Record<string, string | undefined>;
  /** A command that runs node in its place: ["setpriv", "--reuid=65534", …], ["unshare", "-m", "sh", "-c", …]. */
  wrap?: string[];
}

/** Runs `qfirm …args` and resolves with its exit code and output, whatever the code. */
export function runQfirm(args: string[], options: RunOptions = {}): Promise<Run> {
  if (!existsSync(join(ROOT, "dist", "src", "cli", "cli.js"))) {
    throw new Error("dist/src/cli/cli.js is missing: bin/qfirm.js runs the compiled CLI. Run `npm run build` first (`npm test` does it in pretest).");
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.QFIRM_DEBUG; // it would print the stack of an internal error
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const command = [...(options.wrap ?? []), process.execPath, BIN, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      command[0],
      command.slice(1),
      { cwd: options.cwd ?? ROOT, env, timeout: RUN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          // Killed (timeout) or not started: not an exit code to check.
          reject(new Error(`qfirm ${args.join(" ")}: ${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

export function expectNoStack(run: Run): void {
  for (const text of [run.stdout, run.stderr]) {
    expect(text).not.toMatch(/^\s+at\s/m); // a stack frame: "    at parseSpec (file:…)"
    expect(text).not.toContain("internal error");
  }
}

/** What every failing run must look like: exit 2, nothing on stdout, one line on stderr, no stack. Returns the line. */
export function expectOneLineFailure(run: Run): string {
  const context = `stdout: ${JSON.stringify(run.stdout)}\nstderr: ${JSON.stringify(run.stderr)}`;
  expect(run.code, context).toBe(2);
  expect(run.stdout, context).toBe("");
  expect(run.stderr.endsWith("\n"), context).toBe(true);
  const lines = run.stderr.slice(0, -1).split("\n");
  expect(lines, context).toHaveLength(1);
  expect(lines[0].trim(), context).not.toBe("");
  expectNoStack(run);
  return lines[0];
}
