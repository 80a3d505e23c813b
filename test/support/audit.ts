// vitest globalSetup: every module any test compiles is recorded (src/build/compile.ts,
// QFIRM_RECORD_MODULES) and, after the run, disassembled by Debian's wasm2wat, which
// shares no code with binaryen. A float instruction (scalar, or SIMD on f32x4 and f64x2
// lanes, or a conversion to or from them) or an import fails the run.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FORBIDDEN = /\b(f32|f64)\.[a-z_0-9]+|\b[a-z0-9_.]*(f32x4|f64x2)[a-z0-9_.]*|\(import /;

export function auditModules(dir: string): string[] {
  const problems: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".wasm"))) {
    const text = execFileSync("wasm2wat", [join(dir, name)], { encoding: "utf8", maxBuffer: 256 << 20 });
    const found = FORBIDDEN.exec(text);
    if (found) problems.push(`${name}: ${found[0]}`);
  }
  return problems;
}

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "qfirm-modules-"));
  process.env.QFIRM_RECORD_MODULES = dir;
  return () => {
    const count = readdirSync(dir).length;
    const problems = auditModules(dir);
    rmSync(dir, { recursive: true, force: true });
    // A throw here is only reported; the exit code is what CI reads.
    const fail = (message: string) => {
      console.error(`module audit FAILED: ${message}`);
      process.exitCode = 1;
    };
    if (count === 0) console.log("module audit: no module was built");
    else if (problems.length > 0) fail(`${problems.length} of ${count} modules: ${problems.join("; ")}`);
    else console.log(`module audit: ${count} modules, no float instruction, no import (wasm2wat)`);
  };
}
