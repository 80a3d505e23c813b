// Tests that need a WebAssembly runtime (QFIRM_RUNTIMES) or a toolchain: skipped with
// one line saying how to enable them, or failed instead under QFIRM_REQUIRE_RUNTIMES=1.

import { describe, it } from "vitest";
import { ToolchainError, which } from "../../src/mcu/exec.js";
import { runtimeSource, type RuntimeName } from "../../src/mcu/runtimes.js";

export const REQUIRE_ENV = "QFIRM_REQUIRE_RUNTIMES";

export interface Needs {
  runtimes?: RuntimeName[];
  /** [program, Debian package] */
  tools?: [string, string][];
}

/** What is missing for these needs, or undefined when everything is here. */
export function missing(needs: Needs): string | undefined {
  for (const name of needs.runtimes ?? []) {
    try {
      runtimeSource(name);
    } catch (error) {
      if (error instanceof ToolchainError) return error.message;
      throw error;
    }
  }
  for (const [program, pkg] of needs.tools ?? []) {
    if (!which(program)) return `${program} not found (Debian's ${pkg})`;
  }
  return undefined;
}

/**
 * describe() when the needs are met; otherwise a skipped block whose title says how to
 * enable it, or, under QFIRM_REQUIRE_RUNTIMES=1, one failing test naming what is missing.
 */
export function describeWith(needs: Needs, title: string, body: () => void): void {
  const why = missing(needs);
  if (!why) {
    describe(title, body);
  } else if (process.env[REQUIRE_ENV] === "1") {
    describe(title, () => it(`has what it needs (${REQUIRE_ENV}=1)`, () => {
      throw new Error(why);
    }));
  } else {
    const line = `skipped "${title}": ${why}; .ci/run shows the setup (${REQUIRE_ENV}=1 makes this a failure)`;
    console.warn(line);
    describe.skip(`${title} (${line})`, body);
  }
}
