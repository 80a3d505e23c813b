// Debian's wabt, run as a separate process: an engine other than V8 and a
// disassembler other than binaryen. `npm test` installs it (test/support/ensure-wabt.sh).

import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function wabt(tool: string, args: string[]): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(tool, args, { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === "ENOENT") throw new Error(`${tool} not found: install Debian's wabt (npm test does, as root)`);
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

export async function tempFile(name: string, contents: string | Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "qfirm-wabt-"));
  const path = join(dir, name);
  await writeFile(path, contents);
  return path;
}

/** A .wast `(module binary …)` line for the bytes. */
export function wastModule(wasm: Uint8Array): string {
  const escaped = Array.from(wasm, (b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
  return `(module binary "${escaped}")`;
}

/** Features microcontroller runtimes lack; wasm-validate must accept the module without them. */
export const MCU_ONLY = [
  "--disable-bulk-memory", "--disable-reference-types", "--disable-simd", "--disable-multi-value",
  "--disable-saturating-float-to-int",
];
