// Where import, export and params write: never over the input, never over an
// existing file unless --force, and a clear line before any work when it cannot.

import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UsageError } from "./usage.js";

export function checkOutputFile(path: string, option: string, force: boolean, inputs: string[]): void {
  const dest = resolve(path);
  if (inputs.some((input) => resolve(input) === dest)) throw new UsageError(`${option} ${path}: is an input of this command; choose another file`);
  if (existsSync(dest) && statSync(dest).isDirectory()) throw new UsageError(`${option} ${path}: is a folder, not a file`);
  if (existsSync(dest) && !force) throw new UsageError(`${option} ${path}: exists; give --force to replace it`);
  const parent = dirname(dest);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new UsageError(`${option} ${path}: folder ${parent} does not exist`);
}
