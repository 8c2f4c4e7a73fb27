/**
 * An Aho–Corasick automaton over UTF-16 code units with leftmost-longest
 * match selection: one pass over the text finds every occurrence of every
 * pattern, whatever the number of patterns.
 *
 * The layout is built for large pattern sets (10,000 secrets × their
 * encodings is over a million states), where a search costs cache misses and
 * mispredicted branches rather than instructions:
 *
 * - Code units are mapped to a small alphabet of classes: the code units
 *   that occur in some pattern, and class 0 for every other unit.
 * - The shallow states, where a search over ordinary text spends nearly all
 *   its time, are a plain DFA: one dense row over the alphabet per state,
 *   with the failure links already resolved, so a step is one array read.
 *   Whole trie levels are made dense while they branch (a level of mostly
 *   single-child states gains nothing from a row) and the rows fit a budget.
 * - Every deeper state is one small record in the same `Int32Array`: header,
 *   failure link, then its edges inline (a single child, the common case,
 *   is one word). Records are laid out breadth-first after the rows.
 * - A state is referred to by its index in that array shifted left by one,
 *   the low bit saying whether some pattern ends at the state (itself or
 *   along its failure chain), so the search never reads a record to learn
 *   that nothing matched.
 *
 * The trie is built from the patterns sorted by code units, one level at a
 * time: no child look-ups, states numbered breadth-first as they are made,
 * and every later pass reads the arrays in order.
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

// Record header: kind in bits 0-1, from bit 2 on the child's class (SINGLE)
// or the number of edges (SPARSE). Words: header, failure ref, edges.
const LEAF = 0;
const SINGLE = 1;
const SPARSE = 2;
const SHIFT = 2;
/** Most dense-row entries (4 bytes each) the automaton may use; the root's row is always dense. */
const DENSE_BUDGET = 1 << 19;
/** A trie level is made dense only while it has at least this many children per state. */
const DENSE_MIN_FANOUT = 1.5;
/** Sparse edge lists up to this length are scanned, longer ones bisected. */
const SCAN_MAX = 8;
/** Longest window of the start filter, in code units. */
const FILTER_WINDOW = 4;
/** Size bounds of the start filter, as powers of two of its bits (4 KB to 128 KB). */
const FILTER_MIN_BITS = 15;
const FILTER_MAX_BITS = 20;
/** Multiplier that mixes a window (its classes' low bytes, packed) into a bit index. */
const HASH_MIX = 0x9e3779b1 | 0;

/** A read-only automaton built once from a list of patterns (empty ones never match). */
export class AhoCorasick {
  /** Class of each UTF-16 code unit, 0 when no pattern holds it. */
  readonly #classes: Int32Array;
  /** Dense rows (`#width` refs each, the root's first), then the records of the other states. */
  readonly #table: Int32Array;
  /** Index in `#table` where the records start. */
  readonly #denseEnd: number;
  /** For a state flagged in its ref: the first state on its failure chain (itself included) where a pattern ends. */
  readonly #firstOutput: Map<number, number>;
  /** For a state where a pattern ends: that pattern's id. */
  readonly #outputId: Map<number, number>;
  /** For a state where a pattern ends: the next such state on its failure chain, or NONE. */
  readonly #nextOutput: Map<number, number>;
  readonly #lengths: Int32Array;
  /** `#levelIndex[d]`: index of the first state `d` code units deep (states are laid out breadth-first). */
  readonly #levelIndex: Int32Array;
  /** Length of the start filter's windows: the shortest pattern's length, at most 4. */
  readonly #window: number;
  /** The start filter: a bit set over hashes of every pattern's first `#window` classes (low 8 bits each, packed). */
  readonly #filter: Int32Array;
  /** Right shift that turns a 32-bit hash into a bit index of `#filter`. */
  readonly #filterShift: number;
  /** Number of states, the root included. */
  readonly states: number;
  /** Number of states stored as dense rows. */
  readonly denseStates: number;

