// The library: everything the CLI does, for programs.
export { buildModel, type Built } from "./build/build.js";
export { Firmware } from "./run/driver.js";
export { formatName, fromQ, parseFormat, QRangeError, toQ } from "./spec/format.js";
export type { Manifest } from "./build/manifest.js";
export { inferenceOnly, type Model, type Optimizer as OptimizerSpec, type Training } from "./spec/model.js";
export { allQuantities, compare, TOLERANCES } from "./check/parity.js";
export * as reference from "./reference/network.js";
export { Optimizer as ReferenceOptimizer } from "./reference/optimizer.js";
export { parseSpec, parseSpecText, SpecError } from "./spec/spec.js";
