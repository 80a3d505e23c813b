// `qfirm/browser`: the part of the library a web page or app needs to run a built
// module: load and drive it (the driver), convert between floats and Q values, and
// the float64 reference to compare with. Nothing this file imports, directly or not,
// is a Node built-in (test/browser.test.ts bundles it for the browser to prove it);
// building a module (asc, binaryen, the file system) stays in `qfirm`.

export { Firmware, type ModuleExports } from "./run/driver.js";
export { formatName, fromQ, lsb, parseFormat, QRangeError, rangeOf, rangeText, toQ } from "./spec/format.js";
export { layerUnits, type Manifest, type ManifestTensor } from "./build/manifest.js";
export type { LayerWeights, Model, QFormat, Sample } from "./spec/model.js";
export * as reference from "./reference/network.js";
