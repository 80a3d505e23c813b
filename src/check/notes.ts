// The figures the handwritten notes print for the documented example (part 3 of
// seed/000_346b069678722520.txt, transcribed in shared/documented-example.md), as
// data, in the notes' order. Typed from the transcription, never computed by the code
// under test: the reference test checks the code against these.
//
// Notation of the notes, mapped onto a Trace (layers 0-based in the Trace, 1-based in
// the notes): z_{j-k} is z[k-1][j-1]; y_{j-k} is a[k-1][j-1]; ŷ is output[0];
// W_{ij-k} is weight[i-1][j-1] of layer k-1; B_{j-k} is bias[j-1] of layer k-1.
//
// Precision. `places` counts DECIMAL places: the position of the last printed digit
// is 10^−places, also for figures printed in scientific notation (2.8 × 10⁻⁵ has
// places = 6). A figure holds when the float64 value rounds to it at that place, i.e.
// |value − expected| ≤ tolerance = ½ · 10^−places. (The transcription's heading says
// "4 significant places", but the notes round most figures to 4 DECIMAL places:
// 0.0054, 0.0212; the small ones to 2 significant digits.)
//
// `printed` is what the notes show; `expected` is what the reference must match. They
// differ only in the rows flagged `unrounded`, where the notes multiplied the ROUNDED
// ∂L/∂z_{1-1} = 0.0014 or ∂L/∂z_{2-1} = 0.0028 by an input, so their last printed digit
// is off; `expected` there is the unrounded product at the same places.
//
// "The 13 gradients". The notes' backward section prints 13 rows of the form ∂L/∂·
// (kind "gradient"): ∂L/∂ŷ, ∂L/∂z_{1-2}, ∂L/∂W_{11-2}, ∂L/∂W_{21-2}, ∂L/∂y_{2-1},
// ∂L/∂z_{1-1}, ∂L/∂z_{2-1} and the six first-layer weights. The other three backward
// rows (∂ŷ/∂z_{1-2}, ∂y_{1-1}/∂z_{1-1}, ∂y_{2-1}/∂z_{2-1}) are local derivatives, not
// gradients of L (kind "derivative"). The network has 11 parameters; each one's
// gradient is among the 13 (a bias's gradient is its unit's ∂L/∂z, as the notes write
// "∂L/∂z_{1-2} = ∂L/∂B_{1-2}"); `parameters` names them. ∂L/∂ŷ and ∂L/∂y_{2-1} are
// the two gradients that are not parameter gradients. The notes never print ∂L/∂y_{1-1}
// (= 0.0212 × 0.4 ≈ 0.0085): their ∂L/∂z_{1-1} row reads "0.0035 × 0.1677 = 0.0014",
// where 0.0035 is an OCR or writing slip for it (0.0035 × 0.1677 would be 0.00059).

import type { Trace } from "../reference/network.js";

export type FigureKind = "forward" | "loss" | "derivative" | "gradient";

export interface NoteFigure {
  /** ASCII key, stable for code and JSON: "z1-1", "yhat", "dL/dW11-1", "dyhat/dz1-2". */
  key: string;
  /** As the notes write it: "∂L/∂W11-1". */
  label: string;
  kind: FigureKind;
  /** The figure as the notes print it (for display). */
  printed: number;
  /** The value the float64 reference must round to; equals `printed` unless `unrounded`. */
  expected: number;
  /** Decimal places of the last printed digit (of `printed` and of `expected`). */
  places: number;
  /** ½ · 10^−places: half a unit in the last printed place. */
  tolerance: number;
  /** The notes' figure comes from rounded intermediates; `expected` is the unrounded value. */
  unrounded?: boolean;
  /** For gradient rows: the parameters ("W11-1", "B1-2") whose ∂L/∂· this row is. */
  parameters?: string[];
  remark?: string;
  pick: (t: Trace) => number;
}

