// The float64 reference's gradients against an independent float64 autodiff engine
// (forward-mode dual numbers, test/support/dual.ts) on the seeded nets of every
// activation and loss: 1e-9 relative. (TF.js, the other engine, computes in float32;
// test/losses.test.ts compares with it at float32 precision.)

import { describe, expect, it } from "vitest";
import { flattenParams, unflattenParams } from "../src/build/layout.js";
import type { Activation, Model } from "../src/spec/model.js";
import { trace } from "../src/reference/network.js";
import { abs, Dual, exp, log, relu, sigmoid, sqrt, sum, tanh } from "./support/dual.js";
import { CASES, drawNet, HUBER_DELTA } from "./support/nets.js";

const RELATIVE = 1e-9;
/** For gradients that are zero or nearly so, an absolute floor of a few ulps of the loss's scale. */
const ABSOLUTE = 1e-13;

function activate(name: Activation, z: Dual[]): Dual[] {
  switch (name) {
    case "sigmoid":
      return z.map(sigmoid);
    case "tanh":
      return z.map(tanh);
    case "relu":
      return z.map(relu);
    case "linear":
      return z;
    case "softmax": {
      const max = Math.max(...z.map((v) => v.v));
      const e = z.map((v) => exp(v.sub(max)));
      const total = sum(e);
      return e.map((v) => v.div(total));
    }
  }
}

function lossOf(model: Model, yHat: Dual[], y: number[]): Dual {
  switch (model.loss.type) {
    case "l2":
      return sum(yHat.map((p, j) => p.sub(y[j]).mul(p.sub(y[j])))).mul(0.5);
    case "l1":
      return sum(yHat.map((p, j) => abs(p.sub(y[j]))));
    case "huber": {
      const delta = model.loss.delta ?? HUBER_DELTA;
      return sum(
        yHat.map((p, j) => {
          const d = abs(p.sub(y[j]));
          return d.v <= delta ? d.mul(d).mul(0.5) : d.sub(delta / 2).mul(delta);
        }),
      );
    }
    case "hinge":
      return sum(yHat.map((p, j) => relu(new Dual(1).sub(p.mul(y[j])))));
    case "cross_entropy":
      return sum(yHat.map((p, j) => log(p).mul(-y[j])));
    case "cosine": {
      const dot = sum(yHat.map((p, j) => p.mul(y[j])));
      const norm = sqrt(sum(yHat.map((p) => p.mul(p))));
      const normY = Math.hypot(...y);
      return new Dual(1).sub(dot.div(norm.mul(normY)));
    }
  }
}

/** ∂L/∂p_k for every parameter k: one forward pass per parameter, seeded ε on p_k. */
function dualGradients(model: Model, flat: number[], input: number[], target: number[]): number[] {
  return flat.map((_, k) => {
    const params = unflattenParams(model, flat.map((v, i) => new Dual(v, i === k ? 1 : 0)) as unknown as number[]) as unknown as {
      weight: Dual[][];
      bias: Dual[];
    }[];
    let x = input.map((v) => new Dual(v));
    model.layers.forEach((layer, l) => {
      const z = params[l].bias.map((b, j) => sum(x.map((xi, i) => xi.mul(params[l].weight[i][j]))).add(b));
      x = activate(layer.activation, z);
    });
    return lossOf(model, x, target).d;
  });
}

describe("reference gradients against forward-mode dual numbers", () => {
  it.each(CASES.map((c, i) => [c.name, i] as const))("%s", (_, caseIndex) => {
    const net = drawNet(CASES[caseIndex], caseIndex);
    const flat = flattenParams(net.params);
    const expected = dualGradients(net.model, flat, net.input, net.target);
    const actual = flattenParams(trace(net.model, net.params, net.input, net.target).grads);
    actual.forEach((g, k) => {
      const error = Math.abs(g - expected[k]);
      expect(error <= ABSOLUTE || error <= RELATIVE * Math.abs(expected[k]), `param ${k}: reference ${g}, dual ${expected[k]}`).toBe(true);
    });
  });
});
