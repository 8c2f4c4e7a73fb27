/**
 * The endpoint's metrics in Prometheus text format: requests by route and
 * status, cache hits, misses and stale serves, backend errors, a latency
 * histogram. Secret names appear only in the per-secret series, rendered
 * only for a token with the `metrics` role. Never a value.
 *
 * @module
 */

const BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** One route's counters: requests by status and the latency histogram. */
export interface RouteStats {
  /** The route template, never a path. */
  readonly route: string;
  /** Requests by status code. */
  readonly statuses: Map<number, number>;
  /** Per bucket (not cumulative); render() sums them up. */
  readonly buckets: number[];
  /** Seconds, summed. */
  sum: number;
  /** Requests. */
  count: number;
}

/** Counters and a histogram, kept in memory. */
export class Metrics {
  readonly #routes = new Map<string, RouteStats>();
  readonly #serves = { cache: 0, stale: 0, backend: 0 };
  readonly #backendErrors = new Map<string, number>();
  readonly #perSecret = new Map<string, { cache: number; stale: number; backend: number }>();

  /** The counters of `route` (a template, never the path): looked up once, when a route is set up. */
  route(route: string): RouteStats {
    let stats = this.#routes.get(route);
    if (!stats) {
      stats = { route, statuses: new Map(), buckets: BUCKETS_S.map(() => 0), sum: 0, count: 0 };
      this.#routes.set(route, stats);
    }
    return stats;
  }

  /** Counts one finished request of a route. */
  request(stats: RouteStats, status: number, seconds: number): void {
    const statuses = stats.statuses;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < BUCKETS_S.length && seconds > BUCKETS_S[i]) i++;
    if (i < BUCKETS_S.length) stats.buckets[i] += 1;
    stats.sum += seconds;
    stats.count += 1;
  }

  /** Counts one secret read and who answered it. */
  served(name: string, source: "cache" | "stale" | "backend"): void {
    this.#serves[source] += 1;
    let counts = this.#perSecret.get(name);
    if (!counts) this.#perSecret.set(name, counts = { cache: 0, stale: 0, backend: 0 });
    counts[source] += 1;
  }

  /** Counts one backend error by its code. */
  backendError(code: string): void {
    this.#backendErrors.set(code, (this.#backendErrors.get(code) ?? 0) + 1);
  }

  /** The text exposition; `withNames` adds the per-secret series. */
  render(withNames: boolean): string {
    const out: string[] = [];
    out.push("# HELP keyward_http_requests_total HTTP requests by route and status.");
    out.push("# TYPE keyward_http_requests_total counter");
    for (const stats of this.#routes.values()) {
      const r = esc(stats.route);
      for (const [status, n] of stats.statuses) {
        out.push(`keyward_http_requests_total{route="${r}",status="${status}"} ${n}`);
      }
    }
    out.push("# HELP keyward_http_request_duration_seconds Request latency by route.");
    out.push("# TYPE keyward_http_request_duration_seconds histogram");
    for (const h of this.#routes.values()) {
      if (h.count === 0) continue;
      const r = esc(h.route);
      let cumulative = 0;
      BUCKETS_S.forEach((le, i) => {
        cumulative += h.buckets[i];
        out.push(
          `keyward_http_request_duration_seconds_bucket{route="${r}",le="${le}"} ${cumulative}`,
        );
      });
      out.push(`keyward_http_request_duration_seconds_bucket{route="${r}",le="+Inf"} ${h.count}`);
      out.push(`keyward_http_request_duration_seconds_sum{route="${r}"} ${h.sum}`);
      out.push(`keyward_http_request_duration_seconds_count{route="${r}"} ${h.count}`);
    }
    out.push("# HELP keyward_cache_hits_total Reads served fresh from the cache.");
    out.push("# TYPE keyward_cache_hits_total counter");
    out.push(`keyward_cache_hits_total ${this.#serves.cache}`);
    out.push("# HELP keyward_cache_misses_total Reads the backend answered.");
    out.push("# TYPE keyward_cache_misses_total counter");
    out.push(`keyward_cache_misses_total ${this.#serves.backend}`);
    out.push("# HELP keyward_stale_serves_total Reads served stale while the backend failed.");
    out.push("# TYPE keyward_stale_serves_total counter");
    out.push(`keyward_stale_serves_total ${this.#serves.stale}`);
    out.push("# HELP keyward_backend_errors_total Backend errors by code.");
    out.push("# TYPE keyward_backend_errors_total counter");
    for (const [code, n] of this.#backendErrors) {
      out.push(`keyward_backend_errors_total{code="${esc(code)}"} ${n}`);
    }
    if (withNames) {
      out.push("# HELP keyward_secret_reads_total Reads per secret and source.");
      out.push("# TYPE keyward_secret_reads_total counter");
      for (const [name, counts] of this.#perSecret) {
        for (const [source, n] of Object.entries(counts)) {
          if (n > 0) {
            out.push(`keyward_secret_reads_total{name="${esc(name)}",source="${source}"} ${n}`);
          }
        }
      }
    }
    return `${out.join("\n")}\n`;
  }
}

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
