// The exact Q values beside the float32 weights. TF.js and most ONNX runtimes load
// float32 weights, and a Q value needs up to 31 significant bits (a q8.24 weight
// of magnitude ≥ 1 does not fit float32's 24), so `qfirm export` also records
// every param as the module holds it, with the spec's other fields, in the file's
// own metadata slot (TF.js `userDefinedMetadata.qfirm`, ONNX `metadata_props` key
// "qfirm"). `qfirm import` uses them only while each one, rounded to float32,
// still equals the weight the file holds: weights changed after the export win.
//
// Version 2 (what this qfirm writes) holds the whole spec but inputs, layers'
// shapes and weights: format, params, name, gradFormat, loss, the optimizer with
// its constants and decay, training, each layer's trainable flag, lut and batch.
// Version 1 held loss and learning rate only (plain SGD); it is still read.

import { isTrainable, optimizerField, TRAINING_MODES, type Model } from "../spec/model.js";
import { formatName, toQ } from "../spec/format.js";
import { flattenParams } from "../build/layout.js";
import { ImportError, type ExactRecord } from "./steps.js";

export const EXACT_KEY = "qfirm";
const EXACT_VERSION = 2;
const READS = [1, 2];

/** The record `qfirm export` writes: JSON-ready. */
export function exactRecordOf(model: Model): Record<string, unknown> {
  const F = model.format.fracBits;
  const params = Int32Array.from(flattenParams(model.weights), (v) => toQ(v, F));
  const bytes = new Uint8Array(params.length * 4);
  const view = new DataView(bytes.buffer);
  params.forEach((q, k) => view.setInt32(4 * k, q, true));
  return {
    version: EXACT_VERSION,
    format: formatName(model.format),
    params: Buffer.from(bytes).toString("base64"),
    spec: {
      name: model.name,
      ...(model.training === "none"
        ? {}
        : {
            gradFormat: formatName(model.gradFormat),
            loss: model.loss,
            optimizer: optimizerField(model.optimizer),
            trainable: model.layers.map(isTrainable),
          }),
      training: model.training,
      lut: model.lut,
      ...(model.batchCapacity > 0 ? { batch: { capacity: model.batchCapacity } } : {}),
    },
  };
}

/** The record as a reader finds it (already JSON-parsed); undefined when absent, an error when malformed. */
export function parseExactRecord(value: unknown, where: string): ExactRecord | undefined {
  if (value === undefined || value === null) return undefined;
  const bad = (what: string) => new ImportError(`${where}: the qfirm record ${what}`);
  if (typeof value !== "object" || Array.isArray(value)) throw bad("is not an object");
  const r = value as Record<string, unknown>;
  if (!READS.includes(r.version as number)) throw bad(`has version ${JSON.stringify(r.version)}; this qfirm reads versions ${READS.join(" and ")}`);
  if (typeof r.format !== "string" || !/^q\d+\.\d+$/.test(r.format)) throw bad("has no format");
  if (typeof r.params !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(r.params)) throw bad("has no base64 params");
  const bytes = Buffer.from(r.params, "base64");
  if (bytes.length % 4 !== 0) throw bad(`params hold ${bytes.length} bytes, not whole i32 words`);
  const params = new Int32Array(bytes.length / 4);
  for (let k = 0; k < params.length; k++) params[k] = bytes.readInt32LE(4 * k);
  if (typeof r.spec !== "object" || r.spec === null || Array.isArray(r.spec)) throw bad("has no spec fields");
  const spec = r.spec as Record<string, unknown>;
  if (spec.training !== undefined && !(TRAINING_MODES as readonly unknown[]).includes(spec.training)) throw bad(`has training ${JSON.stringify(spec.training)}`);
  if (spec.trainable !== undefined && !(Array.isArray(spec.trainable) && spec.trainable.every((t) => typeof t === "boolean"))) {
    throw bad("has trainable flags that are not true or false");
  }
  if (spec.optimizer !== undefined && (typeof spec.optimizer !== "object" || spec.optimizer === null || Array.isArray(spec.optimizer))) throw bad("has an optimizer that is not an object");
  return { format: r.format, params, spec: r.spec as Record<string, unknown> };
}
