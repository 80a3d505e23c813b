// Where things are in JSON text, for messages: Node 20's JSON.parse often does not
// say where it stopped, and a value that parses but is wrong should be named by line
// and column.

/** Keys and indices from the root to a value. */
export type JsonPath = (string | number)[];

export function lineColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf("\n"); k !== -1 && k < position; k = text.indexOf("\n", k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { line, column: position - lineStart + 1 };
}

/**
 * Walks JSON text, for messages only (after JSON.parse has failed, or has succeeded
 * but a value is wrong): `stop` is where the text stops being JSON; `found` is where
 * the value at `path` starts. Nesting deeper than the stack allows leaves both unknown.
 */
export function locateJson(text: string, path: JsonPath | undefined): { stop?: number; found?: number } {
  let i = 0;
  let found: number | undefined;
  const fail = (): never => {
    throw new JsonStop(i);
  };
  const space = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const digits = () => {
    const start = i;
    while (i < text.length && text[i] >= "0" && text[i] <= "9") i++;
    if (i === start) fail();
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      }
      if (c < " ") fail();
      if (c === "\\") {
        i++;
        if (text[i] === "u") {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail();
          }
          i++;
        } else if (`"\\/bfnrt`.includes(text[i] ?? "x")) i++;
        else fail();
      } else i++;
    }
    return fail();
  };
  /** `depth`: how much of `path` leads here (-1 once off the path). */
  const value = (depth: number): void => {
    space();
    if (path && depth === path.length && found === undefined) found = i;
    const onPath = path !== undefined && depth >= 0 && depth < path.length;
    const c = text[i];
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        const key = string();
        space();
        if (text[i] !== ":") fail();
        i++;
        value(onPath && path![depth] === key ? depth + 1 : -1);
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail();
      }
    }
    if (c === "[") {
      i++;
      space();
      if (text[i] === "]") return void i++;
      for (let k = 0; ; k++) {
        value(onPath && path![depth] === k ? depth + 1 : -1);
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail();
      }
    }
    if (c === '"') return void string();
    if (c === "-" || (c >= "0" && c <= "9")) {
      if (c === "-") i++;
      if (text[i] === "0") i++;
      else digits();
      if (text[i] === ".") {
        i++;
        digits();
      }
      if (text[i] === "e" || text[i] === "E") {
        i++;
        if (text[i] === "+" || text[i] === "-") i++;
        digits();
      }
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (c === word[0]) {
        for (const letter of word) {
          if (text[i] !== letter) fail();
          i++;
        }
        return;
      }
    }
    fail();
  };
  try {
    value(0);
    space();
    return { stop: i < text.length ? i : undefined, found };
  } catch (e) {
    if (e instanceof JsonStop) return { stop: e.position, found };
    return { found }; // too deeply nested to follow
  }
}

class JsonStop {
  constructor(readonly position: number) {}
}