  /** Builds the automaton; duplicate patterns keep the lowest id. */
  constructor(patterns: readonly string[]) {
    const count = patterns.length;
    const lengths = new Int32Array(count);
    const classes = new Int32Array(0x10000);
    let total = 1;
    let shortest = Infinity;
    for (let id = 0; id < count; id++) {
      const p = patterns[id];
      lengths[id] = p.length;
      total += p.length;
      if (p.length > 0 && p.length < shortest) shortest = p.length;
      for (let i = 0; i < p.length; i++) classes[p.charCodeAt(i)] = 1;
    }
    // Classes in code-unit order, so sorted patterns give sorted edge labels.
    let width = 1;
    for (let unit = 0; unit < 0x10000; unit++) if (classes[unit] !== 0) classes[unit] = width++;

    // The non-empty patterns sorted by code units (ties: lowest id first),
    // and how many code units each shares with the one before.
    const all = new Int32Array(count);
    for (let i = 0; i < count; i++) all[i] = i;
    all.sort((a, b) => {
      const pa = patterns[a];
      const pb = patterns[b];
      return pa < pb ? -1 : pa > pb ? 1 : a - b;
    });
    const ids = all.filter((id) => lengths[id] > 0);
    let alive = ids.length;
    const common = new Int32Array(alive);
    for (let k = 1; k < alive; k++) {
      const p = patterns[ids[k]];
      const q = patterns[ids[k - 1]];
      const most = Math.min(p.length, q.length);
      let l = 0;
      while (l < most && p.charCodeAt(l) === q.charCodeAt(l)) l++;
      common[k] = l;
    }

    // The trie, numbered breadth-first, one level at a time: at depth d the
    // patterns still long enough, in sorted order, start a new state
    // wherever they share fewer than d code units with the one before. The
    // children of a state are then consecutive, in increasing class order.
    const label = new Int32Array(total);
    const first = new Int32Array(total);
    const kids = new Int32Array(total);
    const out = new Int32Array(total).fill(NONE);
    const at = new Int32Array(alive); // each pattern's state one level up
    const levelStart = [0];
    let size = 1;
    for (let d = 1; alive > 0; d++) {
      let kept = 0;
      let run = Infinity;
      for (let k = 0; k < alive; k++) {
        run = Math.min(run, common[k]);
        const id = ids[k];
        if (lengths[id] < d) continue;
        ids[kept] = id;
        common[kept] = run;
        at[kept] = at[k];
        kept++;
        run = Infinity;
      }
      alive = kept;
      if (alive === 0) break;
      levelStart.push(size);
      for (let k = 0; k < alive; k++) {
        const id = ids[k];
        if (k === 0 || common[k] < d) {
          const parent = at[k];
          const node = size++;
          label[node] = classes[patterns[id].charCodeAt(d - 1)];
          if (kids[parent]++ === 0) first[parent] = node;
          at[k] = node;
        } else at[k] = at[k - 1];
        if (lengths[id] === d && out[at[k]] === NONE) out[at[k]] = id;
      }
    }
    levelStart.push(size);

    // Dense states: the root, then whole levels while they branch and fit.
    let rows = 1;
    for (let level = 1; level + 1 < levelStart.length; level++) {
      const end = levelStart[level + 1];
      const below = (levelStart[level + 2] ?? size) - end;
      if (end * width > DENSE_BUDGET || below < DENSE_MIN_FANOUT * (end - levelStart[level])) break;
      rows = end;
    }
    const denseEnd = rows * width;

    // Failure links, complete dense rows (state numbers for now) and report
    // links, breadth-first. A dense state's row is its failure state's row
    // (dense: shallower) with its own children written over it.
    const dense = new Int32Array(denseEnd);
    const fail = new Int32Array(size);
    const report = new Int32Array(size).fill(NONE);
    const step = (state: number, c: number): number => {
      if (state < rows) return dense[state * width + c];
      for (let child = first[state], end = child + kids[state]; child < end; child++) {
        const l = label[child];
        if (l >= c) return l === c ? child : NONE;
      }
      return NONE;
    };
    for (let node = 0; node < size; node++) {
      if (node > 0) report[node] = out[node] !== NONE ? node : report[fail[node]];
      const from = first[node];
      const to = from + kids[node];
      if (node < rows) {
        const base = node * width;
        if (node > 0) dense.copyWithin(base, fail[node] * width, fail[node] * width + width);
        for (let child = from; child < to; child++) dense[base + label[child]] = child;
      }
      if (node === 0) continue; // the root's children fail to the root
      for (let child = from; child < to; child++) {
        const c = label[child];
        let f = fail[node];
        let target = step(f, c);
        while (target === NONE) {
          f = fail[f];
          target = step(f, c);
        }
        fail[child] = target;
      }
    }

    // Indexes: rows first, then records.
    const index = new Int32Array(size);
    let words = denseEnd;
    for (let node = 0; node < size; node++) {
      if (node < rows) {
        index[node] = node * width;
        continue;
      }
      index[node] = words;
      const n = kids[node];
      words += 2 + (n === 1 ? 1 : 2 * n);
    }
    if (words >= 1 << 30) throw new RangeError("too many patterns for one automaton");
    const ref = (node: number): number => (index[node] << 1) | (report[node] !== NONE ? 1 : 0);
    const table = new Int32Array(words);
    for (let i = 0; i < denseEnd; i++) table[i] = ref(dense[i]);
    const firstOutput = new Map<number, number>();
    const outputId = new Map<number, number>();
    const nextOutput = new Map<number, number>();
    for (let node = 0; node < size; node++) {
      if (report[node] !== NONE) firstOutput.set(index[node], index[report[node]]);
      if (out[node] !== NONE) {
        outputId.set(index[node], out[node]);
        const next = report[fail[node]];
        nextOutput.set(index[node], next === NONE ? NONE : index[next]);
      }
      if (node < rows) continue;
      let w = index[node];
      const n = kids[node];
      table[w++] = n === 0
        ? LEAF
        : n === 1
        ? SINGLE | (label[first[node]] << SHIFT)
        : SPARSE | (n << SHIFT);
      table[w++] = ref(fail[node]);
      for (let child = first[node], end = child + n; child < end; child++) {
        if (n > 1) table[w++] = label[child];
        table[w++] = ref(child);
      }
    }
    const levelIndex = new Int32Array(levelStart.length + 1);
    for (let d = 0; d < levelStart.length; d++) {
      levelIndex[d] = levelStart[d] < size ? index[levelStart[d]] : words;
    }
    levelIndex[levelStart.length] = words;

    // The start filter over every pattern's first classes.
    const window = shortest === Infinity ? 0 : Math.min(FILTER_WINDOW, shortest);
    const bits = Math.min(FILTER_MAX_BITS, Math.max(FILTER_MIN_BITS, 32 - Math.clz32(count * 16)));
    const filter = new Int32Array(Math.max(1, (1 << bits) >>> 5));
    for (let id = 0; id < count; id++) {
      const p = patterns[id];
      if (p.length === 0) continue;
      let packed = 0;
      for (let k = 0; k < window; k++) packed = (packed << 8) | (classes[p.charCodeAt(k)] & 0xff);
      const bit = Math.imul(packed, HASH_MIX) >>> (32 - bits);
      filter[bit >>> 5] |= 1 << (bit & 31);
    }

    this.#classes = classes;
    this.#levelIndex = levelIndex;
    this.#window = window;
    this.#filter = filter;
    this.#filterShift = 32 - bits;
    this.#table = table;
    this.#denseEnd = denseEnd;
    this.#firstOutput = firstOutput;
    this.#outputId = outputId;
    this.#nextOutput = nextOutput;
    this.#lengths = lengths;
    this.states = size;
    this.denseStates = rows;
  }

