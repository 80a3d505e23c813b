// A TF.js Layers model saved the way tfjs's file and browser handlers write it:
// model.json (topology, weights manifest, training config) and one weights.bin.

import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** What tfjs's file and browser handlers write as model.json. */
export function modelJson(a: tf.io.ModelArtifacts, manifest: tf.io.WeightsManifestConfig): Record<string, unknown> {
  return {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    weightsManifest: manifest,
    ...(a.trainingConfig ? { trainingConfig: a.trainingConfig } : {}),
  };
}

/** The artifacts model.save() hands its handler (with the optimizer's state). */
export async function savedArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
    { includeOptimizer: true },
  );
  return artifacts!;
}

/** Writes folder/model.json and folder/weights.bin; returns the model.json path. */
export async function writeTfjs(folder: string, artifacts: tf.io.ModelArtifacts): Promise<string> {
  const path = join(folder, "model.json");
  await writeFile(path, JSON.stringify(modelJson(artifacts, [{ paths: ["./weights.bin"], weights: artifacts.weightSpecs! }])));
  await writeFile(join(folder, "weights.bin"), new Uint8Array(artifacts.weightData as ArrayBuffer));
  return path;
}
