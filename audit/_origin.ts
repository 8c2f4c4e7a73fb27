/**
 * Where an event forwarded by an instance came from (issue 16): the
 * instance's id and its per-instance sequence number. The endpoint attaches
 * it to the events it ingests; the Postgres sink stores it beside the row
 * (`origin_instance`, `origin_seq`), so the endpoint can tell, after a
 * restart, which of an instance's events are already written. Not part of
 * the sealed fields: it is bookkeeping for deduplication, not evidence.
 *
 * @module
 */

/** The origin of a forwarded event. */
export interface EventOrigin {
  /** The instance's id. */
  instance: string;
  /** The event's position in that instance's stream, from 1. */
  seq: number;
}

/** Origins by event object (the event as recorded, then the sealed copy). */
export const originOf: WeakMap<object, EventOrigin> = new WeakMap();
