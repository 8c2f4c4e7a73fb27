/**
 * Verifies audit hash chains: every MAC is checked with WebCrypto (an
 * implementation independent of the sealer's), every chain is walked in
 * `seq` order, and the chain heads are compared with a checkpoint.
 * Runtime-neutral: it reads rows from any (async) iterable.
 *
 * @module
 */

import { type AuditKey, canonicalAnchorText, canonicalEventText, GENESIS_MAC } from "./chain.ts";
import type { AuditCheckpoint, AuditRow } from "./types.ts";

/**
 * What went wrong with a chain.
 *
 * @example Turning a kind into advice for the operator
 * ```ts
 * import { AuditChain, AuditKey, verifyAuditRows, type VerifyProblemKind } from "@keyward/secrets";
 *
 * const advice = (kind: VerifyProblemKind): string => {
 *   switch (kind) {
 *     case "changed":
 *     case "inserted":
 *     case "reordered":
 *       return "someone wrote to the log: restore it from the archive";
 *     case "deleted":
 *     case "truncated":
 *       return "rows are missing: compare with the archive and the checkpoint";
 *     case "anchor":
 *       return "a prune anchor was forged: distrust the pruned range";
 *   }
 * };
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const chain = new AuditChain(key);
 * const event = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get" as const,
 *   outcome: "ok" as const, source: "backend" as const, backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const rows = [1, 2, 3].map((id) => ({ ...chain.seal(event), id }));
 * const report = await verifyAuditRows([rows[0], rows[2]], { key });
 * if (report.first?.kind !== "deleted" || !advice(report.first.kind).includes("missing")) {
 *   throw new Error();
 * }
 * ```
 */
export type VerifyProblemKind =
  | "changed"
  | "deleted"
  | "inserted"
  | "reordered"
  | "truncated"
  | "anchor";

/**
 * The first problem found in one chain.
 *
 * @example A deleted row is named by position, never by content
 * ```ts
 * import { AuditChain, AuditKey, verifyAuditRows, type VerifyProblem } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const chain = new AuditChain(key, { chainId: "api-1" });
 * const event = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get" as const,
 *   outcome: "ok" as const, source: "backend" as const, backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const rows = [10, 11, 12].map((id) => ({ ...chain.seal(event), id }));
 * const problem: VerifyProblem | null = (await verifyAuditRows([rows[0], rows[2]], { key })).first;
 * if (problem?.kind !== "deleted" || problem.chainId !== "api-1") throw new Error();
 * if (problem.seq !== 2 || problem.rowId !== 12) throw new Error("seq 2 is missing before row 12");
 * if (problem.detail !== "chain api-1 misses seq 2 (before row 12)") throw new Error(problem.detail);
 * ```
 */
export interface VerifyProblem {
  /** What went wrong. */
  kind: VerifyProblemKind;
  /** The chain. */
  chainId: string;
  /** The position concerned (for `deleted`: the first missing one; for `truncated`: the last one expected). */
  seq: number;
  /** The store's id of the row concerned, when there is a row. */
  rowId: number | null;
  /** One sentence for the operator (names and positions only). */
  detail: string;
}

/**
 * What {@linkcode verifyAuditRows} found.
 *
 * @example One problem per broken chain; the intact chain reports none
 * ```ts
 * import { AuditChain, AuditKey, verifyAuditRows, type VerifyReport } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const a = new AuditChain(key, { chainId: "a" });
 * const b = new AuditChain(key, { chainId: "b" });
 * const event = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get" as const,
 *   outcome: "ok" as const, source: "backend" as const, backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const rows = [
 *   { ...a.seal(event), id: 1 },
 *   { ...a.seal(event), id: 3 },
 *   { ...b.seal(event), id: 2 },
 *   { ...b.seal(event), id: 4 },
 * ];
 * rows[3].latencyMs = 0; // tampered with
 * const report: VerifyReport = await verifyAuditRows(rows, { key });
 * if (report.ok || report.rows !== 4 || report.chains !== 2) throw new Error();
 * if (report.problems.length !== 1 || report.first?.chainId !== "b") throw new Error();
 * if (report.first.kind !== "changed" || report.first.rowId !== 4) throw new Error();
 * ```
 */
