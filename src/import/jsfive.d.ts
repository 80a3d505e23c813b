// The part of jsfive (a pure-JavaScript HDF5 reader, no types of its own) that keras.ts uses.
declare module "jsfive" {
  export class Group {
    readonly name: string;
    readonly attrs: Record<string, unknown>;
    readonly keys: string[];
    /** Throws (a string) when the path is missing. */
    get(path: string): Group | Dataset | null;
  }
  export class Dataset {
    readonly name: string;
    readonly attrs: Record<string, unknown>;
    readonly shape: number[];
    readonly dtype: unknown;
    readonly value: unknown;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
}
