/**
 * Well-known credential shapes, found without knowing any secret: AWS
 * access keys, Vault tokens, private key blocks, broker key pairs,
 * connection strings with passwords and high-entropy values assigned to
 * `*_SECRET`/`*_PASSWORD`/`*_TOKEN`/`*_KEY`. The leak scanner reports them;
 * the logging helpers mask them.
 *
 * @module
 */

/**
 * The kinds of credential {@linkcode findCredentials} recognises.
 *
 * @example Counting findings by kind
 * ```ts
 * import { type CredentialKind, findCredentials } from "@keyward/secrets/scan";
 *
 * const text = "SERVICE_TOKEN=" + "q8Zr2vLm0pWx7TnB4kYd" + "\nVAULT=" + "hvs." + "CAESIJ7mZr2vLm0pWx7TnB4kYdQ9";
 * const counts = new Map<CredentialKind, number>();
 * for (const { kind } of findCredentials(text)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
 * if (counts.get("assigned-secret") !== 1 || counts.get("vault-token") !== 1) throw new Error([...counts].join());
 * ```
 */
export type CredentialKind =
  | "aws-access-key"
  | "vault-token"
  | "private-key"
  | "broker-key-pair"
  | "connection-string"
  | "assigned-secret";

/**
 * One credential found in a text.
 *
 * @example The spans cover the credential, not its name
 * ```ts
 * import { findCredentials } from "@keyward/secrets/scan";
 *
 * const text = "API_TOKEN=" + "q8Zr2vLm0pWx7TnB4kYd";
 * const [match] = findCredentials(text);
 * const [[start, end]] = match.spans;
 * if (match.start !== 0 || text.slice(start, end) !== "q8Zr2vLm0pWx7TnB4kYd") throw new Error();
 * ```
 */
export interface CredentialMatch {
  /** What was found. */
  kind: CredentialKind;
  /** Index where the whole match starts (the line a report names). */
  start: number;
  /** The spans holding the credential itself (what a redaction replaces). */
  spans: [number, number][];
}

/**
 * Options of {@linkcode findCredentials}.
 *
 * @example Tightening the assigned-secret detector
 * ```ts
 * import { findCredentials } from "@keyward/secrets/scan";
 *
 * const text = "DB_PASSWORD=" + "tR7#qLp2";
 * if (findCredentials(text).length !== 0) throw new Error("8 characters is under the default 16");
 * const found = findCredentials(text, { minAssignedLength: 8, minEntropyBits: 2.5 });
 * if (found[0]?.kind !== "assigned-secret") throw new Error();
 * ```
 */
export interface CredentialOptions {
  /**
   * Least Shannon entropy, in bits per character, of a value assigned to a
   * `*_SECRET`/`*_PASSWORD`/`*_TOKEN`/`*_KEY` name.
   * @default {3.5}
   */
  minEntropyBits?: number;
  /**
   * Least length, in characters, of such a value.
   * @default {16}
   */
  minAssignedLength?: number;
}

const PLACEHOLDER_WORDS =
  /^(?:change[-_]?me|password|passwd|pass|pwd|pw|secret|token|key|example|sample|dummy|placeholder|redacted|none|null|nil|undefined|empty|todo|tbd|test|fake|value|your[-_a-z]*|my[-_]?(?:password|secret|token|key)|x+|\*+|\.{3,}|0+|-+)$/i;

/**
 * Whether a candidate credential is an obvious placeholder: `changeme`,
 * `<password>`, `${DB_PASSWORD}`, `$TOKEN`, `{{ secret }}`, `%s`, `xxx`,
 * `****`, or anything mentioning `example`, `placeholder` or `redacted`.
 *
 * @example
 * ```ts
 * import { isPlaceholder } from "@keyward/secrets/scan";
 * if (!isPlaceholder("${DB_PASSWORD}") || !isPlaceholder("<your-token>")) throw new Error();
 * if (isPlaceholder("q8Zr2vLm0pWx7TnB")) throw new Error();
 * ```
 */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v === "") return true;
  if (PLACEHOLDER_WORDS.test(v)) return true;
  if (/^<[^<>]*>$/.test(v) || /^\$\{[^}]*\}$/.test(v) || /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(v)) {
    return true;
  }
  if (/^\{\{.*\}\}$/.test(v) || /^%[sdv]$/.test(v) || /^\[REDACTED/.test(v)) return true;
  if (/example|placeholder|redacted|changeme|xxxx|\*\*\*\*/i.test(v)) return true;
  if (/^(.)\1*$/.test(v)) return true;
  return false;
}

