/**
 * What an edge function built on keyward ships: the Vault backend and the
 * cache, imported from the edge entry `mod.ts` (the bundler drops the rest).
 * Bundled by tests/bench/bundle_size.ts for the size budget.
 *
 * @module
 */

export { VaultSecretManager, withCache } from "../../mod.ts";
