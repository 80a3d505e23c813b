// Runs the real CLI (bin/qfirm.js, which runs dist/: `npm test` builds it in pretest;
// run directly, a test file needs `npm run build` first).

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "bin", "qfirm.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function qfirm(...args: string[]): Promise<Run> {
  if (!existsSync(join(ROOT, "dist", "src", "cli", "cli.js"))) {
    throw new Error("dist/src/cli/cli.js is missing: run `npm run build` first (`npm test` does it in pretest)");
  }
  const env = { ...process.env };
  delete env.QFIRM_DEBUG;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 90_000, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(new Error(`qfirm ${args.join(" ")}: ${error.message}\n${stderr}`));
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}
