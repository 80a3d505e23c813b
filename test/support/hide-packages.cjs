// Preloaded with `node --require`: the packages named in QFIRM_HIDE_PACKAGES
// (comma-separated) resolve as if they were not installed, so a test can see what a
// user without them sees.
const Module = require("node:module");

const hidden = new Set((process.env.QFIRM_HIDE_PACKAGES ?? "").split(",").filter(Boolean));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (hidden.has(request)) {
    const error = new Error(`Cannot find module '${request}'`);
    error.code = "MODULE_NOT_FOUND";
    throw error;
  }
  return resolveFilename.call(this, request, ...rest);
};
