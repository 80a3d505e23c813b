// The module against the float64 reference, quantity by quantity.

import { lsb } from "../spec/format.js";
import type { Manifest } from "../build/manifest.js";
import { isTrainable, lowestTrainable, type Model } from "../spec/model.js";
import type { Trace } from "../reference/network.js";

export type QuantityKind = "forward" | "loss" | "derivative" | "gradient";

export interface Quantity {
  key: string;
  label: string;
  kind: QuantityKind;
  pick: (t: Trace) => number;
}

/** Pass when |module − reference| ≤ abs or ≤ rel·|reference|. */
export interface Tolerance {
  rel: number;
  abs: number;
}

/** The parity contract: output within 1e-4, loss and gradients within 1% relative. */
export const TOLERANCES: Record<QuantityKind, Tolerance> = {
  forward: { rel: 0, abs: 1e-4 },
  loss: { rel: 0.01, abs: 0 },
  derivative: { rel: 0.01, abs: 1e-6 },
  gradient: { rel: 0.01, abs: 1e-6 },
};

export interface ParityRow {
  key: string;
  label: string;
  kind: QuantityKind;
  reference: number;
  module: number;
  absError: number;
  /** |module − reference| / |reference|; Infinity when the reference is 0 and the module is not. */
  relError: number;
  /** The error in units of the quantity's last bit in the module. */
  lsbError: number;
  ok: boolean;
}

/** The fraction bits a quantity of this kind has in the module (activation slopes are computed in the values' format). */
export function fracBitsOf(kind: QuantityKind, manifest: Manifest): number {
  return kind === "gradient" ? manifest.gradFormat.fracBits : manifest.format.fracBits;
}

export function compare(quantities: Quantity[], reference: Trace, module: Trace, manifest: Manifest): ParityRow[] {
  return quantities.map((q) => {
    const ref = q.pick(reference);
    const mod = q.pick(module);
    const absError = Math.abs(mod - ref);
    const relError = absError === 0 ? 0 : absError / Math.abs(ref);
    const tol = TOLERANCES[q.kind];
    return {
      key: q.key,
      label: q.label,
      kind: q.kind,
      reference: ref,
      module: mod,
      absError,
      relError,
      lsbError: absError / lsb(fracBitsOf(q.kind, manifest)),
      ok: absError <= tol.abs || absError <= tol.rel * Math.abs(ref),
    };
  });
}

/**
 * Every quantity of one sample the module computes: z and a; the loss unless it only
 * infers; and, with a grads buffer (training "full"), ∂L/∂a and ∂L/∂z down to the
 * lowest trainable layer and each trainable parameter's gradient.
 */
export function allQuantities(model: Model): Quantity[] {
  const quantities: Quantity[] = [];
  const last = model.layers.length - 1;
  model.layers.forEach((layer, l) => {
    for (let j = 0; j < layer.units; j++) {
      quantities.push({ key: `z[${l}][${j}]`, label: `z[${l}][${j}]`, kind: "forward", pick: (t) => t.z[l][j] });
      const a = l === last ? `ŷ[${j}]` : `a[${l}][${j}]`;
      quantities.push({ key: a, label: a, kind: "forward", pick: (t) => t.a[l][j] });
    }
  });
  if (model.training === "none") return quantities;
  quantities.push({ key: "loss", label: "L", kind: "loss", pick: (t) => t.loss });
  if (model.training === "lean") return quantities;
  for (let l = last; l >= lowestTrainable(model); l--) {
    const units = model.layers[l].units;
    // Softmax with cross-entropy goes straight to ∂L/∂z; the module keeps no ∂L/∂ŷ.
    const fused = l === last && model.layers[l].activation === "softmax";
    for (let j = 0; j < units && !fused; j++) {
      const dA = l === last ? `∂L/∂ŷ[${j}]` : `∂L/∂a[${l}][${j}]`;
      quantities.push({ key: dA, label: dA, kind: "gradient", pick: (t) => t.dA[l][j] });
    }
    for (let j = 0; j < units; j++) {
      quantities.push({ key: `∂L/∂z[${l}][${j}]`, label: `∂L/∂z[${l}][${j}]`, kind: "gradient", pick: (t) => t.dZ[l][j] });
    }
    if (!isTrainable(model.layers[l])) continue;
    const weight = model.weights[l].weight;
    weight.forEach((row, i) =>
      row.forEach((_, j) => {
        const key = `∂L/∂W[${l}][${i}][${j}]`;
        quantities.push({ key, label: key, kind: "gradient", pick: (t) => t.grads[l].weight[i][j] });
      }),
    );
    for (let j = 0; j < units; j++) {
      const key = `∂L/∂b[${l}][${j}]`;
      quantities.push({ key, label: key, kind: "gradient", pick: (t) => t.grads[l].bias[j] });
    }
  }
  return quantities;
}
