// Spec v1 parsing: the documented example, the defaults, one test per kind of
// error (exact path, one-line message), seeded initialisation, and a large spec.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { initWeights, parseSpec, parseSpecText, SpecError } from "../src/spec/spec.js";

const EXAMPLE_TEXT = readFileSync(new URL("../examples/documented-example.json", import.meta.url), "utf8");

/** A fresh copy of the documented example, as plain JSON data. */
function example(): any {
  return JSON.parse(EXAMPLE_TEXT);
}

/** The SpecError that parsing throws; fails the test if nothing is thrown. */
function specError(run: () => unknown): SpecError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    const error = e as SpecError;
    expect(error.message).toBe(`${error.path}: ${error.problem}`);
    expect(error.message).not.toMatch(/\n/);
    expect(error.message.length).toBeLessThan(240);
    return error;
  }
  throw new Error("expected a SpecError, nothing was thrown");
}

function errorOf(mutate: (spec: any) => void): SpecError {
  const spec = example();
  mutate(spec);
  return specError(() => parseSpec(spec));
}

describe("the documented example", () => {
  it("parses to the Model its JSON describes", () => {
    const json = example();
    const model = parseSpecText(EXAMPLE_TEXT, "documented-example.json");
    expect(model).toEqual({
      name: "documented-example",
      format: { bits: 32, fracBits: 24 }, // "q8.24"
      gradFormat: { bits: 32, fracBits: 28 }, // default: 24 + 4
      inputs: 3,
      layers: [
        { units: 2, activation: "sigmoid", trainable: true }, // default: every layer trains
        { units: 1, activation: "sigmoid", trainable: true },
      ],
      loss: { type: "l2" },
      learningRate: 0.5,
      optimizer: { type: "sgd", learningRate: 0.5, momentum: 0 }, // default momentum: plain SGD
      training: "full", // default: grads and every training entry
      lut: { entries: 256, range: 8 },
      batchCapacity: 0, // default: no batch buffer
      weights: [
        { weight: [[0.05, 0.29], [0.74, -0.27], [-0.55, -0.84]], bias: [0.15, 0.17] },
        { weight: [[0.4], [1.16]], bias: [-0.41] },
      ],
      sample: { input: [0.02, 0.03, -2.06], target: [0.61] },
    });
    // The literal above is the file's content, field by field.
    expect(model.weights).toEqual(json.weights);
    expect(model.sample).toEqual(json.sample);
    expect(model.layers.map(({ units, activation }) => ({ units, activation }))).toEqual(json.layers);
  });

  it("does not alias the input", () => {
    const spec = example();
    const model = parseSpec(spec);
    spec.weights[0].weight[0][0] = 99;
    spec.sample.input[0] = 99;
    expect(model.weights[0].weight[0][0]).toBe(0.05);
    expect(model.sample!.input[0]).toBe(0.02);
  });
});

describe("defaults", () => {
  it("fills format, gradFormat, loss, optimizer and lut", () => {
    const model = parseSpec({ name: "tiny", inputs: 2, layers: [{ units: 1, activation: "linear" }], init: { seed: 1 } });
    expect(model.format).toEqual({ bits: 32, fracBits: 24 });
    expect(model.gradFormat).toEqual({ bits: 32, fracBits: 28 });
    expect(model.loss).toEqual({ type: "l2" });
    expect(model.learningRate).toBe(0.01);
    expect(model.lut).toEqual({ entries: 256, range: 12 });
    expect(model).not.toHaveProperty("sample");
  });

  it("caps the default gradFormat at 30 fraction bits and keeps an explicit one", () => {
    const base = { name: "g", inputs: 1, layers: [{ units: 1, activation: "tanh" }], init: { seed: 0 } };
    expect(parseSpec({ ...base, format: "q4.28" }).gradFormat.fracBits).toBe(30);
    expect(parseSpec({ ...base, format: "q16.16", gradFormat: "q12.20" }).gradFormat.fracBits).toBe(20);
  });

  it("gives huber a delta of 1", () => {
    const spec = example();
    spec.loss = { type: "huber" };
    expect(parseSpec(spec).loss).toEqual({ type: "huber", delta: 1 });
    spec.loss = { type: "huber", delta: 0.25 };
    expect(parseSpec(spec).loss).toEqual({ type: "huber", delta: 0.25 });
  });
});

