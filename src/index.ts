// The library: everything the CLI does, for programs.
export { buildModel, type Built } from "./build/build.js";
export { Firmware } from "./run/driver.js";
export { formatName, fromQ, parseFormat, QRangeError, toQ } from "./spec/format.js";
export type { Manifest } from "./build/manifest.js";
export type { Model } from "./spec/model.js";
export { allQuantities, compare, TOLERANCES } from "./check/parity.js";
export * as reference from "./reference/network.js";
export { parseSpec, parseSpecText, SpecError } from "./spec/spec.js";
export { emulate, BOARDS, type EmulateResult } from "./mcu/emulate.js";
export { hostFiles, HOSTS } from "./mcu/host.js";
export { hostRuntime, HOST_RUNTIMES, type HostRuntime } from "./mcu/runtimes.js";
