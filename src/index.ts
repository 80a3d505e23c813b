// The library (`qfirm`): everything the CLI does, for programs. ESM only. The part a
// browser needs (driver, format conversion, reference) is also `qfirm/browser`.

// Spec → model
export { parseSpec, parseSpecText, SpecError, SPEC_SCHEMA } from "./spec/spec.js";
export { inferenceOnly, type Decay, type Layer, type LayerWeights, type Loss, type Model, type Optimizer as OptimizerSpec, type QFormat, type Sample, type Training } from "./spec/model.js";
export { formatName, fromQ, lsb, parseFormat, QRangeError, rangeOf, rangeText, toQ } from "./spec/format.js";

// Model → module, and the files a build writes
export { artifactFiles, buildModel, watOf, type Built } from "./build/build.js";
export { TARGETS, type Target } from "./build/compile.js";
export type { Manifest, ManifestTensor } from "./build/manifest.js";
export { renderHeader } from "./build/header.js";
export {
  ARTIFACT_FILES,
  ArtifactError,
  checkOutputs,
  mendableError,
  writeArtifacts,
  writeFiles,
  type Output,
  type OutputOptions,
} from "./build/artifacts.js";

// Running a module, and checking it against float64
export { Firmware, type ModuleExports } from "./run/driver.js";
export { footprint, type Footprint } from "./run/inspect.js";
export * as reference from "./reference/network.js";
export { allQuantities, compare, TOLERANCES } from "./check/parity.js";

// Training
export { train, trainedSpec, renderSpec, type Accuracy, type EpochResult, type Progress, type TrainOptions, type TrainResult } from "./train/train.js";
export { DataError, loadDataFile, parseData, type Dataset } from "./train/data.js";
export { DATASET_PACKAGES, DatasetMissingError, loadIris, loadMnist, type NamedDataset } from "./train/datasets.js";
export { lossCurveSvg } from "./train/svg.js";

// The browser page
export { DEFAULT_PAGE_STEPS, pageScript, renderPage, type PageOptions } from "./web/page.js";

// On a microcontroller: C hosts, runtimes, the emulated board
export { emulate, BOARDS, type EmulateResult } from "./mcu/emulate.js";
export { hostFiles, HOSTS } from "./mcu/host.js";
export { hostRuntime, HOST_RUNTIMES, type HostRuntime } from "./mcu/runtimes.js";