describe("schema errors name the field", () => {
  const cases: [string, (spec: any) => void, string, string][] = [
    ["enum", (s) => (s.layers[1].activation = "swish"), "layers[1].activation", '"swish" is not one of sigmoid, tanh, relu, linear, softmax'],
    ["integer", (s) => (s.inputs = 2.5), "inputs", "must be an integer ≥ 1, got 2.5"],
    ["minimum", (s) => (s.layers[0].units = 0), "layers[0].units", "must be an integer ≥ 1, got 0"],
    ["type", (s) => (s.layers = "abc"), "layers", 'must be an array, got "abc"'],
    ["element type", (s) => (s.weights[0].weight[2][1] = "x"), "weights[0].weight[2][1]", 'must be a number, got "x"'],
    ["required", (s) => delete s.layers, "layers", "missing (required)"],
    ["nested required", (s) => (s.loss = {}), "loss.type", "missing (required)"],
    ["unknown field", (s) => (s.layers[0] = { unit: 2, activation: "relu" }), "layers[0].unit", 'unknown field (did you mean "units"?)'],
    ["unknown root field", (s) => (s.comment = "hi"), "comment", "unknown field (allowed: name, format, gradFormat, inputs, layers, loss, optimizer, training, lut, weights, init, batch, sample)"],
    ["pattern", (s) => (s.name = "3-bad"), "name", `"3-bad" is not a name: a letter, then at most 63 letters, digits, '_' or '-'`],
    ["format pattern", (s) => (s.format = "float32"), "format", '"float32" is not a format like "q8.24"'],
    ["format bits", (s) => (s.format = "q8.25"), "format", '"q8.25" has 33 bits; I + F must be 32'],
    ["gradFormat bits", (s) => (s.gradFormat = "q0.32"), "gradFormat", '"q0.32" has 32 fraction bits; must be 1 to 30'],
    ["minItems", (s) => (s.layers = []), "layers", "must have at least 1 entry, got 0"],
    ["range", (s) => (s.lut = { entries: 5000, range: 8 }), "lut.entries", "must be an integer from 8 to 4096, got 5000"],
    ["exclusiveMinimum", (s) => (s.optimizer.learningRate = 0), "optimizer.learningRate", "must be a number > 0, got 0"],
    ["maximum", (s) => (s.lut.range = 40), "lut.range", "must be a number > 0 and ≤ 32, got 40"],
    ["optimizer enum", (s) => (s.optimizer.type = "rmsprop"), "optimizer.type", '"rmsprop" is not one of sgd, adam'],
    ["seed", (s) => { delete s.weights; s.init = { seed: -1 }; }, "init.seed", "must be an integer from 0 to 4294967295, got -1"],
    ["not finite", (s) => (s.sample.input[1] = Infinity), "sample.input[1]", "Infinity is not a finite number"],
    ["both weights and init", (s) => (s.init = { seed: 3 }), "(root)", 'has both "weights" and "init"; give one of them'],
    ["neither weights nor init", (s) => delete s.weights, "weights", 'missing (required unless "init": { "seed": N } is given)'],
  ];
  it.each(cases)("%s", (_, mutate, path, problem) => {
    const error = errorOf(mutate);
    expect(error.path).toBe(path);
    expect(error.problem).toBe(problem);
  });

  it("rejects a document that is not an object", () => {
    const error = specError(() => parseSpec([1, 2]));
    expect(error.path).toBe("(root)");
    expect(error.problem).toMatch(/^must be an object, got \[1, 2\]/);
  });

  it("reports field errors before the weights/init choice", () => {
    const error = specError(() => parseSpec({ name: "x", inputs: 1 }));
    expect(error.path).toBe("layers");
  });

  it("keeps previews of huge values short", () => {
    const error = errorOf((s) => (s.name = "9".repeat(1_000_000)));
    expect(error.path).toBe("name");
    expect(error.problem.length).toBeLessThan(120);
  });

  it("quotes odd field names", () => {
    expect(errorOf((s) => (s.sample["odd key"] = 1)).path).toBe('sample["odd key"]');
  });
});

