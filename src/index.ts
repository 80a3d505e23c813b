// The library: everything the CLI does, for programs.
export { buildModel, type Built } from "./build.js";
export { Firmware } from "./driver.js";
export { formatName, fromQ, parseFormat, QRangeError, toQ } from "./format.js";
export type { Manifest } from "./manifest.js";
export type { Model } from "./model.js";
export { allQuantities, compare, TOLERANCES } from "./parity.js";
export * as reference from "./reference/network.js";
export { parseSpec, parseSpecText, SpecError } from "./spec.js";