  /**
   * The leftmost-longest, non-overlapping matches in `text`, in order: at
   * each position the longest pattern starting there wins, and scanning
   * resumes after it.
   *
   * Most positions of ordinary text start no pattern, and a bit set over the
   * patterns' first code units says so without touching the automaton: only
   * positions that pass it are walked down the trie. Walks can be long on
   * adversarial text (`aaaa…` against `aaaa…b`), so once they have cost
   * `stepBudget` steps the rest of the text goes through the plain
   * Aho–Corasick pass, which is linear whatever the text.
   *
   * @param stepBudget Trie steps allowed to the walks before switching to the
   * plain pass (tests set it to exercise both). Default: one per code unit, plus 256.
   */
  matches(text: string, stepBudget: number = text.length + 256): AcMatch[] {
    const result: AcMatch[] = [];
    const q = this.#window;
    if (q === 0) return result;
    const classes = this.#classes;
    const filter = this.#filter;
    const shift = this.#filterShift;
    const mask = q >= 4 ? -1 : (1 << (8 * q)) - 1;
    const n = text.length;
    let budget = stepBudget;
    // The last q classes (low 8 bits each), and how many units in a row up
    // to here some pattern holds: a unit no pattern holds rules out every
    // window containing it.
    let window = 0;
    let run = 0;
    for (let j = 0; j < n; j++) {
      const c = classes[text.charCodeAt(j)];
      if (c === 0) {
        run = 0;
        continue;
      }
      window = ((window << 8) | (c & 0xff)) & mask;
      if (++run < q) continue;
      const bit = Math.imul(window, HASH_MIX) >>> shift;
      if ((filter[bit >>> 5] & (1 << (bit & 31))) === 0) continue;
      const start = j - q + 1;
      if (budget <= 0) {
        this.#scan(text, start, result);
        return result;
      }
      const id = this.#walk(text, start);
      budget -= this.#walked;
      if (id !== NONE) {
        const end = start + this.#lengths[id];
        result.push({ start, end, id });
        j = end - 1;
        run = 0;
      }
    }
    return result;
  }

