// Writing outputs (src/build/artifacts.ts) through the real binary: a path the user
// can mend is exit 2 with one line naming it and what to do, checked before the long
// work; nothing is half-written, no input and no existing file is overwritten without
// --force, two outputs never share a path, and new folders get the user's umask.
//
// How each file-system case is made (the tests run as root, whom mode bits do not stop):
// - permission denied (EACCES): a 0555 folder, qfirm run as `nobody` through setpriv;
// - a read-only file system (EROFS): a tmpfs mounted read-only in a private mount
//   namespace (unshare -rm);
// - a full disk (ENOSPC): an 8 KiB tmpfs in such a namespace; model.h does not fit;
// - a missing folder (ENOENT), a path under a file (ENOTDIR), a folder given for a
//   file (EISDIR): plain paths.
// setpriv and unshare come with util-linux; without them (or without user namespaces)
// those cases skip with one line, and fail under QFIRM_REQUIRE_RUNTIMES=1.

import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoStack, expectOneLineFailure, ROOT, runQfirm, type RunOptions } from "./support/cli.js";

const EXAMPLE = join(ROOT, "examples", "documented-example.json");
const IRIS = join(ROOT, "examples", "iris.json");
const TEST_TIMEOUT_MS = 180_000;
const REQUIRE = process.env.QFIRM_REQUIRE_RUNTIMES === "1";

const qfirm = (args: string[], options?: RunOptions) => runQfirm(args, options);

/** Whether `command` runs here; a reason (one line) when it does not. */
function unavailable(command: string[]): string | undefined {
  try {
    execFileSync(command[0], command.slice(1), { stdio: "ignore" });
    return undefined;
  } catch (error) {
    return `${command.join(" ")} does not run here (${(error as Error).message.split("\n")[0]})`;
  }
}

const isRoot = process.getuid?.() === 0;
/** As root, qfirm runs as nobody so that mode bits apply; as anyone else, as themselves. */
const AS_NOBODY = isRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
const noSetpriv = isRoot ? unavailable([...AS_NOBODY, "true"]) : undefined;
const noNamespaces = unavailable(["unshare", "-rm", "true"]);

function skipBecause(reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (REQUIRE) throw new Error(`QFIRM_REQUIRE_RUNTIMES=1: ${reason}`);
  console.warn(`skipped: ${reason}`);
  return true;
}

/** Runs qfirm with a fresh tmpfs (mount options `options`) on `mountPoint`; `listing` gets what the tmpfs holds afterwards. */
function onTmpfs(mountPoint: string, options: string, listing: string): RunOptions {
  const script = 'mount -t tmpfs -o "$QFIRM_MOUNT_OPTIONS" tmpfs "$QFIRM_MOUNT" || exit 99; "$0" "$@"; code=$?; ls -A "$QFIRM_MOUNT" > "$QFIRM_LISTING"; exit $code';
  return { wrap: ["unshare", "-rm", "sh", "-c", script], env: { QFIRM_MOUNT: mountPoint, QFIRM_MOUNT_OPTIONS: options, QFIRM_LISTING: listing } };
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "qfirm-artifacts-test-"));
  chmodSync(tmp, 0o755); // nobody must reach the folders below
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function folder(name: string, mode = 0o755): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir);
  await chmod(dir, mode);
  return dir;
}

async function modeOf(path: string): Promise<string> {
  return ((await stat(path)).mode & 0o777).toString(8);
}

