/**
 * Fixture trees for the scanner tests, written to a temp folder at run time.
 *
 * @module
 */

import { join } from "node:path";
import { fakes } from "./_fakes.ts";

/** Known secret values planted in the fixture tree (fake, built at run time). */
export const plantedValues: Map<string, string[]> = new Map([
  ["db/password", ["pl4nted-db-" + "password-77"]],
  ["broker/keys", ["planted-broker-" + "secret-0099"]],
]);

/** Writes `files` (relative path -> content) under a new temp folder. */
export async function fixtureTree(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "keyward-scan-" });
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(full, content);
    else await Deno.writeFile(full, content);
  }
  return root;
}

/** A tree with one planted finding of every kind, and where each is. */
export function leakyFiles(): { files: Record<string, string>; expected: string[] } {
  const files: Record<string, string> = {
    "app/.env": [
      "# settings",
      `AWS_ACCESS_KEY_ID=${fakes.awsKey}`,
      `VAULT_TOKEN=${fakes.vaultToken}`,
      fakes.brokerEnv.trimEnd(),
      `DATABASE_URL=${fakes.connectionString}`,
      `WEBHOOK_SECRET=${fakes.randomSecret}`,
    ].join("\n"),
    "app/keys/id_rsa": fakes.privateKey,
    "logs/service.log": [
      "start",
      `login with ${plantedValues.get("db/password")![0]}`,
      `payload ${btoa(JSON.stringify({ s: plantedValues.get("broker/keys")![0] }))}`,
    ].join("\n"),
    "docs/notes.md": `legacy token ${fakes.vaultLegacyToken}\n`,
  };
  const expected = [
    "app/.env:2:aws-access-key",
    "app/.env:3:vault-token",
    "app/.env:4:broker-key-pair",
    "app/.env:5:assigned-secret",
    "app/.env:6:connection-string",
    "app/.env:7:assigned-secret",
    "app/keys/id_rsa:1:private-key",
    "docs/notes.md:1:vault-token",
    "logs/service.log:2:secret-value:db/password",
    "logs/service.log:3:secret-value:broker/keys",
  ];
  return { files, expected };
}
