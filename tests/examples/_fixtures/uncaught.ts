/**
 * A stand-in service for the redaction test: it installs the examples'
 * redaction (examples/_shared/service.ts), registers a secret value, logs it
 * through console and LogTape, then fails with an uncaught error whose
 * message carries the value (the way a driver error might quote a
 * credential). Mode `sync` throws from a timer, `async` rejects a promise.
 */

import { getLogger } from "@logtape/logtape";
import { installRedaction, protect } from "../../../examples/_shared/service.ts";

const value = Deno.env.get("CANARY_VALUE")!;
const mode = Deno.args[0] ?? "sync";

await installRedaction("uncaught-test", "info");
protect("database/app:password", value);
console.log(`console: the password is ${value}`);
getLogger(["uncaught-test"]).info(`logtape: the password is ${value}`);

if (mode === "async") {
  Promise.reject(new Error(`connect failed for password ${value}`));
} else {
  setTimeout(() => {
    throw new Error(`connect failed for password ${value}`);
  }, 10);
}
