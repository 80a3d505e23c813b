// The float64 reference for a whole Model: the per-op references composed into a
// forward pass, the loss, a backward pass and an optimizer step, for one sample.
// trace() computes every gradient, frozen layers' included (the mathematics); the
// optimizer (optimizer.ts) updates the trainable layers only.
//
// Indexing: layer l is model.layers[l] (0-based). z[l] and a[l] are its
// pre-activation and activation; a[last] is the output ŷ. In the notes' notation
// z_{j-k} is z[k-1][j-1], y_{j-k} is a[k-1][j-1], W_{ij-k} is params[k-1].weight[i-1][j-1].

import { DEFAULT_HUBER_DELTA, fanInOf, outputsOf, type Activation, type LayerWeights, type Loss, type LossType, type Model } from "../spec/model.js";
import { dense_backward, dense_forward } from "./dense.js";
import { linear_backward, linear_forward } from "./linear.js";
import { loss_cosine, loss_cosine_backward } from "./loss_cosine.js";
import {
  loss_cross_entropy,
  loss_cross_entropy_backward,
  loss_cross_entropy_backward_logits,
  loss_cross_entropy_logits,
} from "./loss_cross_entropy.js";
import { loss_hinge, loss_hinge_backward } from "./loss_hinge.js";
import { loss_huber, loss_huber_backward } from "./loss_huber.js";
import { loss_l1, loss_l1_backward } from "./loss_l1.js";
import { loss_l2, loss_l2_backward } from "./loss_l2.js";
import { relu_backward, relu_forward } from "./relu.js";
import { Optimizer } from "./optimizer.js";
import { sigmoid_backward, sigmoid_forward } from "./sigmoid.js";
import { softmax_backward, softmax_forward } from "./softmax.js";
import { tanh_backward, tanh_forward } from "./tanh.js";

/** The optimizer a training run keeps across steps (momentum's velocity, Adam's moments, the step count). */
export { Optimizer } from "./optimizer.js";

export interface ActivationReference {
  forward(z: number[]): number[];
  /** dZ from the layer's OUTPUT y and dA = ∂L/∂y. */
  backward(y: number[], dA: number[]): number[];
}

export interface LossReference {
  /** `spec` is the model's loss: Huber reads its delta; the others ignore it. */
  loss(yHat: number[], y: number[], spec: Loss): number;
  /** ∂L/∂ŷ. */
  backward(yHat: number[], y: number[], spec: Loss): number[];
  /**
   * When the last layer is a softmax: the loss from the logits z, and ∂L/∂z fused
   * through the softmax (what training uses, and the kernel computes), in place of
   * `loss` and softmax_backward(ŷ, backward(ŷ, y)).
   */
  softmax?: {
    lossFromLogits(z: number[], y: number[]): number;
    backwardLogits(yHat: number[], y: number[]): number[];
  };
}

// Full Records: a new activation or loss in model.ts does not type-check until it has
// a reference here. softmax_backward is the full Jacobian; under cross_entropy, trace()
// takes the loss's fused softmax hook instead.
const ACTIVATION_REFERENCES: Record<Activation, ActivationReference> = {
  sigmoid: { forward: sigmoid_forward, backward: sigmoid_backward },
  tanh: { forward: tanh_forward, backward: tanh_backward },
  relu: { forward: relu_forward, backward: relu_backward },
  linear: { forward: linear_forward, backward: linear_backward },
  softmax: { forward: softmax_forward, backward: softmax_backward },
};

const LOSS_REFERENCES: Record<LossType, LossReference> = {
  l2: { loss: loss_l2, backward: loss_l2_backward },
  l1: { loss: loss_l1, backward: loss_l1_backward },
  huber: {
    loss: (yHat, y, spec) => loss_huber(yHat, y, spec.delta ?? DEFAULT_HUBER_DELTA),
    backward: (yHat, y, spec) => loss_huber_backward(yHat, y, spec.delta ?? DEFAULT_HUBER_DELTA),
  },
  hinge: { loss: loss_hinge, backward: loss_hinge_backward },
  cross_entropy: {
    loss: loss_cross_entropy,
    backward: loss_cross_entropy_backward,
    softmax: { lossFromLogits: loss_cross_entropy_logits, backwardLogits: loss_cross_entropy_backward_logits },
  },
  cosine: { loss: loss_cosine, backward: loss_cosine_backward },
};

export function activationReference(name: Activation): ActivationReference {
  const reference = Object.hasOwn(ACTIVATION_REFERENCES, name) ? ACTIVATION_REFERENCES[name] : undefined;
  if (!reference) throw new Error(`activation "${name}" has no reference yet`);
  return reference;
}