  /** Steps taken by the last {@linkcode #walk}. */
  #walked = 0;

  /**
   * The longest pattern starting at `start`, or NONE: a walk down the trie
   * from the root, the deepest state on the path that ends a pattern.
   */
  #walk(text: string, start: number): number {
    const classes = this.#classes;
    const table = this.#table;
    const denseEnd = this.#denseEnd;
    const levelIndex = this.#levelIndex;
    const n = text.length;
    let state = 0;
    let depth = 0;
    let best = NONE;
    for (let j = start; j < n; j++) {
      const c = classes[text.charCodeAt(j)];
      if (c === 0) break;
      const at = state >> 1;
      let next = NONE;
      if (at < denseEnd) {
        // A dense row also holds failure transitions; a child is one level down.
        next = table[at + c];
        if (next >> 1 < levelIndex[depth + 1]) break;
      } else {
        const header = table[at];
        const kind = header & 3;
        if (kind === SINGLE) {
          if (header >> SHIFT === c) next = table[at + 2];
        } else if (kind === SPARSE) {
          for (let e = at + 2, end = at + 2 + 2 * (header >> SHIFT); e < end; e += 2) {
            if (table[e] === c) {
              next = table[e + 1];
              break;
            }
          }
        }
        if (next === NONE) break;
      }
      state = next;
      depth++;
      if ((state & 1) !== 0) {
        const id = this.#outputId.get(state >> 1);
        if (id !== undefined) best = id;
      }
    }
    this.#walked = depth + 1;
    return best;
  }

  /**
   * The plain Aho–Corasick pass over `text` from `from` on, starting at the
   * root: linear whatever the text. Appends the leftmost-longest matches.
   */
  #scan(text: string, from: number, result: AcMatch[]): void {
    // Hot loop: locals only; a dense state is one read.
    const classes = this.#classes;
    const table = this.#table;
    const denseEnd = this.#denseEnd;
    const lengths = this.#lengths;
    // For each start position, the longest pattern that starts there.
    let bestLen: Map<number, number> | undefined;
    let bestId: Map<number, number> | undefined;
    let state = 0;
    const n = text.length;
    for (let i = from; i < n; i++) {
      const c = classes[text.charCodeAt(i)];
      let at = state >> 1;
      if (at < denseEnd) state = table[at + c];
      else if (c === 0) state = 0;
      else {
        for (;;) {
          const header = table[at];
          const kind = header & 3;
          if (kind === SINGLE) {
            if (header >> SHIFT === c) {
              state = table[at + 2];
              break;
            }
          } else if (kind === SPARSE) {
            const edges = header >> SHIFT;
            let target = NONE;
            if (edges <= SCAN_MAX) {
              for (let e = at + 2, end = at + 2 + 2 * edges; e < end; e += 2) {
                const l = table[e];
                if (l >= c) {
                  if (l === c) target = table[e + 1];
                  break;
                }
              }
            } else {
              let lo = 0;
              let hi = edges - 1;
              while (lo <= hi) {
                const mid = (lo + hi) >> 1;
                const l = table[at + 2 + 2 * mid];
                if (l < c) lo = mid + 1;
                else if (l > c) hi = mid - 1;
                else {
                  target = table[at + 3 + 2 * mid];
                  break;
                }
              }
            }
            if (target !== NONE) {
              state = target;
              break;
            }
          }
          state = table[at + 1];
          at = state >> 1;
          if (at < denseEnd) {
            state = table[at + c];
            break;
          }
        }
      }
      if ((state & 1) === 0) continue;
      // Every pattern ending here: the output chain.
      let hit = this.#firstOutput.get(state >> 1)!;
      while (hit !== NONE) {
        const id = this.#outputId.get(hit)!;
        const len = lengths[id];
        const start = i - len + 1;
        bestLen ??= new Map();
        bestId ??= new Map();
        const known = bestLen.get(start);
        if (known === undefined || len > known || (len === known && id < bestId.get(start)!)) {
          bestLen.set(start, len);
          bestId.set(start, id);
        }
        hit = this.#nextOutput.get(hit)!;
      }
    }
    if (!bestLen || !bestId) return;
    const starts = [...bestLen.keys()].sort((a, b) => a - b);
    for (const start of starts) {
      if (start < from) continue;
      const end = start + bestLen.get(start)!;
      result.push({ start, end, id: bestId.get(start)! });
      from = end;
    }
  }
}
