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

const LEAF = -1;
/** `oneChar` value of a branching node: its children are in the branch tables. */
const BRANCH = -2;
const ASCII = 128;

/** A read-only automaton built once from a list of non-empty patterns. */
export class AhoCorasick {
  /** Code unit of the single child; LEAF (no child) or BRANCH. */
  readonly #oneChar: Int32Array;
  /** The single child, or for a BRANCH node the index of its branch tables. */
  readonly #oneNode: Int32Array;
  /** Branch tables: 128 ASCII children per branching node, flat. */
  readonly #ascii: Int32Array;
  /** Branch tables: children beyond ASCII, per branching node. */
  readonly #wide: (Map<number, number> | undefined)[];
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
    const ascii = new IntArray(ASCII * 64);
    const wide: (Map<number, number> | undefined)[] = [];
    const newNode = (): number => {
      oneChar.push(LEAF);
      oneNode.push(NONE);
      out.push(NONE);
      return oneChar.length - 1;
    };
    const newBranch = (): number => {
      const index = wide.length;
      wide.push(undefined);
      for (let i = 0; i < ASCII; i++) ascii.push(NONE);
      return index;
    };
    const setBranchChild = (branch: number, c: number, child: number): void => {
      if (c < ASCII) ascii.data[branch * ASCII + c] = child;
      else (wide[branch] ??= new Map()).set(c, child);
    };
    const childOf = (node: number, c: number): number => {
      const oc = oneChar.data[node];
      if (oc >= 0) return oc === c ? oneNode.data[node] : NONE;
      if (oc === LEAF) return NONE;
      const b = oneNode.data[node];
      return c < ASCII ? ascii.data[b * ASCII + c] : (wide[b]?.get(c) ?? NONE);
    };
    newNode();
    const lengths = new Int32Array(patterns.length);
    patterns.forEach((pattern, id) => {
      lengths[id] = pattern.length;
      let node = 0;
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern.charCodeAt(i);
        let next = childOf(node, c);
        if (next === NONE) {
          next = newNode();
          const oc = oneChar.data[node];
          if (oc === LEAF) {
            oneChar.data[node] = c;
            oneNode.data[node] = next;
          } else if (oc === BRANCH) {
            setBranchChild(oneNode.data[node], c, next);
          } else {
            const b = newBranch();
            setBranchChild(b, oc, oneNode.data[node]);
            setBranchChild(b, c, next);
            oneChar.data[node] = BRANCH;
            oneNode.data[node] = b;
          }
        }
        node = next;
      }
      if (pattern.length > 0 && out.data[node] === NONE) out.data[node] = id;
    });
    const size = oneChar.length;
    // Renumber nodes (and branch tables) breadth-first, so that the shallow
    // nodes the search visits all the time sit together in memory.
    const order = new Int32Array(size);
    const newId = new Int32Array(size);
    let head = 0;
    let tail = 1;
    const branches = wide.length;
    const branchOrder = new Int32Array(branches);
    let nextBranch = 0;
    while (head < tail) {
      const node = order[head++];
      const oc = oneChar.data[node];
      if (oc >= 0) order[tail++] = oneNode.data[node];
      else if (oc === BRANCH) {
        const b = oneNode.data[node];
        branchOrder[nextBranch++] = b;
        for (let c = 0; c < ASCII; c++) {
          const child = ascii.data[b * ASCII + c];
          if (child !== NONE) order[tail++] = child;
        }
        for (const child of wide[b]?.values() ?? []) order[tail++] = child;
      }
    }
    for (let i = 0; i < size; i++) newId[order[i]] = i;
    const newBranchId = new Int32Array(branches);
    for (let i = 0; i < branches; i++) newBranchId[branchOrder[i]] = i;
    const nOneChar = new Int32Array(size);
    const nOneNode = new Int32Array(size);
    const nOut = new Int32Array(size);
    const nAscii = new Int32Array(branches * ASCII).fill(NONE);
    const nWide: (Map<number, number> | undefined)[] = new Array(branches).fill(undefined);
    for (let old = 0; old < size; old++) {
      const id = newId[old];
      const oc = oneChar.data[old];
      nOneChar[id] = oc;
      nOut[id] = out.data[old];
      if (oc >= 0) nOneNode[id] = newId[oneNode.data[old]];
      else if (oc === BRANCH) {
        const b = oneNode.data[old];
        const nb = newBranchId[b];
        nOneNode[id] = nb;
        for (let c = 0; c < ASCII; c++) {
          const child = ascii.data[b * ASCII + c];
          if (child !== NONE) nAscii[nb * ASCII + c] = newId[child];
        }
        const w = wide[b];
        if (w) nWide[nb] = new Map([...w].map(([c, child]) => [c, newId[child]]));
      } else nOneNode[id] = NONE;
    }
    this.#oneChar = nOneChar;
    this.#oneNode = nOneNode;
    this.#out = nOut;
    this.#ascii = nAscii;
    this.#wide = nWide;
    this.#lengths = lengths;
    this.#fail = new Int32Array(size);
    this.#dict = new Int32Array(size).fill(NONE);
    this.#link(size);
  }

  #child(node: number, c: number): number {
    const oc = this.#oneChar[node];
    if (oc >= 0) return oc === c ? this.#oneNode[node] : NONE;
    if (oc === LEAF) return NONE;
    const b = this.#oneNode[node];
    return c < ASCII ? this.#ascii[b * ASCII + c] : (this.#wide[b]?.get(c) ?? NONE);
  }

  #eachChild(node: number, fn: (c: number, child: number) => void): void {
    const oc = this.#oneChar[node];
    if (oc >= 0) {
      fn(oc, this.#oneNode[node]);
      return;
    }
    if (oc === LEAF) return;
    const b = this.#oneNode[node];
    for (let c = 0; c < ASCII; c++) {
      const child = this.#ascii[b * ASCII + c];
      if (child !== NONE) fn(c, child);
    }
    for (const [c, child] of this.#wide[b] ?? []) fn(c, child);
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
    // Hot loop: locals, and the child lookup inlined.
    const oneChar = this.#oneChar;
    const oneNode = this.#oneNode;
    const ascii = this.#ascii;
    const wide = this.#wide;
    const fail = this.#fail;
    const out = this.#out;
    const dict = this.#dict;
    const lengths = this.#lengths;
    // For each start position, the longest pattern that starts there.
    let bestLen: Map<number, number> | undefined;
    let bestId: Map<number, number> | undefined;
    let state = 0;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      for (;;) {
        const oc = oneChar[state];
        let next = NONE;
        if (oc >= 0) {
          if (oc === c) next = oneNode[state];
        } else if (oc === BRANCH) {
          const b = oneNode[state];
          next = c < ASCII ? ascii[b * ASCII + c] : (wide[b]?.get(c) ?? NONE);
        }
        if (next !== NONE) {
          state = next;
          break;
        }
        if (state === 0) break;
        state = fail[state];
      }
      let hit = out[state] !== NONE ? state : dict[state];
      while (hit !== NONE) {
        const id = out[hit];
        const len = lengths[id];
        const start = i - len + 1;
        bestLen ??= new Map();
        bestId ??= new Map();
        const known = bestLen.get(start);
        if (known === undefined || len > known || (len === known && id < bestId.get(start)!)) {
          bestLen.set(start, len);
          bestId.set(start, id);
        }
        hit = dict[hit];
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
