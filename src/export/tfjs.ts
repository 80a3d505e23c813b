// A TF.js Layers model (the layout `model.save()` writes): model.json with a
// Sequential of Dense layers, one weights.bin of float32 weights in manifest order
// (each layer's kernel [inputs, units] then bias), the training config TF.js
// compiles on load, each frozen layer with `trainable: false`, and the exact Q values
// in userDefinedMetadata.qfirm (src/import/exact.ts). `tf.loadLayersModel` loads it as
// it is.

import { fanInOf, isTrainable, type Model } from "../spec/model.js";
import { EXACT_KEY, exactRecordOf } from "../import/exact.js";
import { frameworkTraining, frozenLines, inexactInFloat32, moduleParams } from "./training.js";

export interface ExportedFiles {
  files: Record<string, string | Uint8Array>;
  lines: string[];
}

export function exportTfjs(model: Model): ExportedFiles {
  const names = model.layers.map((_, l) => `dense_${l + 1}`);
  const layers = model.layers.map((layer, l) => ({
    class_name: "Dense",
    config: {
      name: names[l],
      trainable: isTrainable(layer),
      ...(l === 0 ? { batch_input_shape: [null, model.inputs] } : {}),
      dtype: "float32",
      units: layer.units,
      activation: layer.activation,
      use_bias: true,
    },
  }));
  const weights = model.layers.flatMap((layer, l) => [
    { name: `${names[l]}/kernel`, shape: [fanInOf(model, l), layer.units], dtype: "float32" },
    { name: `${names[l]}/bias`, shape: [layer.units], dtype: "float32" },
  ]);
  const params = moduleParams(model);
  const bin = new Uint8Array(Float32Array.from(params).buffer);
  const training = frameworkTraining(model);
  const json = {
    format: "layers-model",
    generatedBy: "qfirm",
    convertedBy: null,
    modelTopology: {
      class_name: "Sequential",
      config: { name: model.name, layers },
      keras_version: "tfjs-layers 4.22.0",
      backend: "tensor_flow.js",
    },
    weightsManifest: [{ paths: ["weights.bin"], weights }],
    ...(training.loss && training.optimizer ? { trainingConfig: { loss: training.loss, metrics: [], optimizer_config: training.optimizer } } : {}),
    userDefinedMetadata: { [EXACT_KEY]: exactRecordOf(model) },
  };
  const inexact = inexactInFloat32(params);
  return {
    files: { "model.json": JSON.stringify(json, null, 2) + "\n", "weights.bin": bin },
    lines: [
      `TF.js Layers: Sequential of ${model.layers.length} Dense layers, ${params.length} float32 weights`,
      `float32: ${inexact} of ${params.length} values rounded (a float32 holds 24 significant bits); userDefinedMetadata.qfirm keeps every exact value`,
      ...frozenLines(model),
      ...training.lines,
    ],
  };
}