type FigureInput = Omit<NoteFigure, "expected" | "tolerance"> & { expected?: number };

function figure(input: FigureInput): NoteFigure {
  return { ...input, expected: input.expected ?? input.printed, tolerance: 0.5 * 10 ** -input.places };
}

/** Local derivative ∂a/∂z of one unit, as dZ / dA (the trace holds no bare derivatives). */
function localDerivative(t: Trace, layer: number, unit: number): number {
  return t.dZ[layer][unit] / t.dA[layer][unit];
}

const FROM_ROUNDED_0_0014 =
  "the notes multiply the rounded ∂L/∂z1-1 = 0.0014 by an input; the float64 product is checked";
const FROM_ROUNDED_0_0028 =
  "the notes multiply the rounded ∂L/∂z2-1 = 0.0028 by an input; the float64 product is checked";

export const NOTE_FIGURES: NoteFigure[] = [
  // Forward pass.
  figure({ key: "z1-1", label: "z1-1", kind: "forward", printed: 1.3062, places: 4, pick: (t) => t.z[0][0] }),
  figure({ key: "z2-1", label: "z2-1", kind: "forward", printed: 1.8981, places: 4, pick: (t) => t.z[0][1] }),
  figure({ key: "y1-1", label: "y1-1 = σ(z1-1)", kind: "forward", printed: 0.7869, places: 4, pick: (t) => t.a[0][0] }),
  figure({ key: "y2-1", label: "y2-1 = σ(z2-1)", kind: "forward", printed: 0.8697, places: 4, pick: (t) => t.a[0][1] }),
  figure({ key: "z1-2", label: "z1-2", kind: "forward", printed: 0.9136, places: 4, pick: (t) => t.z[1][0] }),
  figure({ key: "yhat", label: "ŷ = σ(z1-2)", kind: "forward", printed: 0.7137, places: 4, pick: (t) => t.output[0] }),
  figure({ key: "L", label: "L = ½(y − ŷ)²", kind: "loss", printed: 0.0054, places: 4, pick: (t) => t.loss }),

  // Backward pass, output layer.
  figure({
    key: "dL/dyhat", label: "∂L/∂ŷ = ŷ − y", kind: "gradient", printed: 0.1037, places: 4,
    pick: (t) => t.dA[1][0],
  }),
  figure({
    key: "dyhat/dz1-2", label: "∂ŷ/∂z1-2 = ŷ(1 − ŷ)", kind: "derivative", printed: 0.2043, places: 4,
    pick: (t) => localDerivative(t, 1, 0),
  }),
  figure({
    key: "dL/dz1-2", label: "∂L/∂z1-2 = ∂L/∂B1-2", kind: "gradient", printed: 0.0212, places: 4,
    parameters: ["B1-2"], pick: (t) => t.dZ[1][0],
  }),
  figure({
    key: "dL/dW11-2", label: "∂L/∂W11-2", kind: "gradient", printed: 0.0167, places: 4,
    parameters: ["W11-2"], pick: (t) => t.grads[1].weight[0][0],
  }),
  figure({
    key: "dL/dW21-2", label: "∂L/∂W21-2", kind: "gradient", printed: 0.0184, places: 4,
    parameters: ["W21-2"], pick: (t) => t.grads[1].weight[1][0],
  }),

  // Backward pass, hidden layer.
  figure({
    key: "dL/dy2-1", label: "∂L/∂y2-1", kind: "gradient", printed: 0.0246, places: 4,
    remark: "the notes label this row ∂L/∂W21-1 and write 0.0212 × 0.46 (for × 1.16)",
    pick: (t) => t.dA[0][1],
  }),
  figure({
    key: "dy1-1/dz1-1", label: "∂y1-1/∂z1-1 = y1-1(1 − y1-1)", kind: "derivative", printed: 0.1677, places: 4,
    pick: (t) => localDerivative(t, 0, 0),
  }),
  figure({
    key: "dy2-1/dz2-1", label: "∂y2-1/∂z2-1 = y2-1(1 − y2-1)", kind: "derivative", printed: 0.1133, places: 4,
    pick: (t) => localDerivative(t, 0, 1),
  }),
  figure({
    key: "dL/dz1-1", label: "∂L/∂z1-1 = ∂L/∂B1-1", kind: "gradient", printed: 0.0014, places: 4,
    parameters: ["B1-1"],
    remark: "the notes write 0.0035 × 0.1677 = 0.0014; the factor is ∂L/∂y1-1 = 0.0212 × 0.4 ≈ 0.0085",
    pick: (t) => t.dZ[0][0],
  }),
  figure({
    key: "dL/dz2-1", label: "∂L/∂z2-1 = ∂L/∂B2-1", kind: "gradient", printed: 0.0028, places: 4,
    parameters: ["B2-1"], remark: "the notes label it ∂L/∂B1-1 in one row",
    pick: (t) => t.dZ[0][1],
  }),
  figure({
    key: "dL/dW11-1", label: "∂L/∂W11-1", kind: "gradient", printed: 2.8e-5, places: 6,
    parameters: ["W11-1"], remark: 'printed "2.3 × 10^5": 2.8 misread, and the exponent\'s minus sign dropped',
    pick: (t) => t.grads[0].weight[0][0],
  }),
  figure({
    key: "dL/dW21-1", label: "∂L/∂W21-1", kind: "gradient", printed: 4.2e-5, expected: 4.3e-5, places: 6,
    unrounded: true, parameters: ["W21-1"],
    remark: `${FROM_ROUNDED_0_0014}: 0.0014 × 0.03 = 4.2e-5, but 0.0014217 × 0.03 = 4.265e-5 rounds to 4.3e-5`,
    pick: (t) => t.grads[0].weight[1][0],
  }),
  figure({
    key: "dL/dW31-1", label: "∂L/∂W31-1", kind: "gradient", printed: -0.00285, expected: -0.00293, places: 5,
    unrounded: true, parameters: ["W31-1"],
    remark:
      `${FROM_ROUNDED_0_0014}: 0.0014217 × −2.06 = −0.0029288. ` +
      "Even the rounded product 0.0014 × −2.06 = −0.002884 would print −0.00288, not −0.00285: " +
      "an arithmetic or OCR slip on top of the rounding",
    pick: (t) => t.grads[0].weight[2][0],
  }),
  figure({
    key: "dL/dW12-1", label: "∂L/∂W12-1", kind: "gradient", printed: 5.6e-5, places: 6,
    parameters: ["W12-1"], pick: (t) => t.grads[0].weight[0][1],
  }),
  figure({
    key: "dL/dW22-1", label: "∂L/∂W22-1", kind: "gradient", printed: 8.4e-5, places: 6,
    parameters: ["W22-1"], remark: 'printed "0.4 × 10^5": 8.4 misread, and the exponent\'s minus sign dropped',
    pick: (t) => t.grads[0].weight[1][1],
  }),
  figure({
    key: "dL/dW32-1", label: "∂L/∂W32-1", kind: "gradient", printed: -0.00577, expected: -0.00574, places: 5,
    unrounded: true, parameters: ["W32-1"],
    remark: `${FROM_ROUNDED_0_0028}: 0.0027865 × −2.06 = −0.0057402`,
    pick: (t) => t.grads[0].weight[2][1],
  }),
];

/** The 13 ∂L/∂· rows the notes print (see the header). */
export const GRADIENT_KEYS: string[] = NOTE_FIGURES.filter((f) => f.kind === "gradient").map((f) => f.key);

/** The notes' name of each of the 11 parameters → the key of the row holding its gradient. */
export const PARAMETER_GRADIENT_KEYS: Record<string, string> = Object.fromEntries(
  NOTE_FIGURES.flatMap((f) => (f.parameters ?? []).map((p) => [p, f.key])),
);
