/**
 * The per-minute roll-up that counted audit events share (`withAudit`'s
 * cache serves, the endpoint's cache-answered requests): the first counted
 * event of a minute opens the window and arms one timer for the minute's end;
 * the timer, a later minute's event, `flush()` or `close()` rolls it, and the
 * owner writes one event per counter, dated at the minute's start.
 *
 * @module
 */

/** One minute, in milliseconds. */
export const MINUTE_MS = 60_000;

/** The open minute of a counter, and the timer that ends it. */
export class MinuteWindow {
  readonly #onRoll: (minuteStartMs: number) => void;
  readonly #now: () => number;
  readonly #unref: (timer: ReturnType<typeof setTimeout>) => void;
  #minute = -1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** True while counts of the open minute wait to be written (the hot path checks this first). */
  pending = false;

  /**
   * `onRoll` writes the counts; `now` is the clock the timer is armed
   * against; `unref` keeps the timer from holding the process open (the
   * default covers Node's timers; a Deno caller passes `Deno.unrefTimer`,
   * which this web-standard module does not name).
   */
  constructor(
    onRoll: (minuteStartMs: number) => void,
    now: () => number,
    unref: (timer: ReturnType<typeof setTimeout>) => void = (t) =>
      (t as { unref?: () => void }).unref?.(),
  ) {
    this.#onRoll = onRoll;
    this.#now = now;
    this.#unref = unref;
  }

  /** Opens the minute holding `atMs` and arms the timer for its end. */
  open(atMs: number = this.#now()): void {
    this.#minute = Math.floor(atMs / MINUTE_MS);
    this.pending = true;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.roll();
      } catch {
        // An owner whose sink throws loses these counts; nothing else to do from a timer.
      }
    }, Math.max(0, (this.#minute + 1) * MINUTE_MS - this.#now()));
    // The timer must not keep the process (or a test) alive: flush() and close() write the rest.
    this.#unref(timer);
    this.#timer = timer;
  }

  /** Rolls the open minute when `atMs` lies in a later one. */
  rollIfPast(atMs: number): void {
    if (this.pending && Math.floor(atMs / MINUTE_MS) > this.#minute) this.roll();
  }

  /** Writes the open minute's counts (through `onRoll`) and closes it. */
  roll(): void {
    if (!this.pending) return;
    this.pending = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onRoll(this.#minute * MINUTE_MS);
  }
}
