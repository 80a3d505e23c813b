// Loaded with `node --import`: the packages named in QFIRM_HIDE_PACKAGES (comma-separated)
// fail to resolve for import() as well, as if they were not installed.
import { register } from "node:module";

register("./hide-esm-hooks.mjs", import.meta.url);
