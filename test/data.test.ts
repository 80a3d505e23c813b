// Data files for `qfirm train` (src/train/data.ts): CSV and JSON parsing, the one-hot rule
// for class labels, and the one-line errors naming file:line:column.

import { describe, expect, it } from "vitest";
import { DataError, parseCsvData, parseData, parseJsonData, takesLabels, type DataShape } from "../src/train/data.js";
import { loadIris, loadMnist, MNIST_INPUTS } from "../src/train/datasets.js";

/** 2 inputs → 3 softmax outputs: targets as 3 fields, or one class label. */
const SOFTMAX: DataShape = {
  inputs: 2,
  layers: [
    { units: 4, activation: "tanh" },
    { units: 3, activation: "softmax" },
  ],
  format: { bits: 32, fracBits: 24 },
  loss: { type: "cross_entropy" },
};
/** 2 inputs → 1 sigmoid output, l2: no labels. */
const SIGMOID: DataShape = {
  inputs: 2,
  layers: [{ units: 1, activation: "sigmoid" }],
  format: { bits: 32, fracBits: 24 },
  loss: { type: "l2" },
};
const HINGE: DataShape = { ...SIGMOID, layers: [{ units: 1, activation: "linear" }], loss: { type: "hinge" } };

/** The DataError a parse throws, its message. */
function dataError(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    const message = (error as Error).message;
    expect(message.split("\n")).toHaveLength(1);
    return message;
  }
  throw new Error("expected a DataError");
}

describe("CSV", () => {
  it("reads rows without a header: inputs, then the last `outputs` fields as the target", () => {
    const data = parseCsvData("1,2,0.5\n-3.5, .25 ,1e-3\n", "d.csv", SIGMOID);
    expect(data).toEqual({ inputs: [[1, 2], [-3.5, 0.25]], targets: [[0.5], [0.001]] });
  });

  it("skips a header (no field is a number), blank lines, a BOM and CR line ends", () => {
    const text = "\uFEFFx1, x2, y\r\n\r\n1,2,0\r\n\n3,4,1\r\n";
    expect(parseData(text, "d.csv", SIGMOID)).toEqual({ inputs: [[1, 2], [3, 4]], targets: [[0], [1]] });
  });

  it("turns a label column into a one-hot target when the last layer is softmax", () => {
    expect(takesLabels(SOFTMAX)).toBe(true);
    expect(takesLabels(SIGMOID)).toBe(false);
    const data = parseCsvData("a,b,class\n0.1,0.2,2\n0.3,0.4,0\n", "d.csv", SOFTMAX);
    expect(data.targets).toEqual([[0, 0, 1], [1, 0, 0]]);
    // With all 3 target fields the rows are read as they are.
    expect(parseCsvData("0.1,0.2,0.2,0.3,0.5\n", "d.csv", SOFTMAX).targets).toEqual([[0.2, 0.3, 0.5]]);
  });

  it("names line and column of a field that is not a number", () => {
    expect(dataError(() => parseCsvData("1,2,0\n3, abc,1\n", "d.csv", SIGMOID))).toBe('d.csv:2:4: "abc" is not a number');
    expect(dataError(() => parseCsvData("1,2,0\n3,,1\n", "d.csv", SIGMOID))).toBe("d.csv:2:3: empty field; expected a number");
    expect(dataError(() => parseCsvData("1,NaN,0\n", "d.csv", SIGMOID))).toBe('d.csv:1:3: "NaN" is not a number');
    expect(dataError(() => parseCsvData("1,0x10,0\n", "d.csv", SIGMOID))).toBe('d.csv:1:3: "0x10" is not a number');
  });

  it("names the row whose field count differs, at the first extra field or the line's end", () => {
    expect(dataError(() => parseCsvData("1,2,0\n3,4,1,9\n", "d.csv", SIGMOID))).toBe("d.csv:2:7: has 4 fields; line 1 has 3");
    expect(dataError(() => parseCsvData("x,y,t\n1,2\n", "d.csv", SIGMOID))).toBe("d.csv:2:4: has 2 fields; the header (line 1) has 3");
    expect(dataError(() => parseCsvData("1,2,3,4\n", "d.csv", SIGMOID))).toBe(
      "d.csv:1:7: has 4 fields; the model takes 2 inputs and 1 target (3 fields)",
    );
    expect(dataError(() => parseCsvData("1,2,3,4\n", "d.csv", SOFTMAX))).toBe(
      "d.csv:1:8: has 4 fields; the model takes 2 inputs and 3 targets (5 fields) or 2 inputs and a class label (3)",
    );
  });

  it("rejects values the format cannot hold, labels out of range and non-±1 hinge targets", () => {
    expect(dataError(() => parseCsvData("1,2,0\n1,300,0\n", "d.csv", SIGMOID))).toBe(
      "d.csv:2:3: input 2: 300 is outside the range of q8.24 [-128, 127.99999994]",
    );
    expect(dataError(() => parseCsvData("1,2,-1e9\n", "d.csv", SIGMOID))).toMatch(/^d\.csv:1:5: target 1: -1000000000 is outside/);
    expect(dataError(() => parseCsvData("1,2,3\n", "d.csv", SOFTMAX))).toBe(
      "d.csv:1:5: label: 3 is not a class label (an integer from 0 to 2)",
    );
    expect(dataError(() => parseCsvData("1,2,1.5\n", "d.csv", SOFTMAX))).toMatch(/^d\.csv:1:5: label: 1\.5 is not a class label/);
    expect(dataError(() => parseCsvData("1,2,1\n1,2,0\n", "d.csv", HINGE))).toBe(
      'd.csv:2:5: target 1: 0 is not -1 or 1, as loss "hinge" needs',
    );
  });

  it("rejects a file with no data rows", () => {
    expect(dataError(() => parseCsvData("x,y,t\n\n", "d.csv", SIGMOID))).toBe("d.csv: no data rows");
  });
});

