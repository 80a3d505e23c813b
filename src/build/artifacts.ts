// Writing what qfirm makes: checked before any long work, written all or nothing,
// never over an input or an existing file unless asked (`force`).
//
// - checkOutputs: every output's folder exists and can be written, no output is an
//   input of the command or another output's path, and nothing existing is replaced
//   without `force` (a folder: only one that holds qfirm's own files).
// - writeFiles / writeArtifacts: each file goes to a temporary name beside its
//   destination and is renamed into place only when every file is complete.
// - mendableError: a file-system error the user can mend (permissions, a missing
//   folder, a read-only or full disk) as one line naming the path and what to do.
//
// New files and folders get the user's umask (a folder made with mkdir, never
// mkdtemp's 0700); a file or folder replaced keeps the mode it had.

import { accessSync, constants, lstatSync, readdirSync, realpathSync, statSync, type Stats } from "node:fs";
import { chmod, mkdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** A path the user can mend: exit 2 from the CLI, one line. */
export class ArtifactError extends Error {
  override name = "ArtifactError";
}

/** The files a build writes; a folder holding anything else is not replaced. */
export const ARTIFACT_FILES = ["model.wasm", "model.json", "model.h", "model.wat", "qfirm.h", "qfirm_wasm3.c", "qfirm_wamr.c"];

export interface Output {
  path: string;
  /** A file, or a folder of files (qfirm build's DIR). */
  kind: "file" | "folder";
  /** The option that named it, for messages: "--out", "--curve". */
  option?: string;
  /** A folder only: the names it may already hold and `force` replaces (default ARTIFACT_FILES). */
  owns?: readonly string[];
}

export interface OutputOptions {
  /** What the command reads: never written over. */
  inputs?: readonly string[];
  /** Replace an existing file, or a folder holding only the names it owns. */
  force?: boolean;
}

type Contents = string | Uint8Array;

// ---- Checks ----

function label(output: Output): string {
  return output.option ? `${output.option} ${output.path}` : output.path;
}

function statOrUndefined(path: string, follow = true): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The path with symbolic links resolved as far as it exists: two names of one place compare equal. */
function canonical(path: string): string {
  const absolute = resolve(path);
  let existing = absolute;
  while (statOrUndefined(existing) === undefined && dirname(existing) !== existing) existing = dirname(existing);
  try {
    return join(realpathSync(existing), relative(existing, absolute));
  } catch {
    return absolute;
  }
}

function samePlace(a: string, b: string): boolean {
  if (canonical(a) === canonical(b)) return true;
  const sa = statOrUndefined(a);
  const sb = statOrUndefined(b);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino; // hard links
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(canonical(folder), canonical(path));
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The folder an output goes into exists, is a folder, and can be written. */
function checkParent(output: Output): void {
  const parent = dirname(resolve(output.path));
  let existing = parent;
  while (statOrUndefined(existing) === undefined && dirname(existing) !== existing) existing = dirname(existing);
  const found = statOrUndefined(existing);
  if (found && !found.isDirectory()) throw new ArtifactError(`${label(output)}: ${existing} is a file, not a folder`);
  if (existing !== parent) throw new ArtifactError(`${label(output)}: folder ${parent} does not exist; create it first`);
  checkWritable(parent, output);
}

function checkWritable(folder: string, output: Output): void {
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EROFS") throw new ArtifactError(`${label(output)}: ${folder} is on a read-only file system; choose another place`);
    throw new ArtifactError(`${label(output)}: cannot write in ${folder} (permission denied); choose a folder you can write or change its permissions`);
  }
}

function checkExisting(output: Output, force: boolean): void {
  const dest = resolve(output.path);
  const found = statOrUndefined(dest);
  if (!found) return;
  if (output.kind === "file") {
    if (found.isDirectory()) throw new ArtifactError(`${label(output)}: is a folder; give a file name`);
    if (!found.isFile()) throw new ArtifactError(`${label(output)}: exists and is not a regular file; give another name`);
    if (!force) throw new ArtifactError(`${label(output)}: exists; give --force to replace it`);
    return;
  }
  if (!found.isDirectory()) throw new ArtifactError(`${label(output)}: is a file, not a folder`);
  const owns = output.owns ?? ARTIFACT_FILES;
  const names = readdirSync(dest);
  const foreign = names.find((name) => !owns.includes(name));
  if (foreign !== undefined) {
    throw new ArtifactError(`${label(output)}: folder holds files qfirm did not write (${foreign}); choose another`);
  }
  if (names.length > 0 && !force) {
    throw new ArtifactError(`${label(output)}: folder holds an earlier build (${names.sort().join(", ")}); give --force to replace it`);
  }
  if (names.length > 0) checkWritable(dest, output); // moving a folder aside rewrites its ".."
}

/**
 * Checks that every output can be written, before the work that makes them: throws
 * ArtifactError naming the first that cannot. `writeFiles` and `writeArtifacts` check
 * again when they write.
 */
export function checkOutputs(outputs: readonly Output[], options: OutputOptions = {}): void {
  outputs.forEach((output, k) => {
    for (const other of outputs.slice(0, k)) {
      if (samePlace(output.path, other.path)) {
        throw new ArtifactError(`${label(other)} and ${label(output)}: two outputs on one path; give each its own`);
      }
      const [folder, inner] = other.kind === "folder" ? [other, output] : [output, other];
      if (folder.kind === "folder" && isInside(inner.path, folder.path)) {
        throw new ArtifactError(`${label(inner)}: is inside ${label(folder)}; give it a path of its own`);
      }
    }
    for (const input of options.inputs ?? []) {
      if (samePlace(output.path, input)) throw new ArtifactError(`${label(output)}: is an input of this command; write elsewhere`);
      if (output.kind === "folder" && isInside(input, output.path)) {
        throw new ArtifactError(`${label(output)}: holds ${input}, an input of this command; choose another folder`);
      }
    }
    checkParent(output);
    checkExisting(output, options.force ?? false);
  });
}

// ---- Errors the user can mend ----

const WHAT_TO_DO: Record<string, string> = {
  EACCES: "permission denied; choose a place you can write or change its permissions",
  EPERM: "operation not permitted; choose a place you can write or change its permissions",
  EROFS: "read-only file system; choose another place",
  ENOENT: "no such file or folder; check the path (a folder to write in must exist)",
  ENOSPC: "no space left on the device; free some space or choose another place",
  EDQUOT: "disk quota exceeded; free some space or choose another place",
  EISDIR: "is a folder; give a file name",
  ENOTDIR: "a part of the path is a file, not a folder",
  EBUSY: "in use (a mount point?); choose another place",
};

/**
 * A file-system error the user can mend as an ArtifactError: one line naming `path`
 * (or the error's own) and what to do. Undefined for anything else (a bug).
 */
export function mendableError(error: unknown, path?: string): ArtifactError | undefined {
  if (error instanceof ArtifactError) return error;
  const e = error as NodeJS.ErrnoException | undefined;
  const what = e?.code === undefined ? undefined : WHAT_TO_DO[e.code];
  const where = path ?? e?.path;
  if (what === undefined || where === undefined) return undefined;
  return new ArtifactError(`${where}: ${what}`);
}

function rethrowMendable(error: unknown, path: string): never {
  throw mendableError(error, path) ?? error;
}

// ---- Writing ----

/** A name beside `dest` that nothing else uses; dot-first so it stays out of listings. */
function tempName(dest: string): string {
  const random = Math.floor(Math.random() * 2 ** 32).toString(36);
  return join(dirname(dest), `.${basename(dest)}.tmp-${process.pid}-${random}`);
}

/** The mode an existing file or folder has, so that replacing it keeps it. */
async function existingMode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/**
 * Writes every file or none: each to a temporary file beside it, then, once all are
 * complete, each renamed into place (a rename within a folder is atomic). Checks the
 * paths first as checkOutputs does.
 */
export async function writeFiles(files: Record<string, Contents>, options: OutputOptions = {}): Promise<void> {
  const paths = Object.keys(files);
  checkOutputs(paths.map((path) => ({ path, kind: "file" })), options);
  const written: [string, string][] = [];
  try {
    for (const path of paths) {
      const dest = resolve(path);
      const temp = tempName(dest);
      try {
        await writeFile(temp, files[path], { flag: "wx" });
        written.push([temp, dest]);
        const mode = await existingMode(dest);
        if (mode !== undefined) await chmod(temp, mode);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        rethrowMendable(error, path);
      }
    }
    for (const [temp, dest] of written) await rename(temp, dest).catch((error) => rethrowMendable(error, dest));
  } finally {
    for (const [temp] of written) await unlink(temp).catch(() => undefined); // only those not renamed are left
  }
}

/**
 * Writes a folder of files (`files` keyed by name) all or nothing: into a temporary
 * folder beside `outDir`, renamed into place when complete. An existing folder is
 * replaced only with `force` and only when it holds nothing but qfirm's own files;
 * the new one keeps its mode, or else gets the user's umask.
 */
export async function writeArtifacts(outDir: string, files: Record<string, Contents>, options: OutputOptions = {}): Promise<void> {
  checkOutputs([{ path: outDir, kind: "folder", owns: [...new Set([...ARTIFACT_FILES, ...Object.keys(files)])] }], options);
  const dest = resolve(outDir);
  const temp = tempName(dest);
  try {
    await mkdir(temp, { mode: 0o777 }); // the umask applies, as to any folder the user makes
    const mode = await existingMode(dest);
    if (mode !== undefined) await chmod(temp, mode);
    for (const [name, contents] of Object.entries(files)) await writeFile(join(temp, name), contents);
    if (mode !== undefined) {
      // Replace our own earlier build: move it aside, move the new one in, drop the old.
      const old = `${temp}.old`;
      await rename(dest, old);
      try {
        await rename(temp, dest);
      } catch (error) {
        await rename(old, dest);
        throw error;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temp, dest);
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    rethrowMendable(error, outDir);
  }
}
