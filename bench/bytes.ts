// Sizes: each qfirm module (src/run/inspect.ts's footprint: code and data sections), and
// for scale what TF.js ships: its wasm binaries, its minified bundles and its npm
// packages as installed.

import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Built } from "../src/build/build.js";
import type { Target } from "../src/build/compile.js";
import { footprint } from "../src/run/inspect.js";
import { tfjsWasmFolder } from "./tfjs-engine.js";

export interface ModuleBytes {
  model: string;
  target: Target;
  /** The whole .wasm file. */
  bytes: number;
  /** Code section: the kernels. */
  code: number;
  /** Data section: initial params and tables. */
  data: number;
  /** Linear memory the module uses (params, grads, batch buffer of 256 rows, scratch). */
  memoryBytes: number;
}

export interface FileBytes {
  file: string;
  bytes: number;
}

export interface TfjsBytes {
  /** The three wasm binaries of tfjs-backend-wasm; `loaded` is the one this run used. */
  wasm: (FileBytes & { loaded: boolean })[];
  /** The minified browser bundles of core and the two backends. */
  minifiedJs: FileBytes[];
  /** Each package's installed folder, every file counted. */
  packages: { name: string; bytes: number }[];
}

export function moduleBytes(model: string, target: Target, built: Built): ModuleBytes {
  const f = footprint(built.wasm, built.manifest);
  return { model, target, bytes: f.bytes, code: f.code, data: f.data, memoryBytes: f.memoryBytes };
}

const TFJS_PACKAGES = ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-cpu", "@tensorflow/tfjs-backend-wasm"];
const TFJS_BUNDLES: [string, string][] = [
  ["@tensorflow/tfjs-core", "dist/tf-core.min.js"],
  ["@tensorflow/tfjs-backend-cpu", "dist/tf-backend-cpu.min.js"],
  ["@tensorflow/tfjs-backend-wasm", "dist/tf-backend-wasm.min.js"],
];
const TFJS_WASM = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"];

const require = createRequire(import.meta.url);

function packageFolder(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

function folderBytes(folder: string): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

export function tfjsBytes(loadedWasm: string | undefined): TfjsBytes {
  const wasmFolder = tfjsWasmFolder();
  return {
    wasm: TFJS_WASM.map((file) => ({ file, bytes: statSync(join(wasmFolder, file)).size, loaded: file === loadedWasm })),
    minifiedJs: TFJS_BUNDLES.map(([name, file]) => ({ file: `${name}/${file}`, bytes: statSync(join(packageFolder(name), file)).size })),
    packages: TFJS_PACKAGES.map((name) => ({ name, bytes: folderBytes(packageFolder(name)) })),
  };
}