export interface VerifyReport {
  /** True when no problem was found. */
  ok: boolean;
  /** Rows checked. */
  rows: number;
  /** Chains seen (rows, anchors and checkpoint together). */
  chains: number;
  /** The first problem of each chain, in row order (problems without a row last). */
  problems: VerifyProblem[];
  /** The first of `problems`, or `null`. */
  first: VerifyProblem | null;
  /**
   * Events the writers lost and reported in sealed `dropped` records (a full
   * buffer, rows the store refused): a loss the writer owned up to, not
   * tampering, so it does not make `ok` false. A gap in a chain that a
   * `dropped` record covers is listed here, not reported as `deleted`.
   */
  drops: VerifyDrop[];
}

/**
 * One sealed `dropped` record: how many events a writer lost, why, and for
 * rows that were sealed before they were lost, the positions they held.
 *
 * @example A row the store refused leaves a gap that verify reports as dropped
 * ```ts
 * import { AuditChain, AuditKey, verifyAuditRows, type VerifyDrop } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const chain = new AuditChain(key, { chainId: "api-1" });
 * const event = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get" as const,
 *   outcome: "ok" as const, source: "backend" as const, backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const [one, _refused, three] = [chain.seal(event), chain.seal(event), chain.seal(event)];
 * const report = chain.seal({
 *   ...event, secretName: "", action: "dropped", outcome: "error", version: "2-2",
 *   errorCode: "refused:22P02", latencyMs: 0,
 * });
 * const rows = [one, three, report].map((r, i) => ({ ...r, id: i + 1 }));
 * const result = await verifyAuditRows(rows, { key });
 * const drop: VerifyDrop = result.drops[0];
 * if (!result.ok || drop.fromSeq !== 2 || drop.reason !== "refused:22P02") throw new Error();
 * ```
 */
export interface VerifyDrop {
  /** The chain. */
  chainId: string;
  /** The `dropped` record's store id. */
  rowId: number;
  /** Events lost. */
  count: number;
  /** Why (`buffer_full`, `refused:<SQLSTATE>`, ...). */
  reason: string;
  /** The first position the lost rows held, when they were sealed; else `null`. */
  fromSeq: number | null;
  /** The last position the lost rows held, when they were sealed; else `null`. */
  toSeq: number | null;
  /** One sentence for the operator. */
  detail: string;
}

/**
 * Where a pruned chain now starts: the last pruned row's position and MAC, sealed by `anchorMac`.
 *
 * @example The remaining rows verify from the anchor; a forged anchor does not
 * ```ts
 * import {
 *   AuditChain,
 *   AuditKey,
 *   canonicalAnchorText,
 *   type PruneAnchor,
 *   verifyAuditRows,
 * } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const chain = new AuditChain(key);
 * const event = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get" as const,
 *   outcome: "ok" as const, source: "backend" as const, backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const rows = [1, 2, 3, 4].map((id) => ({ ...chain.seal(event), id }));
 * // Rows 1 and 2 were pruned; the anchor carries the last pruned position and MAC.
 * const fields = { chainId: chain.chainId, seq: 2, mac: rows[1].mac, prunedBeforeMs: 1_000 };
 * const anchor: PruneAnchor = { ...fields, anchorMac: key.macHex(canonicalAnchorText(fields)) };
 * const kept = rows.slice(2);
 * if (!(await verifyAuditRows(kept, { key, anchors: [anchor] })).ok) throw new Error();
 * const forged = { ...anchor, seq: 1 }; // would hide a deleted row
 * const report = await verifyAuditRows(kept, { key, anchors: [forged] });
 * if (report.first?.kind !== "anchor") throw new Error();
 * ```
 */
