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

const compile = (source: string, target: "mcu" | "web" = "mcu") => compileModule({ source, segments: [], memoryEnd: 16, pages: 1, target });

describe("the compiler's guard", () => {
  it("refuses a module with a float instruction", async () => {
    const source = `export function half(x: i32): i32 { return <i32>(<f64>x * 0.5 + <f64>x / 3.0); }`;
    await expect(compile(source)).rejects.toThrow(CompileError);
    await expect(compile(source)).rejects.toThrow(/float instruction \(f64\./);
  });

  it("refuses SIMD on float lanes, and conversions to them, in the web target (which has integer SIMD)", async () => {
    const lanes = `export function f(x: i32): i32 { return i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(f32x4.mul(f32x4.splat(<f32>x), f32x4.splat(<f32>x))), 0); }`;
    await expect(compile(lanes, "web")).rejects.toThrow(/float instruction \([a-z0-9_.]*f32x4/);
    const convert = `export function g(p: usize): i32 { return i32x4.extract_lane(i32x4.trunc_sat_f64x2_s_zero(v128.load(p)), 0); }`;
    await expect(compile(convert, "web")).rejects.toThrow(/float instruction \([a-z0-9_.]*f64x2/);
    const integer = `export function h(x: i32): i32 { return i32x4.extract_lane(i32x4.mul(i32x4.splat(x), i32x4.splat(3)), 1); }`;
    const wasm = await compile(integer, "web");
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm), {});
    expect((instance.exports.h as (x: number) => number)(7)).toBe(21);
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
  it("finds a float instruction (scalar or SIMD), and an import, that wat2wasm put in", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qfirm-audit-"));
    const float = `(module (func (export "f") (param f32) (result f32) (f32.add (local.get 0) (local.get 0))))`;
    const lanes = `(module (func (export "l") (param v128) (result v128) (f64x2.mul (local.get 0) (local.get 0))))`;
    const convert = `(module (func (export "c") (param v128) (result v128) (i32x4.trunc_sat_f32x4_u (local.get 0))))`;
    const imported = `(module (import "env" "tick" (func)) )`;
    const integer = `(module (func (export "g") (param v128) (result v128) (i64x2.add (local.get 0) (local.get 0))))`;
    for (const [name, wat] of [["float", float], ["lanes", lanes], ["convert", convert], ["import", imported], ["integer", integer]]) {
      const result = await wabt("wat2wasm", [await tempFile(`${name}.wat`, wat), "-o", join(dir, `${name}.wasm`)]);
      expect(result.code, result.stderr).toBe(0);
    }
    expect(auditModules(dir).sort()).toEqual([
      "convert.wasm: i32x4.trunc_sat_f32x4_u",
      "float.wasm: f32.add",
      "import.wasm: (import ",
      "lanes.wasm: f64x2.mul",
    ]);
  });
});
