// The guards that keep modules standalone: the compiler refuses a float
// instruction or an import, and the run's audit (test/support/audit.ts) catches them
// with an independent disassembler.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CompileError, compileModule } from "../src/build/compile.js";
import { auditModules } from "./support/audit.js";
import { tempFile, wabt } from "./support/wabt.js";

const compile = (source: string) => compileModule({ source, segments: [], memoryEnd: 16, pages: 1 });

describe("the compiler's guard", () => {
  it("refuses a module with a float instruction", async () => {
    const source = `export function half(x: i32): i32 { return <i32>(<f64>x * 0.5 + <f64>x / 3.0); }`;
    await expect(compile(source)).rejects.toThrow(CompileError);
    await expect(compile(source)).rejects.toThrow(/float instruction \(f64\./);
  });

  it("refuses a module that imports from the host", async () => {
    const source = `@external("env", "tick") declare function tick(): i32;\nexport function f(): i32 { return tick(); }`;
    await expect(compile(source)).rejects.toThrow(/imports from the host/);
  });

  it("accepts integer-only code", async () => {
    const wasm = await compile(`export function twice(x: i32): i32 { return x << 1; }`);
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
    expect((instance.exports.twice as (x: number) => number)(21)).toBe(42);
  });
});

describe("the run's audit", () => {
  it("finds a float instruction and an import that wat2wasm put in", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qfirm-audit-"));
    const float = `(module (func (export "f") (param f32) (result f32) (f32.add (local.get 0) (local.get 0))))`;
    const imported = `(module (import "env" "tick" (func)) )`;
    const integer = `(module (func (export "g") (param i32) (result i32) (i32.add (local.get 0) (local.get 0))))`;
    for (const [name, wat] of [["float", float], ["import", imported], ["integer", integer]]) {
      const result = await wabt("wat2wasm", [await tempFile(`${name}.wat`, wat), "-o", join(dir, `${name}.wasm`)]);
      expect(result.code, result.stderr).toBe(0);
    }
    expect(auditModules(dir).sort()).toEqual(["float.wasm: f32.add", "import.wasm: (import "]);
  });
});
