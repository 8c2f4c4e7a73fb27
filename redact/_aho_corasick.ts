/**
 * An Aho–Corasick automaton over UTF-16 code units with leftmost-longest
 * match selection: one pass over the text finds every occurrence of every
 * pattern, whatever the number of patterns.
 *
 * Memory is kept compact for large pattern sets (10,000 secrets × their
 * encodings is a few million nodes): most trie nodes have one child, so a
 * node stores that child inline and only branching nodes get a `Map`.
 *
 * @module
 */

/** One selected match: `text.slice(start, end)` equals pattern `id`. */
export interface AcMatch {
  /** Index of the first code unit. */
  start: number;
  /** Index after the last code unit. */
  end: number;
  /** Index of the pattern in the list the automaton was built from. */
  id: number;
}

const NONE = -1;

class IntArray {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
}

/** A read-only automaton built once from a list of non-empty patterns. */
export class AhoCorasick {
  /** Code unit of the single child, or NONE. */
  readonly #oneChar: Int32Array;
  /** The single child, or NONE. */
  readonly #oneNode: Int32Array;
  /** Branching nodes' children (all of them, including the first). */
  readonly #many: Map<number, Map<number, number>>;
  readonly #fail: Int32Array;
  /** Pattern id ending exactly at this node, or NONE. */
  readonly #out: Int32Array;
  /** Nearest node on the failure chain with an output, or NONE. */
  readonly #dict: Int32Array;
  readonly #lengths: Int32Array;

  /** Builds the automaton; duplicate patterns keep the lowest id. */
  constructor(patterns: readonly string[]) {
    let total = 1;
    for (const p of patterns) total += p.length;
    const oneChar = new IntArray(total);
    const oneNode = new IntArray(total);
    const out = new IntArray(total);
    const many = new Map<number, Map<number, number>>();
    const newNode = (): number => {
      oneChar.push(NONE);
      oneNode.push(NONE);
      out.push(NONE);
      return oneChar.length - 1;
    };
    newNode();
    const lengths = new Int32Array(patterns.length);
    patterns.forEach((pattern, id) => {
      lengths[id] = pattern.length;
      let node = 0;
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern.charCodeAt(i);
        let next = NONE;
        const branch = many.get(node);
        if (branch) next = branch.get(c) ?? NONE;
        else if (oneChar.data[node] === c) next = oneNode.data[node];
        if (next === NONE) {
          next = newNode();
          if (branch) branch.set(c, next);
          else if (oneChar.data[node] === NONE) {
            oneChar.data[node] = c;
            oneNode.data[node] = next;
          } else {
            many.set(
              node,
              new Map([[oneChar.data[node], oneNode.data[node]], [c, next]]),
            );
          }
        }
        node = next;
      }
      if (pattern.length > 0 && out.data[node] === NONE) out.data[node] = id;
    });
    const size = oneChar.length;
    this.#oneChar = oneChar.data.subarray(0, size);
    this.#oneNode = oneNode.data.subarray(0, size);
    this.#out = out.data.subarray(0, size);
    this.#many = many;
    this.#lengths = lengths;
    this.#fail = new Int32Array(size);
    this.#dict = new Int32Array(size).fill(NONE);
    this.#link(size);
  }

  #child(node: number, c: number): number {
    const branch = this.#many.get(node);
    if (branch) return branch.get(c) ?? NONE;
    return this.#oneChar[node] === c ? this.#oneNode[node] : NONE;
  }

  #eachChild(node: number, fn: (c: number, child: number) => void): void {
    const branch = this.#many.get(node);
    if (branch) { for (const [c, child] of branch) fn(c, child); }
    else if (this.#oneChar[node] !== NONE) fn(this.#oneChar[node], this.#oneNode[node]);
  }

  /** Breadth-first: failure links and dictionary (output) links. */
  #link(size: number): void {
    const queue = new Int32Array(size);
    let head = 0;
    let tail = 0;
    this.#eachChild(0, (_c, child) => {
      this.#fail[child] = 0;
      queue[tail++] = child;
    });
    while (head < tail) {
      const node = queue[head++];
      this.#eachChild(node, (c, child) => {
        let f = this.#fail[node];
        let target = this.#child(f, c);
        while (target === NONE && f !== 0) {
          f = this.#fail[f];
          target = this.#child(f, c);
        }
        const fail = target === NONE ? 0 : target;
        this.#fail[child] = fail;
        this.#dict[child] = this.#out[fail] !== NONE ? fail : this.#dict[fail];
        queue[tail++] = child;
      });
    }
  }

  /**
   * The leftmost-longest, non-overlapping matches in `text`, in order: at
   * each position the longest pattern starting there wins, and scanning
   * resumes after it.
   */
  matches(text: string): AcMatch[] {
    // For each start position, the longest pattern that starts there.
    let bestLen: Map<number, number> | undefined;
    let bestId: Map<number, number> | undefined;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let next = this.#child(state, c);
      while (next === NONE && state !== 0) {
        state = this.#fail[state];
        next = this.#child(state, c);
      }
      state = next === NONE ? 0 : next;
      let hit = this.#out[state] !== NONE ? state : this.#dict[state];
      while (hit !== NONE) {
        const id = this.#out[hit];
        const len = this.#lengths[id];
        const start = i - len + 1;
        bestLen ??= new Map();
        bestId ??= new Map();
        const known = bestLen.get(start);
        if (known === undefined || len > known || (len === known && id < bestId.get(start)!)) {
          bestLen.set(start, len);
          bestId.set(start, id);
        }
        hit = this.#dict[hit];
      }
    }
    if (!bestLen || !bestId) return [];
    const starts = [...bestLen.keys()].sort((a, b) => a - b);
    const result: AcMatch[] = [];
    let from = 0;
    for (const start of starts) {
      if (start < from) continue;
      const end = start + bestLen.get(start)!;
      result.push({ start, end, id: bestId.get(start)! });
      from = end;
    }
    return result;
  }
}