describe.concurrent("a place qfirm cannot write: exit 2, one line naming the path and what to do, nothing written", () => {
  it("permission denied (a 0555 folder, as nobody): build, and train before it trains", async ({ expect, skip }) => {
    if (skipBecause(noSetpriv)) skip();
    const dir = await folder("eacces");
    const locked = await folder("eacces/locked", 0o555);
    const build = expectOneLineFailure(await qfirm(["build", EXAMPLE, "--out", join(locked, "fw")], { wrap: AS_NOBODY }));
    expect(build).toBe(`qfirm: --out ${join(locked, "fw")}: cannot write in ${locked} (permission denied); choose a folder you can write or change its permissions`);
    // stdout is empty: not a line of training was printed before the refusal.
    const train = expectOneLineFailure(
      await qfirm(["train", IRIS, "--dataset", "iris", "--epochs", "1000", "--curve", join(dir, "c.svg"), "--out", join(locked, "t.json")], { wrap: AS_NOBODY }),
    );
    expect(train).toBe(`qfirm: --out ${join(locked, "t.json")}: cannot write in ${locked} (permission denied); choose a folder you can write or change its permissions`);
    expect(await readdir(locked)).toEqual([]);
    expect(await readdir(dir)).toEqual(["locked"]);
  }, TEST_TIMEOUT_MS);

  it("a read-only file system (a tmpfs mounted read-only)", async ({ expect, skip }) => {
    if (skipBecause(noNamespaces)) skip();
    const dir = await folder("erofs");
    const mount = await folder("erofs/ro");
    const listing = join(dir, "listing.txt");
    const run = await qfirm(["build", EXAMPLE, "--out", join(mount, "fw")], onTmpfs(mount, "ro", listing));
    expect(expectOneLineFailure(run)).toBe(`qfirm: --out ${join(mount, "fw")}: ${mount} is on a read-only file system; choose another place`);
    expect(await readFile(listing, "utf8")).toBe("");
  }, TEST_TIMEOUT_MS);

  it("a full disk (an 8 KiB tmpfs): the build is refused whole, no temporary file left", async ({ expect, skip }) => {
    if (skipBecause(noNamespaces)) skip();
    const dir = await folder("enospc");
    const mount = await folder("enospc/small");
    const listing = join(dir, "listing.txt");
    const run = await qfirm(["build", EXAMPLE, "--out", join(mount, "fw")], onTmpfs(mount, "size=8k", listing));
    expect(expectOneLineFailure(run)).toBe(`qfirm: ${join(mount, "fw")}: no space left on the device; free some space or choose another place`);
    expect(await readFile(listing, "utf8")).toBe("");
  }, TEST_TIMEOUT_MS);

  it("a folder that does not exist, and a path under a file", async ({ expect }) => {
    const dir = await folder("paths");
    await writeFile(join(dir, "file.txt"), "a file\n");
    const missing = join(dir, "no", "such");
    expect(expectOneLineFailure(await qfirm(["build", EXAMPLE, "--out", join(missing, "fw")]))).toBe(
      `qfirm: --out ${join(missing, "fw")}: folder ${missing} does not exist; create it first`,
    );
    expect(expectOneLineFailure(await qfirm(["train", IRIS, "--dataset", "iris", "--curve", join(dir, "file.txt", "c.svg")]))).toBe(
      `qfirm: --curve ${join(dir, "file.txt", "c.svg")}: ${join(dir, "file.txt")} is a file, not a folder`,
    );
    expect(await readdir(dir)).toEqual(["file.txt"]);
  }, TEST_TIMEOUT_MS);

  it("a folder given where a file goes, and a file where a folder goes", async ({ expect }) => {
    const dir = await folder("kinds");
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "plain"), "mine\n");
    expect(expectOneLineFailure(await qfirm(["train", IRIS, "--dataset", "iris", "--out", join(dir, "sub")]))).toBe(
      `qfirm: --out ${join(dir, "sub")}: is a folder; give a file name`,
    );
    expect(expectOneLineFailure(await qfirm(["build", EXAMPLE, "--out", join(dir, "plain"), "--force"]))).toBe(
      `qfirm: --out ${join(dir, "plain")}: is a file, not a folder`,
    );
    expect(await readFile(join(dir, "plain"), "utf8")).toBe("mine\n");
    expect((await readdir(dir)).sort()).toEqual(["plain", "sub"]);
  }, TEST_TIMEOUT_MS);
});

