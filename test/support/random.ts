// Seeded u32 streams for tests: the spec's mulberry32 (src/spec/spec.ts), scaled back to
// the u32 it draws (exact: each draw is a u32 / 2^32).

import { mulberry32 } from "../../src/spec/spec.js";

export function mulberry32u32(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 4294967296;
}
