/**
 * The built-in rotators, by name.
 *
 * @module
 */

import type { CliIo } from "../../cli/_io.ts";
import type { Rotator } from "../types.ts";
import { alpacaRotator } from "./alpaca.ts";
import { postgresPasswordRotator } from "./postgres_password.ts";
import { randomRotator } from "./random.ts";

/** The rotators the CLI knows; `io` feeds those that read operator input. */
export function builtinRotators(io: CliIo): Record<string, Rotator> {
  return {
    random: randomRotator,
    "postgres-password": postgresPasswordRotator,
    alpaca: alpacaRotator(io),
  };
}
