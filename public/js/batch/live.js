// @ts-check
// How the page hears about changes: the batch's event stream, reconnecting with
// Last-Event-ID when it drops before the batch is final. If the server has no
// stream (404) or it keeps failing, /status is polled every 2 s instead.

import { ApiError, readEvents, request } from "../api.js";
import { FINAL } from "./final.js";
import { sleep } from "./sleep.js";

/** @typedef {import("../types.js").BatchStatusEvent} BatchStatusEvent */
/** @typedef {import("../types.js").Call} Call */
/** @typedef {import("../types.js").StatusBody} StatusBody */
/** @typedef {"connecting" | "stream" | "polling" | "done"} LiveMode */

/**
 * What the page does with what it hears.
 * @typedef {object} LiveHandlers
 * @property {() => StatusBody | null} current the latest /status body, if any yet
 * @property {(body: StatusBody) => void} status a new /status body: a snapshot, progress, a poll's answer
 * @property {(change: BatchStatusEvent) => void} batchStatus the batch's status changed (a `batch` event; pausedReason when it paused)
 * @property {(call: Call) => void} call a call changed
 * @property {() => void} polled a poll answered (the calls table may re-read its page)
 * @property {() => Promise<void>} finished the batch is final: the last reads
 * @property {(err: unknown) => void} error something failed (null: it works again)
 */

/** Milliseconds between two reads of /status while polling. */
const POLL_MS = 2000;

/**
 * @param {string} base the batch's API path
 * @param {AbortSignal} signal ends it all when the page closes
 * @param {LiveHandlers} on
 */
export function liveUpdates(base, signal, on) {
  /** @type {LiveMode} */
  let mode = "connecting";
  let running = false;
  /** start() was asked for while it was still finishing (a retry clicked as the last pass ended): run it again after. */
  let again = false;

  /** The batch is final: say so, and let the page read its calls one last time. */
  function finish() {
    mode = "done";
    return on.finished();
  }

  /** Follows the event stream until the batch is final, or hands over to polling. */
  async function start() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    /** @type {string | null} */
    let lastId = null;
    let failures = 0;
    try {
      while (!signal.aborted) {
        try {
          await readEvents(`${base}/events`, {
            signal,
            lastEventId: lastId,
            onEvent(name, data, id) {
              if (id) lastId = id;
              failures = 0;
              mode = "stream";
              // The event's name says what its data is.
              if (name === "snapshot" || name === "progress") on.status(/** @type {StatusBody} */ (data));
              else if (name === "call") on.call(/** @type {Call} */ (data));
              else if (name === "batch") on.batchStatus(/** @type {BatchStatusEvent} */ (data));
            },
          });
          const now = on.current();
          if (now && FINAL.has(now.status)) return finish();
        } catch (err) {
          if (signal.aborted) return;
          const status = err instanceof ApiError ? err.status : undefined;
          if (status === 401 || status === 403) throw err;
          if (status === 404 || ++failures >= 3) return await poll();
        }
        await sleep(1500, signal);
      }
    } catch (err) {
      if (!signal.aborted) on.error(err);
    } finally {
      running = false;
      if (again && !signal.aborted) {
        again = false;
        start();
      }
    }
  }

  /** Reads /status every 2 s until the batch is final. */
  async function poll() {
    mode = "polling";
    while (!signal.aborted) {
      try {
        /** @type {StatusBody} */
        const body = await request(`${base}/status`, { signal });
        on.status(body);
        on.error(null);
        if (FINAL.has(body.status)) return finish();
        on.polled();
      } catch (err) {
        if (signal.aborted) return;
        on.error(err);
      }
      await sleep(POLL_MS, signal);
    }
  }

  return {
    start,
    /** How updates arrive now. */
    mode: () => mode,
    /** The page opened on a batch that had already finished: nothing to follow (a retry calls start()). */
    ended() {
      mode = "done";
    },
  };
}
