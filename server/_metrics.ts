/**
 * The endpoint's metrics in Prometheus text format: requests by route and
 * status, cache hits, misses and stale serves, backend errors, a latency
 * histogram. Secret names appear only in the per-secret series, rendered
 * only for a token with the `metrics` role. Never a value.
 *
 * @module
 */

const BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Counters and a histogram, kept in memory. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, { buckets: number[]; sum: number; count: number }>();
  readonly #serves = { cache: 0, stale: 0, backend: 0 };
  readonly #backendErrors = new Map<string, number>();
  readonly #perSecret = new Map<string, { cache: number; stale: number; backend: number }>();

  /** Counts one finished request. `route` is the route template, never the path. */
  request(route: string, status: number, seconds: number): void {
    const key = `${route}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let h = this.#latency.get(route);
    if (!h) {
      h = { buckets: BUCKETS_S.map(() => 0), sum: 0, count: 0 };
      this.#latency.set(route, h);
    }
    // Per bucket (not cumulative) here; render() sums them up.
    let i = 0;
    while (i < BUCKETS_S.length && seconds > BUCKETS_S[i]) i++;
    if (i < BUCKETS_S.length) h.buckets[i] += 1;
    h.sum += seconds;
    h.count += 1;
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
    for (const [key, n] of this.#requests) {
      const [route, status] = key.split("\u0000");
      out.push(`keyward_http_requests_total{route="${esc(route)}",status="${status}"} ${n}`);
    }
    out.push("# HELP keyward_http_request_duration_seconds Request latency by route.");
    out.push("# TYPE keyward_http_request_duration_seconds histogram");
    for (const [route, h] of this.#latency) {
      const r = esc(route);
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