describe("semantic errors name the field", () => {
  const cases: [string, (spec: any) => void, string, string][] = [
    ["softmax not last", (s) => (s.layers[0].activation = "softmax"), "layers[0].activation", '"softmax" is only allowed on the last layer (layers[1])'],
    ["softmax without cross_entropy", (s) => { s.layers[1] = { units: 2, activation: "softmax" }; s.weights[1] = { weight: [[0, 0], [0, 0]], bias: [0, 0] }; s.sample.target = [1, 0]; }, "layers[1].activation", '"softmax" needs loss.type "cross_entropy", got "l2"'],
    ["cross_entropy without softmax", (s) => (s.loss = { type: "cross_entropy" }), "loss.type", '"cross_entropy" needs activation "softmax" on the last layer (layers[1])'],
    ["softmax over one unit", (s) => { s.layers[1].activation = "softmax"; s.loss = { type: "cross_entropy" }; }, "layers[1].units", "softmax over 1 unit is always 1 and cannot learn; needs at least 2 units"],
    ["delta without huber", (s) => (s.loss = { type: "l1", delta: 2 }), "loss.delta", 'only loss "huber" takes a delta, not "l1"'],
    ["hinge target", (s) => (s.loss = { type: "hinge" }), "sample.target[0]", '0.61 is not -1 or 1, as loss "hinge" needs'],
    ["weights count", (s) => s.weights.pop(), "weights", "has 1 entry; the model has 2 layers"],
    ["weight rows", (s) => s.weights[1].weight.push([1]), "weights[1].weight", "has 3 rows; layer 1 takes 2 inputs"],
    ["weight row length", (s) => s.weights[0].weight[2].push(1), "weights[0].weight[2]", "has 3 values; layer 0 has 2 units"],
    ["bias length", (s) => s.weights[0].bias.pop(), "weights[0].bias", "has 1 value; layer 0 has 2 units"],
    ["sample input length", (s) => s.sample.input.pop(), "sample.input", "has 2 values; the model takes 3 inputs"],
    ["sample target length", (s) => s.sample.target.push(0), "sample.target", "has 2 values; the model has 1 output"],
    ["bias range", (s) => (s.weights[0].bias[1] = 300), "weights[0].bias[1]", "300 is outside the range of q8.24 [-128, 127.99999994]"],
    ["rounds out of range", (s) => (s.weights[1].weight[1][0] = 127.99999998), "weights[1].weight[1][0]", "127.99999998 is outside the range of q8.24 [-128, 127.99999994]"],
    ["weight range in a narrow format", (s) => { s.format = "q2.30"; s.weights[0].weight[1][0] = -2.5; }, "weights[0].weight[1][0]", "-2.5 is outside the range of q2.30 [-2, 1.999999999]"],
    ["sample range", (s) => (s.sample.input[2] = -200), "sample.input[2]", "-200 is outside the range of q8.24 [-128, 127.99999994]"],
    ["learning rate below one LSB", (s) => (s.optimizer.learningRate = 1e-9), "optimizer.learningRate", "1e-9 is less than one LSB of q8.24 (5.96e-8)"],
    ["learning rate out of range", (s) => (s.optimizer.learningRate = 200), "optimizer.learningRate", "200 is outside the range of q8.24 [-128, 127.99999994]"],
    ["lut spacing", (s) => (s.lut = { entries: 8, range: 32 }), "lut.entries", "8 entries over [0, 32] are 4.571 apart; range / (entries − 1) must be ≤ 1, so use at least 33 entries"],
  ];
  it.each(cases)("%s", (_, mutate, path, problem) => {
    const error = errorOf(mutate);
    expect(error.path).toBe(path);
    expect(error.problem).toBe(problem);
  });

  it("accepts hinge targets of ±1 and the exact format bounds", () => {
    const spec = example();
    spec.loss = { type: "hinge" };
    spec.sample.target = [-1];
    spec.weights[0].bias = [-128, 127.99999994];
    expect(parseSpec(spec).sample!.target).toEqual([-1]);
  });

  it("rejects models that do not fit in 64 MiB, before making any weights", () => {
    const spec = { name: "big", inputs: 3000, layers: [{ units: 3000, activation: "relu" }], init: { seed: 0 } };
    const error = specError(() => parseSpec(spec));
    expect(error.path).toBe("layers");
    expect(error.problem).toBe(
      "the model needs 68.8 MiB of memory for 9,003,000 params and their gradients; the most is 64 MiB (1024 wasm pages)",
    );
    const two = { ...spec, layers: [{ units: 3000, activation: "relu" }, { units: 10, activation: "linear" }] };
    expect(specError(() => parseSpec(two)).problem).toMatch(/9,033,010 params and their gradients \(layers\[0\] has 9,003,000\);/);
    // Absurd sizes take no time and no memory either.
    const absurd = { ...spec, layers: [{ units: 1e15, activation: "relu" }] };
    expect(specError(() => parseSpec(absurd)).path).toBe("layers");
  });

  it("puts the limit exactly at 64 MiB", () => {
    // One input, U units: (2·2U + 1 + 4U + U + 1024) words = 9U + 1025 ≤ 2^24 words,
    // so U = 1,864,021 fits and one more unit does not.
    const spec = (units: number) => ({ name: "edge", inputs: 1, layers: [{ units, activation: "relu" }], init: { seed: 0 } });
    expect(parseSpec(spec(1_864_021)).weights[0].bias).toHaveLength(1_864_021);
    expect(specError(() => parseSpec(spec(1_864_022))).path).toBe("layers");
  });
});