describe("JSON", () => {
  it("reads an array of { input, target } rows and { inputs, targets }", () => {
    const rows = '[{"input":[1,2],"target":[0.5]},{"input":[3,4],"target":[1]}]';
    expect(parseJsonData(rows, "d.json", SIGMOID)).toEqual({ inputs: [[1, 2], [3, 4]], targets: [[0.5], [1]] });
    const columns = '{"inputs":[[1,2],[3,4]],"targets":[[0.5],[1]]}';
    expect(parseJsonData(columns, "d.json", SIGMOID)).toEqual({ inputs: [[1, 2], [3, 4]], targets: [[0.5], [1]] });
  });

  it("detects JSON by extension or by its first character", () => {
    expect(parseData('[{"input":[1,2],"target":[1]}]', "data.txt", SIGMOID).inputs).toEqual([[1, 2]]);
    expect(parseData('  {"inputs":[[1,2]],"targets":[[1]]}', "data", SIGMOID).inputs).toEqual([[1, 2]]);
  });

  it("takes a number as a class label under softmax, turned one-hot", () => {
    const data = parseJsonData('{"inputs":[[1,2],[3,4]],"targets":[1,[0.2,0.3,0.5]]}', "d.json", SOFTMAX);
    expect(data.targets).toEqual([[0, 1, 0], [0.2, 0.3, 0.5]]);
  });

  it("names line and column of a bad value", () => {
    const text = ['[', '  {"input": [1, 2], "target": [0]},', '  {"input": [1, 1e999], "target": [0]}', ']'].join("\n");
    expect(dataError(() => parseJsonData(text, "d.json", SIGMOID))).toBe("d.json:3:17: [1].input[1]: Infinity is not a finite number");
    const wide = '{\n  "inputs": [[1, 2]],\n  "targets": [[0, 1]]\n}';
    expect(dataError(() => parseJsonData(wide, "d.json", SIGMOID))).toBe(
      "d.json:3:15: targets[0]: has 2 values; the model takes 1 outputs",
    );
    const str = '[{"input": [1, "2"], "target": [0]}]';
    expect(dataError(() => parseJsonData(str, "d.json", SIGMOID))).toBe('d.json:1:16: [0].input[1]: is a string "2"; expected a number');
    const label = '[{"input": [1, 2], "target": 7}]';
    expect(dataError(() => parseJsonData(label, "d.json", SOFTMAX))).toBe(
      "d.json:1:30: [0].target: 7 is not a class label (an integer from 0 to 2)",
    );
    expect(dataError(() => parseJsonData('[{"input": [1, 2]}]', "d.json", SIGMOID))).toBe('d.json:1:2: [0]: missing "target"');
    expect(dataError(() => parseJsonData("3", "d.json", SIGMOID))).toMatch(/^d\.json:1:1: is 3; expected an array/);
  });

  it("names line and column of a syntax error", () => {
    expect(dataError(() => parseJsonData('[\n  {"input": [1, 2,], "target": [0]}\n]', "d.json", SIGMOID))).toMatch(
      /^d\.json:2:19: not valid JSON: /,
    );
    expect(dataError(() => parseJsonData('[{"input": [1, 2]', "d.json", SIGMOID))).toMatch(/^d\.json:1:18: not valid JSON: /);
  });
});

describe("built-in data sets", () => {
  it("Iris: 150 rows, 4 standardized features, one-hot over 3 classes, the same every time", () => {
    const iris = loadIris();
    expect(iris.inputs).toHaveLength(150);
    expect(iris.classes).toEqual(["setosa", "versicolor", "virginica"]);
    for (let f = 0; f < 4; f++) {
      const column = iris.inputs.map((row) => row[f]);
      const mean = column.reduce((s, v) => s + v, 0) / column.length;
      const variance = column.reduce((s, v) => s + (v - mean) ** 2, 0) / column.length;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(Math.abs(variance - 1)).toBeLessThan(1e-12);
    }
    expect(iris.targets.slice(0, 1)).toEqual([[1, 0, 0]]);
    expect(iris.targets.at(-1)).toEqual([0, 0, 1]);
    expect(iris.targets.filter((t) => t[1] === 1)).toHaveLength(50);
    expect(loadIris()).toEqual(iris);
  });

  it("MNIST: 784 inputs in [0, 1], one-hot over 10 digits, round-robin so any count is balanced", () => {
    const mnist = loadMnist(25);
    expect(mnist.inputs).toHaveLength(25);
    expect(mnist.inputs.every((row) => row.length === MNIST_INPUTS && row.every((v) => v >= 0 && v <= 1))).toBe(true);
    expect(mnist.targets.map((t) => t.indexOf(1))).toEqual([...Array(25)].map((_, k) => k % 10));
    expect(mnist.targets.every((t) => t.length === 10 && t.reduce((s, v) => s + v, 0) === 1)).toBe(true);
    expect(loadMnist(25)).toEqual(mnist);
    expect(() => loadMnist(0)).toThrow(RangeError);
  });
});