export interface PruneAnchor {
  /** The chain. */
  chainId: string;
  /** The last pruned position. */
  seq: number;
  /** The last pruned row's MAC (the next row's `prevMac`). */
  mac: string;
  /** Rows older than this were pruned, epoch ms. */
  prunedBeforeMs: number;
  /** HMAC over the fields above under the audit key. */
  anchorMac: string;
}

/**
 * Options of {@linkcode verifyAuditRows}.
 *
 * @example Only a checkpoint reveals rows cut off the end of a chain
 * ```ts
 * import {
 *   AuditChain,
 *   AuditKey,
 *   checkpointOf,
 *   verifyAuditRows,
 *   type VerifyOptions,
 * } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const chain = new AuditChain(key);
 * const event = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get" as const,
 *   outcome: "ok" as const, source: "backend" as const, backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const rows = [1, 2, 3].map((id) => ({ ...chain.seal(event), id }));
 * const options: VerifyOptions = { key, checkpoint: checkpointOf([chain.head()!]) };
 * const cut = rows.slice(0, 2); // the last row was deleted
 * if (!(await verifyAuditRows(cut, { key })).ok) throw new Error("without a checkpoint: unseen");
 * const report = await verifyAuditRows(cut, options);
 * if (report.first?.kind !== "truncated" || report.first.seq !== 3) throw new Error();
 * ```
 */
export interface VerifyOptions {
  /** The audit key the rows were sealed under. */
  key: AuditKey;
  /** The last exported checkpoint: a chain that ends before its head is reported `truncated`. */
  checkpoint?: AuditCheckpoint;
  /** Prune anchors: a chain with one starts after the anchor's position. */
  anchors?: Iterable<PruneAnchor>;
}

const encoder = /* @__PURE__ */ new TextEncoder();
const BATCH = 512;

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[0-9a-f]{64}$/.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

async function macValid(key: CryptoKey, mac: string, text: string): Promise<boolean> {
  const sig = fromHex(mac);
  if (!sig) return false;
  return await crypto.subtle.verify("HMAC", key, sig, encoder.encode(text));
}

interface ChainState {
  expectedSeq: number;
  expectedPrev: string;
  lastId: number;
  lastSeq: number;
  /** A row whose MAC failed and which waits for its successor to be classified. */
  suspect: { row: AuditRow; expectedPrev: string } | null;
  problem: VerifyProblem | null;
  checkpointSeen: boolean;
  /** Gaps not yet explained: a later `dropped` record may cover them; else they are `deleted`. */
  gaps: { from: number; to: number; rowId: number }[];
}

/**
 * Checks rows sorted by (chainId, seq, id). Reports, per chain, the first
 * changed, deleted, inserted or reordered row, and with a checkpoint a
 * truncated tail.
 *
 * @example
 * ```ts
 * import { AuditChain, AuditKey, verifyAuditRows } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const chain = new AuditChain(key);
 * const event = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get" as const,
 *   outcome: "ok" as const, source: "backend" as const, backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const rows = [1, 2, 3].map((id) => ({ ...chain.seal(event), id }));
 * if (!(await verifyAuditRows(rows, { key })).ok) throw new Error();
 * rows[1].secretName = "db/other";
 * if ((await verifyAuditRows(rows, { key })).first?.kind !== "changed") throw new Error();
 * ```
 */