describe.concurrent("nothing overwritten by mistake", () => {
  it("train --out onto an existing file: refused before training, replaced with --force (keeping its mode)", async ({ expect }) => {
    const dir = await folder("exists");
    const out = join(dir, "trained.json");
    await writeFile(out, "mine\n");
    await chmod(out, 0o600);
    const refused = expectOneLineFailure(await qfirm(["train", IRIS, "--dataset", "iris", "--epochs", "1000", "--out", out]));
    expect(refused).toBe(`qfirm: --out ${out}: exists; give --force to replace it`);
    expect(await readFile(out, "utf8")).toBe("mine\n");

    const forced = await qfirm(["train", IRIS, "--dataset", "iris", "--epochs", "1", "--out", out, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`wrote ${out}`);
    expect(JSON.parse(await readFile(out, "utf8")).weights).toHaveLength(2);
    expect(await modeOf(out)).toBe("600");
    expect(await readdir(dir)).toEqual(["trained.json"]);
  }, TEST_TIMEOUT_MS);

  it("an input is never an output, even with --force: train's spec and data, build's folder", async ({ expect }) => {
    const dir = await folder("inputs");
    const spec = join(dir, "iris.json");
    const data = join(dir, "rows.csv");
    const specText = await readFile(IRIS, "utf8");
    await writeFile(spec, specText);
    await writeFile(data, "0.1,0.2,0.3,0.4,0\n0.5,0.6,0.7,0.8,1\n0.1,0.1,0.1,0.1,2\n");
    for (const [option, path] of [["--out", spec], ["--curve", data]] as const) {
      const line = expectOneLineFailure(await qfirm(["train", spec, "--data", data, "--holdout", "0", option, path, "--force"]));
      expect(line).toBe(`qfirm: ${option} ${path}: is an input of this command; write elsewhere`);
    }
    // The same file by another name.
    const other = join(dir, ".", "..", "inputs", "iris.json");
    expect(expectOneLineFailure(await qfirm(["train", spec, "--data", data, "--out", other, "--force"]))).toContain("is an input of this command");
    const inside = expectOneLineFailure(await qfirm(["build", spec, "--out", dir, "--force"]));
    expect(inside).toBe(`qfirm: --out ${dir}: holds ${spec}, an input of this command; choose another folder`);
    expect(await readFile(spec, "utf8")).toBe(specText);
    expect((await readdir(dir)).sort()).toEqual(["iris.json", "rows.csv"]);
  }, TEST_TIMEOUT_MS);

  it("two outputs on one path are refused, and nothing is written", async ({ expect }) => {
    const dir = await folder("same");
    const path = join(dir, "x");
    const line = expectOneLineFailure(await qfirm(["train", IRIS, "--dataset", "iris", "--out", path, "--curve", join(dir, "..", "same", "x")]));
    expect(line).toBe(`qfirm: --out ${path} and --curve ${join(dir, "..", "same", "x")}: two outputs on one path; give each its own`);
    expect(await readdir(dir)).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

describe.concurrent("folders get the user's umask", () => {
  it("a new --out folder under umask 027 is 0750, its files 0640; an existing empty one keeps its mode", async ({ expect }) => {
    const dir = await folder("umask");
    const withUmask: RunOptions = { wrap: ["sh", "-c", 'umask 027; exec "$0" "$@"'] };
    const fresh = join(dir, "fresh");
    const run = await qfirm(["build", EXAMPLE, "--out", fresh], withUmask);
    expect(run.code, run.stderr).toBe(0);
    expectNoStack(run);
    expect(await modeOf(fresh)).toBe("750");
    for (const name of await readdir(fresh)) expect(await modeOf(join(fresh, name)), name).toBe("640");

    const made = await folder("umask/made", 0o711); // as `mkdir -m 0711` leaves it
    const again = await qfirm(["build", EXAMPLE, "--out", made], withUmask);
    expect(again.code, again.stderr).toBe(0);
    expect(await modeOf(made)).toBe("711");
    expect((await readdir(made)).sort()).toEqual(["model.h", "model.json", "model.wasm"]);
    expect((await readdir(dir)).sort()).toEqual(["fresh", "made"]);
  }, TEST_TIMEOUT_MS);
});
