// The resolve hook hide-esm.mjs registers.
const hidden = new Set((process.env.QFIRM_HIDE_PACKAGES ?? "").split(",").filter(Boolean));

export async function resolve(specifier, context, next) {
  if (hidden.has(specifier)) {
    const error = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}
