/**
 * A `.env` parser for the env backend, written for `mod.ts`: `npm:dotenv`
 * imports `fs`, `path` and `os` when it is loaded, which would pull Node
 * built-ins into the edge bundle. Tests check this parser against
 * `npm:dotenv`'s `parse` on generated files (tests/core/dotenv_test.ts).
 *
 * The grammar, line by line (CRLF and CR count as LF):
 * - blank lines and lines starting with `#` are skipped;
 * - `[export ]KEY=VALUE` or `KEY: VALUE`, KEY being letters, digits, `_`, `.`, `-`;
 * - a VALUE in `'`, `"` or `` ` `` quotes may span lines and may be followed
 *   by a `#` comment; inside double quotes `\n` and `\r` become line breaks;
 *   a backslash before the quote character keeps it inside the value;
 * - an unquoted VALUE ends at `#` or the end of the line and is trimmed;
 * - a later KEY wins over an earlier one; a line that fits none of this is skipped.
 *
 * A UTF-8 byte order mark (U+FEFF) at the start of the text is dropped, as
 * dotenv drops it (editors on Windows write one; without this the first key
 * would start with it and be lost).
 *
 * Two deliberate differences from `npm:dotenv`: a line holding only a key is
 * skipped here, where dotenv joins it with a next line starting with `=`; and
 * `KEY:` with nothing after the colon is an empty value here, where dotenv
 * takes the next line as its value (losing that line's own variable).
 *
 * @module
 */

const KEY_CHAR = /[A-Za-z0-9_.-]/;
const BOM = "\uFEFF";
const BLANK = new Set([" ", "\t", "\v", "\f"]);

/** Parses the text of a `.env` file into its variables. */
export function parseDotenv(text: string): Record<string, string> {
  const src = (text.startsWith(BOM) ? text.slice(1) : text).replace(/\r\n?/g, "\n");
  const out: Record<string, string> = Object.create(null);
  let i = 0;
  const n = src.length;
  const skipBlanks = () => {
    while (i < n && BLANK.has(src[i])) i++;
  };
  const skipLine = () => {
    while (i < n && src[i] !== "\n") i++;
    i++;
  };
  while (i < n) {
    skipBlanks();
    if (i >= n) break;
    if (src[i] === "\n") {
      i++;
      continue;
    }
    if (src.startsWith("export", i) && BLANK.has(src[i + 6] ?? "")) {
      i += 6;
      skipBlanks();
    }
    const keyStart = i;
    while (i < n && KEY_CHAR.test(src[i])) i++;
    if (i === keyStart) {
      skipLine();
      continue;
    }
    const key = src.slice(keyStart, i);
    skipBlanks();
    if (src[i] === "=") {
      i++;
    } else if (src[i] === ":" && (BLANK.has(src[i + 1] ?? "") || src[i + 1] === "\n")) {
      i++;
    } else {
      skipLine();
      continue;
    }
    skipBlanks();
    const quote = src[i];
    if (quote === "'" || quote === '"' || quote === "`") {
      const close = closingQuote(src, i + 1, quote);
      if (close !== -1) {
        let value = src.slice(i + 1, close);
        if (quote === '"') value = expandEscapes(value);
        out[key] = value;
        i = close + 1;
        skipLine();
        continue;
      }
    }
    const lineEnd = src.indexOf("\n", i) === -1 ? n : src.indexOf("\n", i);
    const hash = src.indexOf("#", i);
    const end = hash !== -1 && hash < lineEnd ? hash : lineEnd;
    let value = src.slice(i, end).trim();
    const first = value[0];
    if (
      value.length >= 2 && (first === "'" || first === '"' || first === "`") &&
      value.endsWith(first)
    ) {
      value = value.slice(1, -1);
    }
    out[key] = first === '"' ? expandEscapes(value) : value;
    i = lineEnd + 1;
  }
  return { ...out };
}

/**
 * Where a quoted value closes: the first quote not preceded by a backslash,
 * provided only blanks or a comment follow it on its line; failing that, a
 * backslash-escaped quote before it, the latest first (a value may end in a
 * backslash). -1 when none fits: the value is then read as unquoted.
 */
function closingQuote(src: string, from: number, quote: string): number {
  const escaped: number[] = [];
  let unescaped = -1;
  for (let j = from; j < src.length; j++) {
    if (src[j] === "\\" && src[j + 1] === quote) {
      escaped.push(j + 1);
      j++;
      continue;
    }
    if (src[j] === quote) {
      unescaped = j;
      break;
    }
  }
  const candidates = unescaped === -1 ? escaped.reverse() : [unescaped, ...escaped.reverse()];
  for (const candidate of candidates) {
    if (restIsComment(src, candidate + 1)) return candidate;
  }
  return -1;
}

function expandEscapes(value: string): string {
  return value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
}

function restIsComment(src: string, from: number): boolean {
  let j = from;
  while (j < src.length && BLANK.has(src[j])) j++;
  return j >= src.length || src[j] === "\n" || src[j] === "#";
}