describe("training options: trainable layers, optimizers, decay, training modes", () => {
  it("default to every layer trainable, plain SGD (momentum 0), no decay, full training; Adam to β1 0.9, β2 0.999, ε 1e-7", () => {
    const model = parseSpec(example());
    expect(model.layers.map((l) => l.trainable)).toEqual([true, true]);
    expect(model.optimizer).toEqual({ type: "sgd", learningRate: 0.5, momentum: 0 });
    expect(model.training).toBe("full");
    const adam = parseSpec({ ...example(), optimizer: { type: "adam", learningRate: 0.01 } });
    expect(adam.optimizer).toEqual({ type: "adam", learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(adam.learningRate).toBe(0.01);
    const decayed = parseSpec({ ...example(), optimizer: { type: "sgd", learningRate: 0.1, momentum: 0.9, decay: { type: "step", rate: 0.5, steps: 100 } } });
    expect(decayed.optimizer).toEqual({ type: "sgd", learningRate: 0.1, momentum: 0.9, decay: { type: "step", rate: 0.5, steps: 100 } });
  });

  it("accepts an inference-only spec without loss or optimizer, softmax included", () => {
    const spec = example();
    delete spec.loss;
    delete spec.optimizer;
    spec.training = "none";
    spec.layers[1] = { units: 2, activation: "softmax" };
    spec.weights[1] = { weight: [[0.4, 0.1], [1.16, 0.2]], bias: [-0.41, 0.3] };
    spec.sample.target = [1, 0];
    expect(parseSpec(spec).training).toBe("none");
  });

  it("lets an inference-only spec's sample leave out its target, and no other spec's", () => {
    const spec = example();
    delete spec.loss;
    delete spec.optimizer;
    spec.training = "none";
    delete spec.sample.target;
    expect(parseSpec(spec).sample).toEqual({ input: [0.02, 0.03, -2.06], target: [0] });
    const trains = example();
    delete trains.sample.target;
    const error = specError(() => parseSpec(trains));
    expect(error.path).toBe("sample.target");
    expect(error.problem).toBe('missing (required unless "training" is "none")');
  });

  const cases: [string, (spec: any) => void, string, string][] = [
    ["a beta on sgd", (s) => (s.optimizer.beta1 = 0.9), "optimizer.beta1", 'only "adam" takes beta1, not "sgd"'],
    ["momentum on adam", (s) => (s.optimizer = { type: "adam", learningRate: 0.01, momentum: 0.9 }), "optimizer.momentum", 'only "sgd" takes momentum, not "adam"'],
    ["momentum 1", (s) => (s.optimizer.momentum = 1), "optimizer.momentum", "must be a number ≥ 0 and < 1, got 1"],
    ["momentum below q1.31", (s) => (s.optimizer.momentum = 1e-12), "optimizer.momentum", "1e-12 rounds to 0 in q1.31; use 0 or at least 4.657e-10"],
    ["beta2 rounding to 1", (s) => (s.optimizer = { type: "adam", learningRate: 0.01, beta2: 0.9999999999 }), "optimizer.beta2", `0.9999999999 rounds to 1 in q1.31; the most is ${1 - 2 ** -31}`],
    ["epsilon above 1", (s) => (s.optimizer = { type: "adam", learningRate: 0.01, epsilon: 2 }), "optimizer.epsilon", "must be a number > 0 and ≤ 1, got 2"],
    [
      "momentum beyond gradFormat's headroom",
      (s) => { s.gradFormat = "q29.3"; s.optimizer.momentum = 0.95; },
      "optimizer.momentum",
      "0.95 lets the velocity grow to 2^5 gradients, more than gradFormat q29.3 has fraction bits (3); use a smaller momentum or a gradFormat with at least 5 fraction bits",
    ],
    ["decay rate 0", (s) => (s.optimizer.decay = { type: "step", rate: 0, steps: 10 }), "optimizer.decay.rate", "must be a number > 0 and ≤ 1, got 0"],
    ["decay steps 0", (s) => (s.optimizer.decay = { type: "exponential", rate: 0.5, steps: 0 }), "optimizer.decay.steps", "must be an integer from 1 to 2147483647, got 0"],
    ["decay type", (s) => (s.optimizer.decay = { type: "linear", rate: 0.5, steps: 10 }), "optimizer.decay.type", '"linear" is not one of exponential, step'],
    ["training mode", (s) => (s.training = "partial"), "training", '"partial" is not one of full, lean, none'],
    ["trainable not boolean", (s) => (s.layers[0].trainable = "no"), "layers[0].trainable", 'must be true or false, got "no"'],
    [
      "every layer frozen",
      (s) => s.layers.forEach((l: any) => (l.trainable = false)),
      "layers",
      'every layer has "trainable": false, so nothing would train; make one trainable, or build an inference-only module ("training": "none")',
    ],
    [
      "lean with momentum",
      (s) => { s.training = "lean"; s.optimizer.momentum = 0.9; },
      "optimizer.momentum",
      'training "lean" fuses a plain SGD step into backward and keeps no velocity; use momentum 0 or training "full"',
    ],
    [
      "lean with adam",
      (s) => { s.training = "lean"; s.optimizer = { type: "adam", learningRate: 0.01 }; },
      "optimizer.type",
      '"adam" keeps two moments per parameter from the gradients; training "lean" takes plain SGD: use training "full"',
    ],
    ["inference only with an optimizer", (s) => { s.training = "none"; delete s.loss; }, "optimizer", 'has no use in an inference-only module ("training": "none"); remove it'],
    ["inference only with a loss", (s) => { s.training = "none"; delete s.optimizer; }, "loss", 'has no use in an inference-only module ("training": "none"); remove it'],
    [
      "inference only with a frozen layer",
      (s) => { s.training = "none"; delete s.optimizer; delete s.loss; s.layers[1].trainable = false; },
      "layers[1].trainable",
      'has no use in an inference-only module ("training": "none"); remove it',
    ],
  ];
  it.each(cases)("turns away %s with one line naming the field", (_, mutate, path, problem) => {
    const error = errorOf(mutate);
    expect(error.path).toBe(path);
    expect(error.problem).toBe(problem);
  });
});

describe("invalid JSON", () => {
  it("says where, in one line", () => {
    const error = specError(() => parseSpecText('{\n  "name": "x",\n  "inputs": [1, 2,, 3]\n}', "spec.json"));
    expect(error.path).toBe("(json)");
    expect(error.problem).toMatch(/^spec\.json is not valid JSON: .* at line 3, column 19$/);
  });

  it("says where when V8 gives a position", () => {
    const error = specError(() => parseSpecText('{"name": "x",}'));
    expect(error.problem).toMatch(/^not valid JSON: .* at line 1, column 14$/);
  });

  it("handles empty text and a byte-order mark", () => {
    expect(specError(() => parseSpecText("")).problem).toMatch(/end of JSON input at line 1, column 1$/);
    expect(parseSpecText(`\uFEFF${EXAMPLE_TEXT}`).name).toBe("documented-example");
  });
});

/**
 * The init rule as the comment in spec.ts states it, written again with BigInt
 * arithmetic mod 2^32, so the code, the comment and the README cannot drift apart.
 */
function documentedInit(seed: number, inputs: number, units: number[]): number[][][] {
  const M = 2n ** 32n;
  let s = BigInt(seed);
  const next = () => {
    s = (s + 0x6d2b79f5n) % M;
    let t = s;
    t = ((t ^ (t >> 15n)) * (t | 1n)) % M;
    t = (t ^ ((t + (((t ^ (t >> 7n)) * (t | 61n)) % M)) % M)) % M;
    return Number((t ^ (t >> 14n)) % M) / 2 ** 32;
  };
  return units.map((n, l) => {
    const fanIn = l === 0 ? inputs : units[l - 1];
    const a = Math.sqrt(6 / (fanIn + n));
    return Array.from({ length: fanIn }, () => Array.from({ length: n }, () => (2 * next() - 1) * a));
  });
}

describe("init with a seed", () => {
  const spec = (seed: number) => ({
    name: "seeded",
    inputs: 5,
    layers: [
      { units: 8, activation: "tanh" },
      { units: 3, activation: "sigmoid" },
    ],
    init: { seed },
  });

  it("follows the documented rule exactly", () => {
    for (const seed of [0, 1, 42, 4294967295]) {
      const model = parseSpec(spec(seed));
      expect(model.weights.map((w) => w.weight)).toEqual(documentedInit(seed, 5, [8, 3]));
    }
  });

  it("is deterministic, seed-dependent, within the Glorot bound, with zero biases", () => {
    const a = parseSpec(spec(7));
    expect(parseSpec(spec(7)).weights).toEqual(a.weights);
    expect(parseSpec(spec(8)).weights).not.toEqual(a.weights);
    a.weights.forEach(({ weight, bias }, l) => {
      const fanIn = l === 0 ? 5 : 8;
      const units = l === 0 ? 8 : 3;
      const bound = Math.sqrt(6 / (fanIn + units));
      expect(weight).toHaveLength(fanIn);
      for (const row of weight) {
        expect(row).toHaveLength(units);
        for (const w of row) expect(Math.abs(w)).toBeLessThan(bound);
      }
      expect(bias).toEqual(new Array(units).fill(0));
    });
  });

  it("spreads over the whole interval", () => {
    const [{ weight }] = initWeights({ inputs: 100, layers: [{ units: 100 }] }, 12345);
    const values = weight.flat();
    const bound = Math.sqrt(6 / 200);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    // U(−a, a): mean 0 with standard error a/√(3n) ≈ 0.001; max |w| near a.
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.99 * bound);
  });
});

describe("a 5-MB weights array", () => {
  const INPUTS = 1000;
  const UNITS = 750;

  /** JSON text of a one-layer spec; `bad` replaces one element's text. */
  function bigSpecText(bad?: { i: number; j: number; text: string }): string {
    const rows: string[] = [];
    for (let i = 0; i < INPUTS; i++) {
      const row: string[] = [];
      for (let j = 0; j < UNITS; j++) row.push(bad && bad.i === i && bad.j === j ? bad.text : String(((i * UNITS + j) % 997) / 1000 - 0.5));
      rows.push(`[${row.join(",")}]`);
    }
    const bias = new Array(UNITS).fill("0").join(",");
    return `{"name":"big","inputs":${INPUTS},"layers":[{"units":${UNITS},"activation":"linear"}],"weights":[{"weight":[${rows.join(",")}],"bias":[${bias}]}]}`;
  }

  it("parses quickly when valid", () => {
    const text = bigSpecText();
    expect(text.length).toBeGreaterThan(5_000_000);
    const start = performance.now();
    const model = parseSpecText(text);
    expect(performance.now() - start).toBeLessThan(3000);
    expect(model.weights[0].weight[999][749]).toBe(((999 * UNITS + 749) % 997) / 1000 - 0.5);
  });

  it("rejects a wrong-typed element quickly, with its path", () => {
    const text = bigSpecText({ i: 512, j: 345, text: '"oops"' });
    const start = performance.now();
    const error = specError(() => parseSpecText(text));
    expect(performance.now() - start).toBeLessThan(3000);
    expect(error.message).toBe('weights[0].weight[512][345]: must be a number, got "oops"');
  });

  it("rejects an out-of-range element quickly, with its path", () => {
    const text = bigSpecText({ i: 999, j: 749, text: "1e6" });
    const start = performance.now();
    const error = specError(() => parseSpecText(text));
    expect(performance.now() - start).toBeLessThan(3000);
    expect(error.message).toBe("weights[0].weight[999][749]: 1000000 is outside the range of q8.24 [-128, 127.99999994]");
  });

  it("keeps the preview short when a whole row is the wrong type", () => {
    const text = bigSpecText({ i: 3, j: 0, text: `[${new Array(UNITS).fill(1).join(",")}]` });
    const error = specError(() => parseSpecText(text));
    expect(error.path).toBe("weights[0].weight[3][0]");
    expect(error.problem).toMatch(/^must be a number, got \[1, 1, 1, 1, …\] \(750 entries\)$/);
  });
});
