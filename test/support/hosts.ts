// The host library compiled into a test driver (test/support/c/driver.c) per runtime:
// one process runs any number of modules from a command script.

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { exec, execOk } from "../../src/mcu/exec.js";
import { hostFiles, hostSourceName, type Host } from "../../src/mcu/host.js";
import { hostRuntime, type HostRuntimeName } from "../../src/mcu/runtimes.js";

const DRIVER = join(dirname(fileURLToPath(import.meta.url)), "c", "driver.c");

/** The flags the generated C must compile under without a warning. */
export const STRICT_C = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror"];

export function hostOf(runtime: HostRuntimeName): Host {
  return runtime === "wasm3" ? "wasm3" : "wamr";
}

/** The library's files written to a fresh folder. */
export async function writeHostFiles(host: Host): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `qfirm-host-${host}-`));
  for (const [name, text] of Object.entries(hostFiles(host))) await writeFile(join(dir, name), text);
  return dir;
}

const drivers = new Map<HostRuntimeName, Promise<string>>();

/** The test driver linked against the runtime (built once per process). */
export function hostDriver(runtime: HostRuntimeName): Promise<string> {
  let driver = drivers.get(runtime);
  if (!driver) {
    driver = (async () => {
      const built = await hostRuntime(runtime);
      const host = hostOf(runtime);
      const dir = await writeHostFiles(host);
      const out = join(dir, "driver");
      const defines = host === "wamr" ? ["-DQFIRM_TEST_WAMR"] : [];
      await execOk("cc", [
        "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", ...defines,
        "-I", dir, ...built.include.flatMap((i) => ["-I", i]),
        DRIVER, join(dir, hostSourceName(host)), "-o", out, ...built.link,
      ]);
      return out;
    })();
    drivers.set(runtime, driver);
  }
  return driver;
}

/** Runs the commands; one answer line per command. */
export async function runDriver(driver: string, commands: string[]): Promise<string[]> {
  const run = await exec(driver, [], { input: commands.join("\n") + "\n" });
  if (run.code !== 0) throw new Error(`${driver} exited ${run.code}: ${run.stderr}`);
  const lines = run.stdout.split("\n").filter((l) => l !== "");
  if (lines.length !== commands.length) throw new Error(`${commands.length} commands but ${lines.length} answers: ${run.stderr}`);
  return lines;
}

/** A double as the driver reads it: its IEEE-754 bits in hex. */
export function bits(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value, true);
  return view.getBigUint64(0, true).toString(16);
}

/** The int32 values after "<name> ok". */
export function answerWords(line: string, name: string): number[] {
  const prefix = `${name} ok`;
  if (!line.startsWith(prefix)) throw new Error(`expected "${prefix} …", got "${line}"`);
  return line.slice(prefix.length).trim().split(/\s+/).filter(Boolean).map(Number);
}
