// The readers' libraries (protobufjs, jsfive, fflate, flatbuffers) are optional peer
// dependencies: `build`, `check` and `train` never need them, so they are not
// installed with qfirm. Each loads when a file of its format is read or written.

/** What each library's install line asks for (package.json's peerDependencies say the same; test/package.test.ts checks). */
export const FORMAT_PACKAGES: Record<string, string> = {
  fflate: "fflate@0.8.3",
  flatbuffers: "flatbuffers@25.9.23",
  jsfive: "jsfive@0.4.2",
  protobufjs: "protobufjs@8.8.1",
};

/** A format library that is not installed. */
export class PackageMissingError extends Error {
  override name = "PackageMissingError";
}

/** `import(name)`, or a PackageMissingError saying that `use` needs it and how to install it. */
export async function formatLibrary<T>(name: string, use: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") || !(error as Error).message.includes(`'${name}'`)) throw error;
    throw new PackageMissingError(`${use} needs the package ${name}, which is not installed; run: npm install ${FORMAT_PACKAGES[name] ?? name}`);
  }
}
