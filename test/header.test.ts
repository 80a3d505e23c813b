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
import { parseSpec } from "../src/spec/spec.js";
import { randomModel, randomSpec } from "./support/models.js";

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

  it("says which tensors train and where each optimizer state tensor and the step counter are (Adam, layer 0 frozen)", async () => {
    const spec = randomSpec({ seed: 6 });
    const layers = spec.layers as Record<string, unknown>[];
    layers[0].trainable = false;
    spec.optimizer = { type: "adam", learningRate: 0.01 };
    const model = parseSpec(spec);
    const { wasm, manifest: m } = await buildModel(model);
    const dir = await mkdtemp(join(tmpdir(), "qfirm-header-"));
    await writeFile(join(dir, "model.h"), renderHeader(m, wasm));
    const upper = cName(model.name).toUpperCase();
    const host = `#include <stdio.h>
#include "model.h"
int main(void) {
  printf("%d %d %d %d %d %d %d %d %d %d\\n", ${upper}_L0_WEIGHT_TRAINABLE, ${upper}_L1_WEIGHT_TRAINABLE, ${upper}_L1_BIAS_GRAD_OFFSET,
    ${upper}_L1_WEIGHT_M_OFFSET, ${upper}_L1_WEIGHT_M_FRAC_BITS, ${upper}_L1_BIAS_V_OFFSET, ${upper}_L1_BIAS_V_FRAC_BITS,
    ${upper}_STEP_OFFSET, ${upper}_TRAINABLE_PARAM_COUNT, ${upper}_GRADS_OFFSET);
#ifdef ${upper}_L0_WEIGHT_GRAD_OFFSET
  return 1; /* a frozen tensor has no gradient */
#else
  return 0;
#endif
}
`;
    await writeFile(join(dir, "host.c"), host);
    await run("cc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-o", "host", "host.c"], { cwd: dir });
    const { stdout } = await run("./host", [], { cwd: dir });
    const state = (name: string, kind: string) => m.optimizer!.state.find((t) => t.name === name && t.layer === 1 && t.kind === kind)!;
    const bias1 = m.params.find((t) => t.layer === 1 && t.kind === "bias")!;
    expect(stdout.trim().split(" ").map(Number)).toEqual([
      0, 1, bias1.gradOffset, state("m", "weight").offset, state("m", "weight").fracBits, state("v", "bias").offset, state("v", "bias").fracBits,
      m.optimizer!.step!.offset, m.trainableParamCount, m.buffers.grads,
    ]);
    // The state tensors sit 8 bytes an element apart, in params order, in their buffers.
    expect(state("v", "bias").offset - state("v", "weight").offset).toBe(8 * 5 * 3);
  });

  it("derives C names from the spec's name", () => {
    expect(cName("documented-example")).toBe("documented_example");
  });
});
