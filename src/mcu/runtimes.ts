// The WebAssembly runtimes of microcontrollers (wasm3, WAMR), found through
// QFIRM_RUNTIMES and built out of tree into a cache, so that tests, the emulator
// and the benchmarks compile them once per set of sources, compiler and flags.
//
// QFIRM_RUNTIMES names a folder holding wasm3/ and wamr/ laid out like their
// upstream repositories. Those sources are only read. A build goes to a temporary
// folder in the cache and is renamed into place when complete, so two processes
// building the same thing at once never see half a build.

import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { ROOT } from "../build/compile.js";
import { exec, execOk, inParallel, ToolchainError, which } from "./exec.js";

export const RUNTIMES_ENV = "QFIRM_RUNTIMES";
export const CACHE_ENV = "QFIRM_CACHE";

/** Bump when a recipe below changes, so cached builds made by the old one are not reused. */
const RECIPE_VERSION = 1;
const JOBS = 2;

export type RuntimeName = "wasm3" | "wamr";

/** Files whose presence says a folder holds the runtime's sources. */
const MARKERS: Record<RuntimeName, string> = {
  wasm3: "source/wasm3.h",
  wamr: "core/iwasm/include/wasm_export.h",
};

const HOW_TO_SET =
  `set ${RUNTIMES_ENV} to a folder holding wasm3/ and wamr/ (clones of github.com/wasm3/wasm3 and ` +
  `github.com/bytecodealliance/wasm-micro-runtime)`;

/** The runtime's source folder, or a ToolchainError saying how to provide it. */
export function runtimeSource(name: RuntimeName, env: NodeJS.ProcessEnv = process.env): string {
  const root = env[RUNTIMES_ENV];
  if (!root) throw new ToolchainError(`${RUNTIMES_ENV} is not set: ${HOW_TO_SET}`);
  const dir = resolve(root, name);
  if (!existsSync(join(dir, MARKERS[name]))) {
    throw new ToolchainError(`${RUNTIMES_ENV}=${root}: no ${name} sources (${name}/${MARKERS[name]} is missing); ${HOW_TO_SET}`);
  }
  return dir;
}

/** The folders holding the runtime's public headers (wasm3's internal m3_env.h included). */
export function runtimeIncludes(name: RuntimeName, env: NodeJS.ProcessEnv = process.env): string[] {
  const source = runtimeSource(name, env);
  return [name === "wasm3" ? join(source, "source") : join(source, "core", "iwasm", "include")];
}

/** Where built runtimes are kept: $QFIRM_CACHE, else $XDG_CACHE_HOME/qfirm, else ~/.cache/qfirm. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env[CACHE_ENV]) return resolve(env[CACHE_ENV]);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), ".cache"), "qfirm");
}

/** A program the build needs, or a ToolchainError naming the Debian package that has it. */
export function requireTool(program: string, debianPackage: string): string {
  const path = which(program);
  if (!path) throw new ToolchainError(`${program} not found: install Debian's ${debianPackage} (apt-get install ${debianPackage})`);
  return path;
}

const compilerIds = new Map<string, Promise<string>>();

/** The compiler's path and version line: a different compiler makes a different build. */
function compilerId(cc: string): Promise<string> {
  let id = compilerIds.get(cc);
  if (!id) {
    id = exec(cc, ["--version"]).then((r) => `${cc} ${r.stdout.split("\n")[0]}`);
    compilerIds.set(cc, id);
  }
  return id;
}

/** Every file's path, size and modification time under the folders: edited sources make a new build. */
function sourceFingerprint(root: string, parts: string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    const top = join(root, part);
    if (!existsSync(top)) continue;
    const entries = statSync(top).isDirectory()
      ? readdirSync(top, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name))
          .sort()
      : [top];
    for (const file of entries) {
      const s = statSync(file);
      hash.update(`${relative(root, file)}\0${s.size}\0${s.mtimeMs}\n`);
    }
  }
  return hash.digest("hex");
}

const builds = new Map<string, Promise<string>>();

/** A lock older than this is taken for the trace of a process that died mid-build. */
const STALE_LOCK_MS = 10 * 60_000;

/**
 * Takes the build's lock (a folder, created atomically) and returns false; or, when
 * another process holds it, waits for that build and returns true once it is in
 * place (false if that process gave up, so this one builds). Only saves work: the
 * temporary folder and rename keep concurrent builds safe without it.
 */
