// Writes build artifacts so that nothing half-written is ever left behind: every
// file goes to a temporary folder beside the destination, which is renamed into
// place only when complete.

import { existsSync, statSync } from "node:fs";
import { mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

export class ArtifactError extends Error {
  override name = "ArtifactError";
}

/** The files a build writes; a folder holding anything else is not replaced. */
export const ARTIFACT_FILES = ["model.wasm", "model.json", "model.h", "model.wat", "qfirm.h", "qfirm_wasm3.c", "qfirm_wamr.c"];

export async function writeArtifacts(outDir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const dest = resolve(outDir);
  if (existsSync(dest) && !statSync(dest).isDirectory()) {
    throw new ArtifactError(`--out ${outDir}: is a file, not a folder`);
  }
  if (existsSync(dest)) {
    const foreign = (await readdir(dest)).filter((name) => !ARTIFACT_FILES.includes(name));
    if (foreign.length > 0) {
      throw new ArtifactError(`--out ${outDir}: folder holds files qfirm did not write (${foreign[0]}); choose another`);
    }
  }
  const parent = dirname(dest);
  if (!existsSync(parent)) throw new ArtifactError(`--out ${outDir}: parent folder ${parent} does not exist`);
  const temp = await mkdtemp(join(parent, `.${basename(dest)}.tmp-`));
  try {
    for (const [name, contents] of Object.entries(files)) await writeFile(join(temp, name), contents);
    if (existsSync(dest)) {
      // Replace our own earlier build: move it aside, move the new one in, drop the old.
      const old = `${temp}.old`;
      await rename(dest, old);
      await rename(temp, dest);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temp, dest);
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