/**
 * The Shannon entropy of a string, in bits per character.
 *
 * @example
 * ```ts
 * import { shannonEntropy } from "@keyward/secrets/scan";
 * if (shannonEntropy("aaaa") !== 0 || shannonEntropy("abcd") !== 2) throw new Error();
 * ```
 */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...text].length;
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / n;
    bits -= p * Math.log2(p);
  }
  return bits;
}

interface Detector {
  kind: CredentialKind;
  regex: RegExp;
  pick(m: RegExpExecArray, opts: Required<CredentialOptions>): [number, number][] | undefined;
}

const B64 = "A-Za-z0-9/+";
const PEM_LABEL = "(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?";

function group(m: RegExpExecArray, i: number): [number, number] | undefined {
  const span = m.indices?.[i];
  return span ? [span[0], span[1]] : undefined;
}

function looksRandom(value: string, opts: Required<CredentialOptions>): boolean {
  if (value.length < opts.minAssignedLength) return false;
  if (isPlaceholder(value)) return false;
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  // Text (spaces, escaped newlines) is a message, not a generated value.
  if (/\s|\\[ntr]/.test(value)) return false;
  if (isReadablePhrase(value)) return false;
  // A property path or identifier (`options.snapshotKey`) is code, not a value.
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value)) return false;
  return shannonEntropy(value) >= opts.minEntropyBits;
}

/**
 * Words and numbers joined by `-`, `_` or `.` (`contract-db-password-0001`):
 * a readable test or sample value, not a generated one. (A readable
 * passphrase is missed by the entropy rule; the scan's comparison with the
 * backend's values finds it.)
 */
function isReadablePhrase(value: string): boolean {
  const segments = value.split(/[-_.]/);
  if (segments.length < 2) return false;
  if (!segments.every((s) => /^[A-Za-z]+$/.test(s) || /^[0-9]+$/.test(s))) return false;
  return segments.filter((s) => /^[A-Za-z]{3,}$/.test(s)).length >= 2;
}

