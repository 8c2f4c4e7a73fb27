/** @jsxImportSource hono/jsx */
/**
 * The console's pages, server-rendered with Hono's JSX: plain HTML that
 * reads without JavaScript; the one script (sorting, refresh, copy) carries
 * the response's CSP nonce. No page holds a secret value: the data they get
 * has none (`data.ts`).
 *
 * @module
 */

import type { Child } from "hono/jsx";
import type { VerifyRun } from "../../audit/trail.ts";
import type { AuditView, ReadsView, RotationView, SecretView, ServiceView } from "./data.ts";

/** The pages, in the navigation's order. */
export const PAGES = [
  ["/console", "Secrets"],
  ["/console/rotations", "Rotations"],
  ["/console/services", "Services"],
  ["/console/reads", "Reads"],
  ["/console/audit", "Audit chain"],
] as const;

interface LayoutProps {
  nonce: string;
  title: string;
  path: string;
  /** The signed-in token's service and id, or undefined on the sign-in page. */
  who?: string;
  children?: Child;
}

function Layout({ nonce, title, path, who, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{title} · keyward console</title>
        <link rel="icon" href="/console/assets/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script nonce={nonce} src="/console/assets/console.js" defer></script>
      </head>
      <body>
        <header>
          <span class="brand">keyward console</span>
          {who !== undefined && (
            <nav>
              {PAGES.map(([href, label]) => (
                <a href={href} aria-current={href === path ? "page" : undefined}>{label}</a>
              ))}
            </nav>
          )}
          {who !== undefined && (
            <form method="post" action="/console/signout" class="signout">
              <span class="who">{who}</span>
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main>
          <h1>{title}</h1>
          {children}
        </main>
        {who !== undefined && (
          <footer>
            <label>
              <input type="checkbox" id="auto-refresh" /> refresh every 30 s
            </label>
          </footer>
        )}
      </body>
    </html>
  );
}

async function render(el: Child): Promise<string> {
  return "<!doctype html>" + (await (el as { toString(): string | Promise<string> }).toString());
}

/** The sign-in page. */
export function signInPage(nonce: string, problem?: string): Promise<string> {
  return render(
    <Layout nonce={nonce} title="Sign in" path="/console/signin">
      <p>
        Paste a token with the <code>operator</code> role (<code>
          deno task secrets token create --service ops --prefix '*' --role operator
        </code>). It sees the names its prefixes allow. The console shows ages, rotations, reads and
        the audit chain, never a secret value.
      </p>
      {problem && <p class="problem" role="alert">{problem}</p>}
      <form method="post" action="/console/signin" class="signin">
        <label for="token">Operator token</label>
        <input
          type="password"
          id="token"
          name="token"
          autocomplete="off"
          required
          maxlength={512}
        />
        <button type="submit">Sign in</button>
      </form>
    </Layout>,
  );
}

function days(n: number): string {
  return `${Math.abs(n).toFixed(1)} d`;
}

function DueCell({ s }: { s: SecretView }) {
  if (!s.due) return <td data-label="Due" class="muted">no rule</td>;
  const cls = s.due.overdue ? "due overdue" : s.due.daysLeft < 14 ? "due soon" : "due";
  return (
    <td
      data-label="Due"
      class={cls}
      data-sort={String(s.due.daysLeft)}
      title={`due ${s.due.dueAt}`}
    >
      {s.due.overdue ? `overdue by ${days(s.due.daysLeft)}` : `${days(s.due.daysLeft)} left`}
    </td>
  );
}

/** Secrets: name, backend, versions, age, policy, due date, last rotation. */
export function secretsPage(
  nonce: string,
  who: string,
  rows: SecretView[],
  q: { prefix: string; sort: "due" | "name" },
): Promise<string> {
  const shown = rows.filter((r) => r.name.startsWith(q.prefix));
  const dueKey = (r: SecretView) => r.due?.daysLeft ?? Infinity;
  shown.sort((a, b) =>
    q.sort === "name"
      ? a.name.localeCompare(b.name)
      : dueKey(a) - dueKey(b) || a.name.localeCompare(b.name)
  );
  const overdue = shown.filter((r) => r.due?.overdue).length;
  const link = (sort: string) =>
    `/console?${new URLSearchParams({ ...(q.prefix ? { prefix: q.prefix } : {}), sort })}`;
  return render(
    <Layout nonce={nonce} title="Secrets" path="/console" who={who}>
      <form method="get" action="/console" class="filter">
        <label for="prefix">Name prefix</label>
        <input type="text" id="prefix" name="prefix" value={q.prefix} maxlength={256} />
        <input type="hidden" name="sort" value={q.sort} />
        <button type="submit">Filter</button>
        <span class="sortby">
          sort: {q.sort === "due" ? <strong>due date</strong> : <a href={link("due")}>due date</a>}
          {" · "}
          {q.sort === "name" ? <strong>name</strong> : <a href={link("name")}>name</a>}
        </span>
      </form>
      <p class="summary">
        {shown.length} secret(s){q.prefix ? ` under ${q.prefix}` : ""};{" "}
        <span class={overdue > 0 ? "overdue-count" : ""}>{overdue} overdue</span>
      </p>
      <div class="scroll">
        <table class="sortable cards" id="secrets">
          <thead>
            <tr>
              <th>Name</th>
              <th>Backend</th>
              <th>Versions</th>
              <th>Age of current</th>
              <th>Policy</th>
              <th>Due</th>
              <th>Last rotation</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => (
              <tr data-name={s.name} class={s.due?.overdue ? "row-overdue" : ""}>
                <td data-label="Name" class="name">{s.name}</td>
                <td data-label="Backend">{s.backend}</td>
                <td data-label="Versions">
                  <ul class="versions">
                    {[...s.versions].reverse().slice(0, 4).map((v) => (
                      <li>
                        <code>{v.version}</code>{" "}
                        {v.stages.map((st) => <span key={st} class={`stage stage-${st}`}>{st}
                        </span>)}
                      </li>
                    ))}
                  </ul>
                </td>
                <td data-label="Age of current" data-sort={String(s.currentAgeDays ?? -1)}>
                  {s.currentAgeDays === null ? "–" : days(s.currentAgeDays)}
                </td>
                <td data-label="Policy">
                  {s.rule
                    ? (
                      <span title={`prefix "${s.rule.prefix}"`}>
                        {s.rule.rotator}, max {s.rule.maxAgeDays} d, grace {s.rule.graceDays}{" "}
                        d, delete after {s.rule.deleteAfterDays} d
                      </span>
                    )
                    : <span class="muted">none</span>}
                </td>
                <DueCell s={s} />
                <td data-label="Last rotation">
                  {s.lastRotation
                    ? (
                      <span>
                        {s.lastRotation.at.slice(0, 16).replace("T", " ")} by{" "}
                        <strong>{s.lastRotation.by}</strong> ({s.lastRotation.phase})
                      </span>
                    )
                    : <span class="muted">never</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>,
  );
}

function Cmd({ text }: { text: string }) {
  return (
    <div class="cmd">
      <code>{text}</code> <button type="button" class="copy" data-copy={text}>copy</button>
    </div>
  );
}

function RotationBlock({ r }: { r: RotationView }) {
  return (
    <details
      class={`rotation rot-${r.phase}`}
      open={r.phase === "failed" || r.phase === "running"}
    >
      <summary>
        <strong>{r.secretName}</strong> <span class={`phase phase-${r.phase}`}>{r.phase}</span>{" "}
        {r.fromVersion ?? "?"} → {r.newVersion ?? "?"} · {r.rotator} · started{" "}
        {r.startedAt.slice(0, 16).replace("T", " ")} by {r.rotatedBy}
      </summary>
      <p class="rid">
        rotation <code>{r.id}</code>
      </p>
      {r.resume && <Cmd text={r.resume} />}
      {r.rollback && <Cmd text={r.rollback} />}
      {r.deprecateDueAt && <p>previous version deprecated after {r.deprecateDueAt}</p>}
      {r.deleteDueAt && <p>previous version deleted after {r.deleteDueAt}</p>}
      <div class="scroll">
        <table class="steps cards">
          <thead>
            <tr>
              <th>Step</th>
              <th>Outcome</th>
              <th>Time</th>
              <th>Took</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {r.steps.map((s) => (
              <tr class={`st-${s.status}`}>
                <td data-label="Step">{s.step}</td>
                <td data-label="Outcome">{s.status}</td>
                <td data-label="Time">{s.at.replace("T", " ").slice(0, 19)}</td>
                <td data-label="Took">{s.durationMs === null ? "" : `${s.durationMs} ms`}</td>
                <td data-label="Error">{s.errorCode ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** Rotations: running, failed, scheduled steps, completed. */
export function rotationsPage(nonce: string, who: string, rows: RotationView[]): Promise<string> {
  const group = (phases: string[]) => rows.filter((r) => phases.includes(r.phase));
  const sections: [string, RotationView[]][] = [
    ["Failed", group(["failed"])],
    ["Running", group(["running"])],
    ["Scheduled deprecations and deletions", group(["scheduled"])],
    ["Completed and rolled back", group(["completed", "rolled_back"])],
  ];
  return render(
    <Layout nonce={nonce} title="Rotations" path="/console/rotations" who={who}>
      {sections.map(([title, list]) => (
        <section>
          <h2>
            {title} <span class="count">({list.length})</span>
          </h2>
          {list.length === 0
            ? <p class="muted">none</p>
            : list.map((r) => <RotationBlock key={r.id} r={r} />)}
        </section>
      ))}
    </Layout>,
  );
}

/** Services: what each verify URL reports. */
export function servicesPage(nonce: string, who: string, rows: ServiceView[]): Promise<string> {
  return render(
    <Layout nonce={nonce} title="Services" path="/console/services" who={who}>
      {rows.length === 0 && <p class="muted">The rotation policy lists no verify URL.</p>}
      <div class="scroll">
        <table class="sortable cards" id="services">
          <thead>
            <tr>
              <th>Service</th>
              <th>Health URL</th>
              <th>Answer</th>
              <th>Versions in use</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr
                class={!s.answering
                  ? "row-down"
                  : s.secrets.some((x) => x.stage === "previous")
                  ? "row-previous"
                  : ""}
              >
                <td data-label="Service">{s.service}</td>
                <td data-label="Health URL">
                  <code>{s.url}</code>
                </td>
                <td data-label="Answer" class={s.answering ? "ok" : "bad"}>
                  {s.answering ? "answering" : `not answering (${s.problem})`}
                </td>
                <td data-label="Versions in use">
                  <ul class="versions">
                    {s.secrets.map((x) => (
                      <li>
                        {x.name}: <code>{x.reported ?? "–"}</code>{" "}
                        {x.stage !== "none" && (
                          <span class={`stage stage-${x.stage}`}>{x.stage}</span>
                        )}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>,
  );
}

/** A small bar chart drawn on the server. */
function Bars({ values, label }: { values: number[]; label: string }) {
  const w = 4;
  const h = 24;
  const max = Math.max(1, ...values);
  return (
    <svg
      class="chart"
      width={values.length * w}
      height={h}
      viewBox={`0 0 ${values.length * w} ${h}`}
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      {values.map((v, i) => {
        const bh = v === 0 ? 0 : Math.max(1, Math.round((v / max) * h));
        return <rect key={i} x={i * w} y={h - bh} width={w - 1} height={bh} fill="#2f6db3" />;
      })}
    </svg>
  );
}

/** Reads: per secret and service, from the audit trail. */
export function readsPage(
  nonce: string,
  who: string,
  data: { rows: ReadsView[]; available: boolean },
): Promise<string> {
  return render(
    <Layout nonce={nonce} title="Reads" path="/console/reads" who={who}>
      {!data.available && <p class="muted">No audit trail is configured.</p>}
      <div class="scroll">
        <table class="sortable cards" id="reads">
          <thead>
            <tr>
              <th>Secret</th>
              <th>Service</th>
              <th>Last 24 h</th>
              <th>Last 30 days</th>
              <th>Stale serves</th>
              <th>Errors</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r) => (
              <tr>
                <td data-label="Secret">{r.secretName}</td>
                <td data-label="Service">{r.service}</td>
                <td data-label="Last 24 h" data-sort={String(r.reads24h)}>
                  <Bars values={r.hourly} label={`${r.reads24h} reads in 24 h, per hour`} />{" "}
                  {r.reads24h}
                </td>
                <td data-label="Last 30 days" data-sort={String(r.reads30d)}>
                  <Bars values={r.daily} label={`${r.reads30d} reads in 30 days, per day`} />{" "}
                  {r.reads30d}
                </td>
                <td data-label="Stale serves" class={r.stale > 0 ? "warn" : ""}>{r.stale}</td>
                <td data-label="Errors" class={r.errors > 0 ? "bad" : ""}>{r.errors}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>,
  );
}

function RunResult({ run }: { run: VerifyRun }) {
  return (
    <dl class="verify">
      <dt>Result</dt>
      <dd class={run.ok ? "ok" : "bad"}>{run.ok ? "intact" : "FAILED"}</dd>
      <dt>When</dt>
      <dd>{run.at} ({run.by})</dd>
      <dt>Chains</dt>
      <dd>{run.chains}</dd>
      <dt>Rows</dt>
      <dd>{run.rows}</dd>
      <dt>First problem</dt>
      <dd>{run.first ? `${run.first.kind}: ${run.first.detail}` : "none"}</dd>
    </dl>
  );
}

/** Audit chain: the last verify run, the command, "verify now". */
export function auditPage(
  nonce: string,
  who: string,
  a: AuditView,
  note?: string,
): Promise<string> {
  return render(
    <Layout nonce={nonce} title="Audit chain" path="/console/audit" who={who}>
      <p>
        Trail: <code>{a.where}</code>
      </p>
      {note && <p class="note" role="status">{note}</p>}
      {a.last ? <RunResult run={a.last} /> : <p class="muted">No verify run is recorded yet.</p>}
      <h2>Full verify</h2>
      <Cmd text={a.command} />
      {a.canVerify && (
        <form method="post" action="/console/audit/verify">
          <button type="submit">Verify now</button>
        </form>
      )}
    </Layout>,
  );
}