export async function verifyAuditRows(
  rows: Iterable<AuditRow> | AsyncIterable<AuditRow>,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const cryptoKey = await options.key.cryptoKey();
  const anchors = new Map<string, PruneAnchor>();
  const chains = new Map<string, ChainState>();
  const problems: VerifyProblem[] = [];
  let count = 0;

  for (const a of options.anchors ?? []) {
    anchors.set(a.chainId, a);
  }

  const state = (chainId: string): ChainState => {
    let s = chains.get(chainId);
    if (!s) {
      const a = anchors.get(chainId);
      s = {
        expectedSeq: a ? a.seq + 1 : 1,
        expectedPrev: a ? a.mac : GENESIS_MAC,
        lastId: -Infinity,
        lastSeq: a ? a.seq : 0,
        suspect: null,
        problem: null,
        checkpointSeen: false,
        gaps: [],
      };
      chains.set(chainId, s);
    }
    return s;
  };
  const drops: VerifyDrop[] = [];
  const report = (s: ChainState, p: VerifyProblem) => {
    if (s.problem) return;
    // A gap found earlier and never explained came first.
    const gap = s.gaps.shift();
    s.gaps = [];
    if (gap) {
      p = {
        kind: "deleted",
        chainId: p.chainId,
        seq: gap.from,
        rowId: gap.rowId,
        detail: `chain ${p.chainId} misses seq ${gap.from}${
          gap.to > gap.from ? ` to ${gap.to}` : ""
        } (before row ${gap.rowId})`,
      };
    }
    s.problem = p;
    problems.push(p);
  };
  /** A sealed, in-place `dropped` record: explains a gap it names, and is listed. */
  const noteDrop = (s: ChainState, r: AuditRow) => {
    const range = /^(\d+)-(\d+)$/.exec(r.version ?? "");
    const from = range ? Number(range[1]) : null;
    const to = range ? Number(range[2]) : null;
    if (from !== null && to !== null) {
      const i = s.gaps.findIndex((g) => g.from === from && g.to === to);
      if (i !== -1) s.gaps.splice(i, 1);
    }
    const reason = r.errorCode ?? "unknown";
    drops.push({
      chainId: r.chainId,
      rowId: r.id,
      count: r.count,
      reason,
      fromSeq: from,
      toSeq: to,
      detail: `chain ${r.chainId}: the writer lost ${r.count} event(s) (${reason})${
        from !== null ? `, which held seq ${from}${to !== from ? ` to ${to}` : ""}` : ""
      }; reported by row ${r.id}`,
    });
  };

  // Anchors are sealed too: a forged one is a problem of its own.
  for (const a of anchors.values()) {
    const s = state(a.chainId);
    const ok = await macValid(cryptoKey, a.anchorMac, canonicalAnchorText(a));
    if (!ok) {
      report(s, {
        kind: "anchor",
        chainId: a.chainId,
        seq: a.seq,
        rowId: null,
        detail: `the prune anchor of chain ${a.chainId} does not verify under the audit key`,
      });
    }
  }

  const settleSuspect = (s: ChainState, next: AuditRow | null) => {
    const sus = s.suspect;
    if (!sus) return;
    s.suspect = null;
    const r = sus.row;
    // The row links back to the row that follows it: it was written after that one, and its
    // `seq` was moved (two rows' positions swapped, or a row moved earlier).
    if (next !== null && r.prevMac === next.mac && r.prevMac !== sus.expectedPrev) {
      report(s, {
        kind: "reordered",
        chainId: r.chainId,
        seq: r.seq,
        rowId: r.id,
        detail: `row ${r.id} (chain ${r.chainId}) claims seq ${r.seq} but follows row ${next.id} ` +
          `(seq ${next.seq}) in the chain: positions were swapped or moved`,
      });
      return;
    }
    // A genuine successor vouches for the suspect's MAC: the row is in place, its content changed.
    const inserted = next !== null && next.prevMac !== r.mac && next.prevMac === sus.expectedPrev;
    report(s, {
      kind: inserted ? "inserted" : "changed",
      chainId: r.chainId,
      seq: r.seq,
      rowId: r.id,
      detail: inserted
        ? `row ${r.id} (chain ${r.chainId}, seq ${r.seq}) was not written by the audit sink`
        : `row ${r.id} (chain ${r.chainId}, seq ${r.seq}) does not match its MAC`,
    });
  };

  const step = (r: AuditRow, valid: boolean) => {
    const s = state(r.chainId);
    settleSuspect(s, r);
    if (s.problem) return finishRow(s, r);
    if (r.id < s.lastId) {
      report(s, {
        kind: "reordered",
        chainId: r.chainId,
        seq: r.seq,
        rowId: r.id,
        detail:
          `row ${r.id} (chain ${r.chainId}, seq ${r.seq}) was stored before the row preceding it`,
      });
    } else if (r.seq < s.expectedSeq) {
      report(s, {
        kind: "inserted",
        chainId: r.chainId,
        seq: r.seq,
        rowId: r.id,
        detail: `row ${r.id} repeats position ${r.seq} of chain ${r.chainId}`,
      });
    } else if (r.seq > s.expectedSeq) {
      // Deleted, unless a `dropped` record further on names exactly this gap.
      s.gaps.push({ from: s.expectedSeq, to: r.seq - 1, rowId: r.id });
      if (!valid) {
        report(s, {
          kind: "changed",
          chainId: r.chainId,
          seq: r.seq,
          rowId: r.id,
          detail: `row ${r.id} (chain ${r.chainId}, seq ${r.seq}) does not match its MAC`,
        });
      }
    } else if (!valid || r.prevMac !== s.expectedPrev) {
      s.suspect = { row: r, expectedPrev: s.expectedPrev };
    } else if (r.action === "dropped") {
      noteDrop(s, r);
    }
    finishRow(s, r);
  };

  const finishRow = (s: ChainState, r: AuditRow) => {
    s.expectedSeq = r.seq + 1;
    s.expectedPrev = r.mac;
    s.lastId = r.id;
    s.lastSeq = r.seq;
    const cp = options.checkpoint?.chains[r.chainId];
    if (cp && cp.seq === r.seq) {
      s.checkpointSeen = true;
      if (cp.mac !== r.mac) {
        report(s, {
          kind: "changed",
          chainId: r.chainId,
          seq: r.seq,
          rowId: r.id,
          detail: `row ${r.id} (chain ${r.chainId}, seq ${r.seq}) differs from the checkpoint`,
        });
      }
    }
  };

  let batch: AuditRow[] = [];
  const drain = async () => {
    const valid = await Promise.all(
      batch.map((r) => macValid(cryptoKey, r.mac, canonicalEventText(r))),
    );
    for (let i = 0; i < batch.length; i++) step(batch[i], valid[i]);
    count += batch.length;
    batch = [];
  };
  for await (const r of rows) {
    batch.push(r);
    if (batch.length >= BATCH) await drain();
  }
  await drain();

  for (const s of chains.values()) {
    settleSuspect(s, null);
    const gap = s.gaps[0];
    if (gap) {
      const chainId = [...chains.entries()].find(([, v]) => v === s)![0];
      report(s, {
        kind: "deleted",
        chainId,
        seq: gap.from,
        rowId: gap.rowId,
        detail: "",
      });
    }
  }

  for (const [chainId, cp] of Object.entries(options.checkpoint?.chains ?? {})) {
    const s = state(chainId);
    const anchor = anchors.get(chainId);
    if (s.lastSeq < cp.seq) {
      report(s, {
        kind: "truncated",
        chainId,
        seq: cp.seq,
        rowId: null,
        detail: `chain ${chainId} ends at seq ${s.lastSeq} but the checkpoint saw seq ${cp.seq}`,
      });
    } else if (!s.checkpointSeen && anchor && anchor.seq === cp.seq && anchor.mac !== cp.mac) {
      report(s, {
        kind: "anchor",
        chainId,
        seq: cp.seq,
        rowId: null,
        detail: `the prune anchor of chain ${chainId} differs from the checkpoint`,
      });
    }
  }

  problems.sort((a, b) => (a.rowId ?? Infinity) - (b.rowId ?? Infinity));
  return {
    ok: problems.length === 0,
    rows: count,
    chains: chains.size,
    problems,
    first: problems[0] ?? null,
    drops,
  };
}
