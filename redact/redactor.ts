/**
 * The redactor: a registry of secret values and one automaton that finds
 * them, and their common encodings, in any text.
 *
 * @module
 */

import { encodeBase64 } from "../core/base64.ts";
import { AhoCorasick } from "./_aho_corasick.ts";

/**
 * The smallest value, in UTF-8 bytes, the redactor registers. Shorter values
 * (`"true"`, `"admin"`, `"5432"`) are ordinary words: masking every
 * occurrence would garble logs and, worse, tell a reader which common word
 * is a secret. A credential that short is too weak to protect anyway.
 *
 * @example
 * ```ts
 * import { MIN_REDACT_BYTES, Redactor } from "@keyward/secrets";
 *
 * const redactor = new Redactor();
 * if (redactor.register("db/user", "admin")) throw new Error(); // 5 bytes: not registered
 * if (!redactor.register("db/password", "x".repeat(MIN_REDACT_BYTES))) throw new Error();
 * if (redactor.redact("admin") !== "admin") throw new Error();
 * ```
 */
export const MIN_REDACT_BYTES = 8;

/**
 * How an occurrence of a registered value was written.
 *
 * @example
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 *
 * const redactor = new Redactor();
 * redactor.register("api/key", "k3y/0123+456789");
 * const text = `${encodeURIComponent("k3y/0123+456789")} ${btoa("k3y/0123+456789")}`;
 * const forms = redactor.matches(text).map((m) => m.form);
 * if (forms.join() !== "url,base64") throw new Error(forms.join());
 * ```
 */
export type RedactionForm =
  | "plain"
  | "json"
  | "url"
  | "base64"
  | "base64url";

/**
 * One occurrence of a registered value found in a text.
 *
 * @example
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 *
 * const redactor = new Redactor();
 * redactor.register("db/password", "pw-0123456789");
 * const text = "login failed for password pw-0123456789";
 * const [m] = redactor.matches(text);
 * if (text.slice(m.start, m.end) !== "pw-0123456789") throw new Error();
 * if (m.name !== "db/password" || m.form !== "plain") throw new Error();
 * ```
 */
export interface RedactionMatch {
  /** Index of the first UTF-16 code unit of the occurrence. */
  start: number;
  /** Index after its last code unit. */
  end: number;
  /** The name the value was registered under (the first, when several share it). */
  name: string;
  /** How the value was written. */
  form: RedactionForm;
}

interface PatternInfo {
  name: string;
  form: RedactionForm;
}

const encoder = /* @__PURE__ */ new TextEncoder();

/**
 * Every string a value may appear as in a log line: itself, JSON-escaped
 * (also with non-ASCII as `\uXXXX`), URL-encoded (`encodeURIComponent`, with
 * lower-case hex, and the form encoding with `+` for a space) and base64
 * (standard and url-safe) at each of the three byte alignments. For base64,
 * only the characters that depend on the value's bytes alone are kept, so
 * the pattern is a substring of any base64 text holding the value.
 *
 * @example
 * ```ts
 * import { encodedForms } from "@keyward/secrets";
 * const forms = encodedForms("pa ss/wörd-123");
 * if (!forms.some((f) => f.form === "url" && f.text === "pa+ss%2Fw%C3%B6rd-123")) throw new Error();
 * ```
 */
