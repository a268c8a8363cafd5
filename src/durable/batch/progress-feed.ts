import { FINAL_STATUSES } from "../../domain/vocabulary";
import type { StatusBody } from "../../schemas/batch";
import type { CallView } from "../../schemas/call";

/** Changes are sent at most this often: a busy batch's subscribers get ≤ 4 updates a second. */
export const FEED_COALESCE_MS = 250;
/**
 * Past 25 subscribers the interval grows by this much per subscriber, so the
 * writes of all of them together stay near 100 a second: every write is a
 * chunk (a `progress` alone is ~7 KB) carried through the object's, the
 * Worker's and the proxy's streams on the threads that also dial, and the
 * readers pay for each byte too (100 subscribers sent every change cost
 * +14% CPU per call, their readers far more: docs/scaling.md, "Live watchers").
 */
export const FEED_MS_PER_SUBSCRIBER = 10;
/** However many subscribers, an update is never held longer than this. */
export const FEED_MAX_INTERVAL_MS = 2_000;
/** A comment line this often keeps proxies from closing an idle stream. */
export const FEED_HEARTBEAT_MS = 15_000;
/** Most `call` events in one update; past that a client refreshes its page of calls from `progress`. */
export const FEED_MAX_CALL_EVENTS = 50;
/**
 * `call` events written in one update, over all subscribers, at most: past
 * 20 subscribers the per-update cap is this divided by their number (10 for
 * 100), so a call event's ~1 KB is not written a hundred times fifty times.
 */
export const FEED_CALL_WRITES = 1_000;

/** How long changes wait before they are sent, for this many subscribers. */
export function feedIntervalMs(subscribers: number): number {
  return Math.min(FEED_MAX_INTERVAL_MS, Math.max(FEED_COALESCE_MS, subscribers * FEED_MS_PER_SUBSCRIBER));
}

/** The most `call` events one update carries for this many subscribers; past it, none (clients read `progress`). */
export function feedCallCap(subscribers: number): number {
  return Math.max(1, Math.min(FEED_MAX_CALL_EVENTS, Math.floor(FEED_CALL_WRITES / Math.max(1, subscribers))));
}

/** A subscriber this many updates behind is dropped (it reconnects and gets a fresh snapshot). */
const MAX_BACKLOG = 64;

/**
 * What the feed reads from the batch when it sends: the /status body and the
 * /calls item of given seqs, both with metadata excerpts (views/call), so an
 * update stays a few KB per call however wide the file.
 */
export type FeedSource = {
  status(): StatusBody | null;
  calls(seqs: number[]): CallView[];
  version(): number;
};

type Subscriber = { writer: WritableStreamDefaultWriter<Uint8Array> };

const encoder = new TextEncoder();

function frame(event: string, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The batch's live event stream (Server-Sent Events) for any number of
 * subscribers, held by the batch's object, which sees every transition.
 * Changes are only marked when they happen; at most every
 * feedIntervalMs(subscribers) one update is built (one /status body, the
 * changed calls up to feedCallCap) and the same bytes are written to every
 * subscriber as one chunk, so the cost of a change does not grow with the
 * subscribers, what all of them are written stays near a fixed number of
 * chunks a second, and dialling never waits on them. After the batch is
 * final its last `progress` is sent and every stream ends.
 */
export class ProgressFeed {
  private readonly subscribers = new Set<Subscriber>();
  private readonly changedSeqs = new Set<number>();
  /** More calls changed since the last update than it may carry as call events. */
  private callsOverflowed = false;
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private sentVersion = -1;
  private sentStatus: string | null = null;

  constructor(private readonly source: FeedSource) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** A new subscriber: its stream opens with a `snapshot` (and ends at once if the batch is already final). */
  subscribe(): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const sub: Subscriber = { writer: writable.getWriter() };
    const status = this.source.status();
    if (!status) {
      void sub.writer.close();
      return new Response(readable, { status: 404 });
    }
    this.subscribers.add(sub);
    const version = this.source.version();
    if (this.subscribers.size === 1) {
      // The first subscriber since the feed was idle: what it is sent now is what was sent.
      this.sentStatus = status.status;
      this.sentVersion = version;
    }
    this.write(sub, encoder.encode(frame("snapshot", status, version)));
    if (status.isComplete) {
      this.write(sub, encoder.encode(frame("progress", status, version)));
      this.end(sub);
    } else {
      this.heartbeat ??= setInterval(() => this.broadcast(encoder.encode(": heartbeat\n\n")), FEED_HEARTBEAT_MS);
    }
    return new Response(readable, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
    });
  }

  /** Something changed (these calls, or only counters/status): an update follows within feedIntervalMs. */
  changed(seqs: Iterable<number> = []): void {
    if (this.subscribers.size === 0) return;
    const cap = feedCallCap(this.subscribers.size);
    for (const s of seqs) {
      if (this.callsOverflowed) break;
      this.changedSeqs.add(s);
      // Past the cap the seqs are not kept: this update will carry no call events, even if subscribers leave before it.
      this.callsOverflowed = this.changedSeqs.size > cap;
    }
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.flush();
    }, feedIntervalMs(this.subscribers.size));
  }

  /** Builds one update and hands the same bytes to every subscriber. */
  flush(): void {
    if (!this.dirty || this.subscribers.size === 0) return;
    this.dirty = false;
    const status = this.source.status();
    if (!status) {
      this.closeAll();
      return;
    }
    const version = this.source.version();
    const seqs = [...this.changedSeqs];
    const overflowed = this.callsOverflowed || seqs.length > feedCallCap(this.subscribers.size);
    this.changedSeqs.clear();
    this.callsOverflowed = false;
    let out = "";
    // Past the cap a client learns of the rest through progress (and refreshes its page of calls).
    if (!overflowed) for (const call of this.source.calls(seqs)) out += frame("call", call);
    if (status.status !== this.sentStatus) {
      this.sentStatus = status.status;
      // A pause says why (a stop rule's, or by request).
      out += frame("batch", status.status === "paused" ? { status: status.status, pausedReason: status.pausedReason } : { status: status.status });
    }
    if (version !== this.sentVersion || out !== "") out += frame("progress", status, version);
    this.sentVersion = version;
    if (out) this.broadcast(encoder.encode(out));
    if (FINAL_STATUSES.has(status.status)) this.closeAll();
  }

  private broadcast(bytes: Uint8Array): void {
    for (const sub of this.subscribers) this.write(sub, bytes);
  }

  /** Never awaited: a slow reader costs memory up to MAX_BACKLOG updates, then it is dropped. */
  private write(sub: Subscriber, bytes: Uint8Array): void {
    if ((sub.writer.desiredSize ?? 0) < -MAX_BACKLOG) {
      this.end(sub);
      return;
    }
    sub.writer.write(bytes).catch(() => this.drop(sub));
  }

  private end(sub: Subscriber): void {
    this.drop(sub);
    sub.writer.close().catch(() => undefined);
  }

  private drop(sub: Subscriber): void {
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0) this.stopTimers();
  }

  private closeAll(): void {
    for (const sub of [...this.subscribers]) this.end(sub);
    this.stopTimers();
  }

  private stopTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.timer) clearTimeout(this.timer);
    this.heartbeat = null;
    this.timer = null;
  }
}
