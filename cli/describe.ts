/**
 * `secrets describe <name>`: a secret's versions, stages and dates, never its value.
 *
 * @module
 */

import type { SecretMetadata } from "../core/types.ts";
import { type CommandDef, defineCommand, toJson } from "./_command.ts";

/** `describe <name>`. */
export const describeCommand: CommandDef = defineCommand({
  name: "describe",
  summary: "show a secret's versions, stages and dates (never its value)",
  args: "<name>",
  description: `Shows the backend, dates and versions of <name> with the stage each holds.
Never shows a value. With --json: the metadata object (dates in ISO 8601).`,
  positionals: { min: 1, max: 1 },
  async run({ positionals, json, io, withManager }) {
    const meta = await withManager((m) => m.describeSecret(positionals[0]));
    io.stdout(json ? toJson(meta) : formatMetadata(meta));
    return 0;
  },
});

/** The plain-text form of a secret's metadata. */
export function formatMetadata(meta: SecretMetadata): string {
  const lines = [`name:     ${meta.name}`, `backend:  ${meta.backend}`];
  if (meta.createdAt) lines.push(`created:  ${meta.createdAt.toISOString()}`);
  if (meta.updatedAt) lines.push(`updated:  ${meta.updatedAt.toISOString()}`);
  if (meta.deprecatedAt) lines.push(`deprecated: ${meta.deprecatedAt.toISOString()}`);
  if (meta.deletionScheduledAt) {
    lines.push(`deletion scheduled: ${meta.deletionScheduledAt.toISOString()}`);
  }
  lines.push("versions:");
  const width = Math.max(7, ...meta.versions.map((v) => v.version.length));
  lines.push(`  ${"version".padEnd(width)}  created                   stages`);
  for (const v of meta.versions) {
    lines.push(
      `  ${v.version.padEnd(width)}  ${v.createdAt.toISOString().padEnd(24)}  ${
        v.stages.join(", ") || "-"
      }`,
    );
  }
  return `${lines.join("\n")}\n`;
}