// Built by a pure call, so a bundle that never looks for credentials drops it
// (esbuild keeps a top-level `new RegExp(...)` of a computed pattern otherwise).
const DETECTORS: readonly Detector[] = /* @__PURE__ */ ((): readonly Detector[] => [
  {
    kind: "private-key",
    regex: new RegExp(
      `-----BEGIN ${PEM_LABEL}-----(?:\\\\[rn]|\\s)+(?:Proc-Type:[^\\n]*(?:\\\\n|\\n)(?:[^\\n]*(?:\\\\n|\\n))*?(?:\\\\n|\\s)*)?[${B64}=]{16,}(?:[\\s\\S]*?-----END ${PEM_LABEL}-----)?`,
      "dg",
    ),
    pick: (m) => [[m.index, m.index + m[0].length]],
  },
  {
    kind: "aws-access-key",
    regex: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/dg,
    pick: (m) => (/EXAMPLE/.test(m[0]) ? undefined : [[m.index, m.index + m[0].length]]),
  },
  {
    kind: "vault-token",
    regex: /\b(?:hv[sbr]\.([A-Za-z0-9_-]{24,})|s\.([A-Za-z0-9]{24}))(?![A-Za-z0-9_.-])/dg,
    pick: (m) => {
      const body = m[1] ?? m[2];
      if (isPlaceholder(body) || !/[0-9]/.test(body) || !/[A-Za-z]/.test(body)) return undefined;
      return [[m.index, m.index + m[0].length]];
    },
  },
  {
    kind: "broker-key-pair",
    regex: new RegExp(
      `\\b((?:PK|AK)(?!IA)[A-Z0-9]{18})\\b[\\s\\S]{0,120}?(?<![${B64}])([${B64}]{40})(?![${B64}=])`,
      "dg",
    ),
    pick: (m, opts) => brokerPair(m, 1, 2, opts),
  },
  {
    kind: "broker-key-pair",
    regex: new RegExp(
      `(?<![${B64}])([${B64}]{40})(?![${B64}=])[\\s\\S]{0,120}?\\b((?:PK|AK)(?!IA)[A-Z0-9]{18})\\b`,
      "dg",
    ),
    pick: (m, opts) => brokerPair(m, 2, 1, opts),
  },
  {
    kind: "connection-string",
    regex:
      /\b[a-z][a-z0-9+.-]{1,30}:\/\/([^\s:@/?#"'`<>]{1,128}):([^\s@/?#"'`<>]{1,256})@(?=[A-Za-z0-9[])/dgi,
    pick: (m) => {
      const password = m[2];
      let decoded = password;
      try {
        decoded = decodeURIComponent(password);
      } catch { /* keep it as it is */ }
      if (isPlaceholder(password) || isPlaceholder(decoded)) return undefined;
      const span = group(m, 2);
      return span ? [span] : undefined;
    },
  },
  {
    kind: "assigned-secret",
    regex:
      /\b(?:[A-Za-z0-9]+_)*(?:SECRET|PASSWORD|PASSWD|TOKEN|KEY)\b["']?\s*[:=]\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"'`,;(){}[\]]+))/dgi,
    pick: (m, opts) => {
      const index = m[1] !== undefined ? 1 : m[2] !== undefined ? 2 : 3;
      const value = m[index];
      if (value === undefined || !looksRandom(value, opts)) return undefined;
      const span = group(m, index);
      return span ? [span] : undefined;
    },
  },
])();

function brokerPair(
  m: RegExpExecArray,
  idGroup: number,
  secretGroup: number,
  opts: Required<CredentialOptions>,
): [number, number][] | undefined {
  const secret = m[secretGroup];
  if (isPlaceholder(secret) || !/[0-9]/.test(secret) || !/[A-Za-z]/.test(secret)) return undefined;
  if (shannonEntropy(secret) < opts.minEntropyBits) return undefined;
  const id = group(m, idGroup);
  const value = group(m, secretGroup);
  return id && value ? [id, value].sort((a, b) => a[0] - b[0]) : undefined;
}

/**
 * Finds well-known credentials in `text`, in order of position. Matches may
 * overlap across kinds (an AWS key assigned to `AWS_ACCESS_KEY` is also an
 * assigned secret when random enough).
 *
 * @example
 * ```ts
 * import { findCredentials } from "@keyward/secrets/scan";
 * const url = "postgres://app:" + "q8Zr2vLm0pWx" + "@db.internal:5432/app";
 * const [found] = findCredentials(`DATABASE_URL=${url}`);
 * if (found.kind !== "connection-string") throw new Error();
 * ```
 */
export function findCredentials(text: string, options: CredentialOptions = {}): CredentialMatch[] {
  const opts: Required<CredentialOptions> = {
    minEntropyBits: options.minEntropyBits ?? 3.5,
    minAssignedLength: options.minAssignedLength ?? 16,
  };
  const found: CredentialMatch[] = [];
  for (const detector of DETECTORS) {
    const regex = new RegExp(detector.regex.source, detector.regex.flags);
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const spans = detector.pick(m, opts);
      if (spans) found.push({ kind: detector.kind, start: m.index, spans });
      if (m[0].length === 0) regex.lastIndex++;
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/**
 * Replaces the credential part of every well-known credential in `text` by
 * `[REDACTED:<kind>]` (a connection string keeps its user and host).
 *
 * @example
 * ```ts
 * import { redactCredentials } from "@keyward/secrets/scan";
 * const line = redactCredentials("key " + "AKIA" + "Q3EXAMP1E7K2M4ZP");
 * if (line !== "key [REDACTED:aws-access-key]") throw new Error(line);
 * ```
 */
export function redactCredentials(text: string, options: CredentialOptions = {}): string {
  const spans: { start: number; end: number; kind: CredentialKind }[] = [];
  for (const match of findCredentials(text, options)) {
    for (const [start, end] of match.spans) spans.push({ start, end, kind: match.kind });
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = "";
  let from = 0;
  for (const span of spans) {
    if (span.start < from) {
      // Overlaps the previous span: extend it rather than expose the tail.
      from = Math.max(from, span.end);
      continue;
    }
    out += text.slice(from, span.start) + `[REDACTED:${span.kind}]`;
    from = span.end;
  }
  return out + text.slice(from);
}