export function encodedForms(value: string): { form: RedactionForm; text: string }[] {
  const seen = new Set<string>();
  const forms: { form: RedactionForm; text: string }[] = [];
  const add = (form: RedactionForm, text: string): void => {
    if (text.length === 0 || seen.has(text)) return;
    seen.add(text);
    forms.push({ form, text });
  };
  add("plain", value);
  const json = JSON.stringify(value).slice(1, -1);
  add("json", json);
  add(
    "json",
    json.replace(
      /[\u0080-\uffff]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
    ),
  );
  const uri = encodeURIComponent(value);
  add("url", uri);
  add("url", uri.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
  add("url", uri.replaceAll("%20", "+"));
  add("url", new URLSearchParams({ v: value }).toString().slice(2));
  const bytes = encoder.encode(value);
  for (let align = 0; align < 3; align++) {
    const padded = new Uint8Array(align + bytes.length);
    padded.set(bytes, align);
    const full = encodeBase64(padded);
    const from = Math.ceil((8 * align) / 6);
    const to = Math.floor((8 * (align + bytes.length)) / 6);
    const text = full.slice(from, to);
    add("base64", text);
    add("base64url", text.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return forms;
}

/**
 * Finds registered secret values in text and replaces them by
 * `[REDACTED:<name>]`, in one pass over the text whatever the number of
 * values: an Aho–Corasick automaton over every value's
 * {@linkcode encodedForms}, rebuilt lazily after registrations, choosing the
 * leftmost-longest match.
 *
 * Values shorter than {@linkcode MIN_REDACT_BYTES} are not registered. A
 * value shared by several names is kept until the last of them is forgotten.
 *
 * @example
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 *
 * const redactor = new Redactor();
 * redactor.register("db/password", "correct-horse-battery");
 * const line = redactor.redact('connect failed: {"password":"correct-horse-battery"}');
 * if (line !== 'connect failed: {"password":"[REDACTED:db/password]"}') throw new Error(line);
 * ```
 */
export class Redactor {
  readonly #valuesByName = new Map<string, Set<string>>();
  readonly #namesByValue = new Map<string, string[]>();
  #automaton: AhoCorasick | undefined;
  #patterns: PatternInfo[] = [];
  #dirty = false;

  /** The number of distinct values registered. */
  get size(): number {
    return this.#namesByValue.size;
  }

  /**
   * Registers `value` under `name`. Returns `false`, registering nothing,
   * when the value is shorter than {@linkcode MIN_REDACT_BYTES} UTF-8 bytes.
   */
  register(name: string, value: string): boolean {
    if (typeof value !== "string" || encoder.encode(value).byteLength < MIN_REDACT_BYTES) {
      return false;
    }
    let values = this.#valuesByName.get(name);
    if (!values) this.#valuesByName.set(name, values = new Set());
    if (values.has(value)) return true;
    values.add(value);
    const names = this.#namesByValue.get(value);
    if (names) names.push(name);
    else this.#namesByValue.set(value, [name]);
    this.#dirty = true;
    return true;
  }

  /** Forgets every value registered under `name` (values other names share stay). */
  forget(name: string): void {
    const values = this.#valuesByName.get(name);
    if (!values) return;
    this.#valuesByName.delete(name);
    for (const value of values) {
      const names = this.#namesByValue.get(value)!.filter((n) => n !== name);
      if (names.length === 0) this.#namesByValue.delete(value);
      else this.#namesByValue.set(value, names);
    }
    this.#dirty = true;
  }

  /** Forgets everything. */
  clear(): void {
    this.#valuesByName.clear();
    this.#namesByValue.clear();
    this.#dirty = true;
  }

  /** Whether any value is registered under `name`. */
  has(name: string): boolean {
    return this.#valuesByName.has(name);
  }

  /**
   * The occurrences of registered values in `text`, leftmost-longest and
   * non-overlapping, in order.
   *
   * @example
   * ```ts
   * import { Redactor } from "@keyward/secrets";
   * const redactor = new Redactor();
   * redactor.register("api/key", "k3y-0123456789");
   * const [m] = redactor.matches(`x=${btoa("k3y-0123456789")}`);
   * if (m.name !== "api/key" || m.form !== "base64") throw new Error();
   * ```
   */
  matches(text: string): RedactionMatch[] {
    const automaton = this.#build();
    if (!automaton) return [];
    return automaton.matches(text).map((m) => ({
      start: m.start,
      end: m.end,
      name: this.#patterns[m.id].name,
      form: this.#patterns[m.id].form,
    }));
  }

  /** Replaces every occurrence of a registered value in `text` by `[REDACTED:<name>]`. */
  redact(text: string): string {
    const found = this.matches(text);
    if (found.length === 0) return text;
    let out = "";
    let from = 0;
    for (const m of found) {
      out += text.slice(from, m.start) + `[REDACTED:${m.name}]`;
      from = m.end;
    }
    return out + text.slice(from);
  }

  #build(): AhoCorasick | undefined {
    if (!this.#dirty) return this.#automaton;
    const texts: string[] = [];
    const infos: PatternInfo[] = [];
    const index = new Set<string>();
    for (const [value, names] of this.#namesByValue) {
      for (const { form, text } of encodedForms(value)) {
        if (index.has(text)) continue;
        index.add(text);
        texts.push(text);
        infos.push({ name: names[0], form });
      }
    }
    this.#automaton = texts.length > 0 ? new AhoCorasick(texts) : undefined;
    this.#patterns = infos;
    this.#dirty = false;
    return this.#automaton;
  }
}
