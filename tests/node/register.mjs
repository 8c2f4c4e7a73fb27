// Loaded with `node --import tsx --import ./register.mjs`: bare specifiers the
// sources import (`@logtape/logtape`, `dotenv`, ...) resolve from this folder's
// node_modules, as they would from a JSR consumer's node_modules.
import { register } from "node:module";

register("./resolve_hook.mjs", import.meta.url);
