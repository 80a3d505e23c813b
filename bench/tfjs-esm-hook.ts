// A module resolve hook, registered by tfjs-engine.ts before it loads TF.js's
// gradients.
//
// tfjs-core ships its per-op gradients (dist/gradients/*_grad.js) only as ES modules
// whose relative imports carry no extension (`from './gradients/Sum_grad'`): bundlers
// accept that, Node's ES module loader does not. Its CommonJS bundle (what Node loads
// for "@tensorflow/tfjs-core") registers no gradient, so without them minimize() fails
// with "gradient function not found for Sum". This hook adds ".js" (or "/index.js")
// to such imports, from files under @tensorflow/tfjs-core/dist only.
//
// The ES copy it loads shares the engine and the kernel and gradient registries with
// the CommonJS copy the backends use: tfjs-core keeps them on the global object so
// that several copies of the package can coexist.

import { existsSync } from "node:fs";
import type { ResolveHook } from "node:module";
import { fileURLToPath } from "node:url";

const TFJS_CORE_DIST = "/@tensorflow/tfjs-core/dist/";

export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  const parent = context.parentURL;
  if (parent?.includes(TFJS_CORE_DIST) && /^\.\.?\//.test(specifier) && !specifier.endsWith(".js")) {
    const path = fileURLToPath(new URL(specifier, parent));
    if (existsSync(`${path}.js`)) return nextResolve(`${specifier}.js`, context);
    if (existsSync(`${path}/index.js`)) return nextResolve(`${specifier}/index.js`, context);
  }
  return nextResolve(specifier, context);
};
