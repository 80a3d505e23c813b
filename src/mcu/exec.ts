// Running the C toolchain and emulator as child processes.

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** A runtime or a toolchain is missing: the user must install or point at it (CLI exit 2). */
export class ToolchainError extends Error {
  override name = "ToolchainError";
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  cwd?: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Kills the process after this long; the result then has code −1. */
  timeoutMs?: number;
}

/** Runs a program to completion; resolves whatever its exit code (−1 when killed or not started). */
export function exec(program: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs) timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      resolve({ code: -1, stdout: "", stderr: `${program}: ${error.message}` });
    });
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin.on("error", () => {}); // a program that exits before reading all its input
    child.stdin.end(options.input ?? "");
  });
}

/** Runs a program that must succeed; otherwise throws with its command line and the end of its output. */
export async function execOk(program: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const result = await exec(program, args, options);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-15).join("\n");
    throw new Error(`${program} ${args.join(" ")} failed (exit ${result.code}):\n${tail}`);
  }
  return result;
}

/** The full path of a program on PATH, or undefined. */
export function which(program: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (program.includes("/")) return isExecutable(program) ? program : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs tasks at most `limit` at a time, in order of the list. */
export async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