export function lossReference(name: LossType): LossReference {
  const reference = Object.hasOwn(LOSS_REFERENCES, name) ? LOSS_REFERENCES[name] : undefined;
  if (!reference) throw new Error(`loss "${name}" has no reference yet`);
  return reference;
}

export interface Trace {
  /** z[l]: layer l's pre-activation. */
  z: number[][];
  /** a[l]: layer l's activation; a[last] is the output. */
  a: number[][];
  /** The output ŷ (the same values as a[last]). */
  output: number[];
  loss: number;
  /**
   * dA[l] = ∂L/∂a[l]; dA[last] = ∂L/∂ŷ. Under softmax + cross_entropy, dA[last] is
   * −y/ŷ (0 where y = 0, −Infinity where y > 0 and ŷ underflowed to 0) and is not used:
   * dZ[last] comes fused from the loss.
   */
  dA: number[][];
  /** dZ[l] = ∂L/∂z[l] (= ∂L/∂bias of layer l). */
  dZ: number[][];
  /** grads[l]: ∂L/∂weight and ∂L/∂bias of layer l, shaped like params[l]. */
  grads: LayerWeights[];
}

export function forward(model: Model, params: LayerWeights[], input: number[]): { z: number[][]; a: number[][] } {
  checkParams(model, params);
  if (input.length !== model.inputs) {
    throw new Error(`input has ${input.length} entries, the model has ${model.inputs} inputs`);
  }
  const z: number[][] = [];
  const a: number[][] = [];
  model.layers.forEach((layer, l) => {
    z.push(dense_forward(l === 0 ? input : a[l - 1], params[l]));
    a.push(activationReference(layer.activation).forward(z[l]));
  });
  return { z, a };
}

/**
 * Forward, loss and backward for one sample. With a softmax on the last layer and a
 * loss that has a fused softmax hook (cross_entropy), the loss comes from the logits
 * (log-sum-exp, finite even where ŷ underflows) and dZ[last] is the fused ∂L/∂z; any
 * other pairing goes through the activation's own backward.
 */
export function trace(model: Model, params: LayerWeights[], input: number[], target: number[]): Trace {
  const loss = lossReference(model.loss.type);
  if (target.length !== outputsOf(model)) {
    throw new Error(`target has ${target.length} entries, the model has ${outputsOf(model)} outputs`);
  }
  const { z, a } = forward(model, params, input);
  const last = model.layers.length - 1;
  const output = a[last];
  const fused = model.layers[last].activation === "softmax" ? loss.softmax : undefined;

  const dA: number[][] = new Array(model.layers.length);
  const dZ: number[][] = new Array(model.layers.length);
  const grads: LayerWeights[] = new Array(model.layers.length);
  dA[last] = loss.backward(output, target, model.loss);
  for (let l = last; l >= 0; l--) {
    dZ[l] =
      l === last && fused
        ? fused.backwardLogits(output, target)
        : activationReference(model.layers[l].activation).backward(a[l], dA[l]);
    const { dW, dB, dX } = dense_backward(l === 0 ? input : a[l - 1], params[l], dZ[l]);
    grads[l] = { weight: dW, bias: dB };
    if (l > 0) dA[l - 1] = dX;
  }
  const value = fused ? fused.lossFromLogits(z[last], target) : loss.loss(output, target, model.loss);
  return { z, a, output, loss: value, dA, dZ, grads };
}

/**
 * One optimizer step on one sample (the model's optimizer; its state, such as momentum's
 * velocity or Adam's moments, carries over in `optimizer` from step to step); `loss` is
 * the loss before the update. Frozen layers keep their params.
 */
export function trainStep(
  model: Model,
  params: LayerWeights[],
  input: number[],
  target: number[],
  optimizer: Optimizer = new Optimizer(model),
): { loss: number; params: LayerWeights[] } {
  const t = trace(model, params, input, target);
  return { loss: t.loss, params: optimizer.step(params, t.grads) };
}

function checkParams(model: Model, params: LayerWeights[]): void {
  if (params.length !== model.layers.length) {
    throw new Error(`params have ${params.length} layers, the model has ${model.layers.length}`);
  }
  model.layers.forEach((layer, l) => {
    const { weight, bias } = params[l];
    const fanIn = fanInOf(model, l);
    if (weight.length !== fanIn || weight.some((row) => row.length !== layer.units) || bias.length !== layer.units) {
      throw new Error(`params of layer ${l} are not ${fanIn}×${layer.units} weights and ${layer.units} biases`);
    }
  });
}
