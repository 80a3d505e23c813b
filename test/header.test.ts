// model.h compiled by the system C compiler: its bytes are the module and its
// #defines are the manifest's numbers.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { buildModel } from "../src/build/build.js";
import { cName, renderHeader } from "../src/build/header.js";
import { randomModel } from "./support/models.js";

const run = promisify(execFile);

const HOST = (prefix: string, upper: string) => `
#include <stdio.h>
#include "model.h"
int main(void) {
  FILE *out = fopen("module.wasm", "wb");
  fwrite(${prefix}_wasm, 1, ${prefix}_wasm_len, out);
  fclose(out);
  printf("%d %d %d %d %d %d %d %d %d %d %d %d\\n", ${upper}_ABI, ${upper}_FRAC_BITS, ${upper}_GRAD_FRAC_BITS,
    ${upper}_INPUTS, ${upper}_OUTPUTS, ${upper}_PARAM_COUNT, ${upper}_INPUT_OFFSET, ${upper}_OUTPUT_OFFSET,
    ${upper}_TARGET_OFFSET, ${upper}_PARAMS_OFFSET, ${upper}_GRADS_OFFSET, ${upper}_L1_BIAS_GRAD_OFFSET);
  return sizeof ${prefix}_wasm == ${upper}_WASM_LEN ? 0 : 1;
}
`;

describe("model.h", () => {
  it("compiles with -Wall -Werror, holds the module's bytes and the manifest's offsets", async () => {
    const model = randomModel({ seed: 5 });
    const { wasm, manifest } = await buildModel(model);
    const dir = await mkdtemp(join(tmpdir(), "qfirm-header-"));
    await writeFile(join(dir, "model.h"), renderHeader(manifest, wasm));
    const prefix = cName(model.name);
    await writeFile(join(dir, "host.c"), HOST(prefix, prefix.toUpperCase()));
    await run("cc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-o", "host", "host.c"], { cwd: dir });
    const { stdout } = await run("./host", [], { cwd: dir });
    expect(new Uint8Array(await readFile(join(dir, "module.wasm")))).toEqual(wasm);
    const m = manifest;
    const bias1 = m.params.find((t) => t.layer === 1 && t.kind === "bias")!;
    expect(stdout.trim().split(" ").map(Number)).toEqual([
      1, m.format.fracBits, m.gradFormat.fracBits, m.inputs, m.outputs, m.paramCount,
      m.buffers.input, m.buffers.output, m.buffers.target, m.buffers.params, m.buffers.grads, bias1.gradOffset,
    ]);
  });

  it("derives C names from the spec's name", () => {
    expect(cName("documented-example")).toBe("documented_example");
  });
});