async function awaitOtherBuilder(final: string): Promise<boolean> {
  const lock = `${final}.lock`;
  for (;;) {
    try {
      await mkdir(lock);
      return false;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    while (existsSync(lock)) {
      if (existsSync(final)) return true;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) await rm(lock, { recursive: true, force: true });
      } catch {
        // The lock went away between the two calls.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    if (existsSync(final)) return true;
  }
}

/**
 * The folder holding what `build` writes for this key, built once: first by this
 * process (concurrent callers share the promise), then from the cache on disk.
 */
export function cachedBuild(name: string, key: unknown[], build: (dir: string) => Promise<void>, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const hash = createHash("sha256").update(JSON.stringify([RECIPE_VERSION, ...key])).digest("hex").slice(0, 16);
  const final = join(cacheRoot(env), `${name}-${hash}`);
  let pending = builds.get(final);
  if (!pending) {
    pending = (async () => {
      if (existsSync(final)) return final;
      await mkdir(cacheRoot(env), { recursive: true });
      if (await awaitOtherBuilder(final)) return final;
      const temp = await mkdtemp(join(cacheRoot(env), `.${basename(final)}.tmp-`));
      try {
        await build(temp);
        await rename(temp, final);
        await rm(`${final}.lock`, { recursive: true, force: true });
      } catch (error) {
        await rm(`${final}.lock`, { recursive: true, force: true });
        await rm(temp, { recursive: true, force: true });
        // Another process finished the same build first: its copy is as good as ours.
        const code = (error as NodeJS.ErrnoException).code;
        if ((code === "ENOTEMPTY" || code === "EEXIST") && existsSync(final)) return final;
        throw error;
      }
      return final;
    })();
    builds.set(final, pending);
    pending.catch(() => builds.delete(final));
  }
  return pending;
}

/** A runtime built for the machine running qfirm: a library to link a host against, and the runtime's own command line. */
export interface HostRuntime {
  /** wasm3, or WAMR's fast or classic interpreter. */
  name: HostRuntimeName;
  /** Header folders a host compiles against. */
  include: string[];
  /** The static library, then the system libraries it needs, in link order. */
  link: string[];
  /** wasm3's REPL (`wasm3 --repl FILE`) or WAMR's iwasm (`iwasm --repl FILE`, `iwasm -f NAME FILE`). */
  cli: string;
}

export const HOST_RUNTIMES = ["wasm3", "wamr-fast", "wamr-classic"] as const;
export type HostRuntimeName = (typeof HOST_RUNTIMES)[number];

/**
 * WAMR's interpreters without WASI, AOT, JIT or SIMD (which would download SIMDe); the
 * built-in libc is left out too, since a qfirm module imports nothing.
 */
function wamrOptions(fast: boolean): string[] {
  return [
    "-DCMAKE_BUILD_TYPE=Release",
    `-DWAMR_BUILD_FAST_INTERP=${fast ? 1 : 0}`,
    "-DWAMR_BUILD_INTERP=1", "-DWAMR_BUILD_AOT=0", "-DWAMR_BUILD_JIT=0", "-DWAMR_BUILD_FAST_JIT=0",
    "-DWAMR_BUILD_SIMD=0", "-DWAMR_BUILD_LIBC_WASI=0", "-DWAMR_BUILD_LIBC_BUILTIN=0",
  ];
}

/** Upstream's own CMake build, out of tree, keeping only the files named. */
async function cmakeBuild(source: string, options: string[], keep: Record<string, string>, dir: string, cc: string): Promise<void> {
  const cmake = requireTool("cmake", "cmake");
  const tree = join(dir, "cmake");
  await execOk(cmake, ["-S", source, "-B", tree, `-DCMAKE_C_COMPILER=${cc}`, ...options]);
  await execOk(cmake, ["--build", tree, "-j", String(JOBS)]);
  for (const [from, to] of Object.entries(keep)) await copyFile(join(tree, from), join(dir, to));
  await rm(tree, { recursive: true, force: true });
}

/**
 * Builds (or finds in the cache) a runtime for this machine with the system C
 * compiler: wasm3's library and REPL, or WAMR's libiwasm.a and iwasm.
 */
export async function hostRuntime(name: HostRuntimeName, env: NodeJS.ProcessEnv = process.env): Promise<HostRuntime> {
  const cc = requireTool(env.CC ?? "cc", "gcc");
  if (name === "wasm3") {
    const source = runtimeSource("wasm3", env);
    const options = ["-DCMAKE_BUILD_TYPE=Release", "-DBUILD_WASI=none"];
    const key = [name, source, await compilerId(cc), options, sourceFingerprint(source, ["source", "platforms/app", "CMakeLists.txt"])];
    const dir = await cachedBuild("wasm3-host", key, (d) => cmakeBuild(source, options, { wasm3: "wasm3", "source/libm3.a": "libm3.a" }, d, cc), env);
    return { name, include: runtimeIncludes("wasm3", env), link: [join(dir, "libm3.a"), "-lm"], cli: join(dir, "wasm3") };
  }
  const source = runtimeSource("wamr", env);
  const options = wamrOptions(name === "wamr-fast");
  const key = [name, source, await compilerId(cc), options, sourceFingerprint(source, ["core", "build-scripts", "product-mini/platforms/linux"])];
  const product = join(source, "product-mini", "platforms", "linux");
  const dir = await cachedBuild(name, key, (d) => cmakeBuild(product, options, { iwasm: "iwasm", "libiwasm.a": "libiwasm.a" }, d, cc), env);
  return {
    name,
    include: runtimeIncludes("wamr", env),
    link: [join(dir, "libiwasm.a"), "-lm", "-ldl", "-lpthread"],
    cli: join(dir, "iwasm"),
  };
}

/** A runtime compiled as a static library by a given compiler and flags (a cross compiler for a board). */
export interface RuntimeLibrary {
  include: string[];
  library: string;
}

/**
 * wasm3's source/*.c compiled and archived with `cc` and `ar` (a cross toolchain
 * for a board): the way upstream says to embed it.
 */
export async function wasm3Library(cc: string, ar: string, flags: string[], env: NodeJS.ProcessEnv = process.env): Promise<RuntimeLibrary> {
  const source = runtimeSource("wasm3", env);
  const sources = readdirSync(join(source, "source")).filter((f) => f.endsWith(".c")).sort();
  const key = ["wasm3-lib", source, await compilerId(cc), flags, sourceFingerprint(source, ["source"])];
  const dir = await cachedBuild("wasm3-lib", key, async (d) => {
    await inParallel(
      sources.map((file) => () =>
        execOk(cc, [...flags, "-I", join(source, "source"), "-c", join(source, "source", file), "-o", join(d, file.replace(/\.c$/, ".o"))]),
      ),
      JOBS,
    );
    await execOk(ar, ["rcs", join(d, "libm3.a"), ...sources.map((f) => join(d, f.replace(/\.c$/, ".o")))]);
  }, env);
  return { include: runtimeIncludes("wasm3", env), library: join(dir, "libm3.a") };
}

/** WAMR's platform layer for a bare-metal Cortex-M (upstream ships RTOS ports only). */
const WAMR_BARE_PLATFORM = join(ROOT, "src", "mcu", "board", "wamr");

/**
 * WAMR's interpreter (fast or classic) as a static library for a bare-metal Cortex-M:
 * upstream's CMake with the platform layer in src/mcu/board/wamr, cross-compiled
 * with `cc` and `flags` (which must name the CPU).
 */
export async function wamrBoardLibrary(cc: string, flags: string[], fast: boolean, env: NodeJS.ProcessEnv = process.env): Promise<RuntimeLibrary> {
  const source = runtimeSource("wamr", env);
  const cpu = flags.filter((f) => /^-m(cpu|thumb|float-abi)/.test(f));
  const options = [
    `-DWAMR_ROOT_DIR=${source}`, "-DCMAKE_SYSTEM_NAME=Generic", "-DCMAKE_SYSTEM_PROCESSOR=arm",
    `-DCMAKE_ASM_COMPILER=${cc}`, "-DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY", "-DCMAKE_BUILD_TYPE=None",
    "-DWAMR_BUILD_TARGET=THUMBV7", `-DWAMR_BUILD_FAST_INTERP=${fast ? 1 : 0}`,
    `-DCMAKE_C_FLAGS=${flags.join(" ")}`, `-DCMAKE_ASM_FLAGS=${cpu.join(" ")}`,
  ];
  const key = ["wamr-board", source, await compilerId(cc), options, sourceFingerprint(source, ["core", "build-scripts"]), sourceFingerprint(WAMR_BARE_PLATFORM, ["."])];
  const dir = await cachedBuild(`wamr-board-${fast ? "fast" : "classic"}`, key, (d) => cmakeBuild(WAMR_BARE_PLATFORM, options, { "libiwasm.a": "libiwasm.a" }, d, cc), env);
  return { include: runtimeIncludes("wamr", env), library: join(dir, "libiwasm.a") };
}
