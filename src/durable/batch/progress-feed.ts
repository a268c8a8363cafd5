import { FINAL_STATUSES } from "../../domain/vocabulary";
import type { StatusBody } from "../../schemas/batch";
import type { CallView } from "../../schemas/call";

/** Changes are sent at most this often: a busy batch's subscribers get ≤ 4 updates a second. */
export const FEED_COALESCE_MS = 250;
/** A comment line this often keeps proxies from closing an idle stream. */
export const FEED_HEARTBEAT_MS = 15_000;
/** Most `call` events in one update; past that a client refreshes its page of calls from `progress`. */
export const FEED_MAX_CALL_EVENTS = 50;
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
 * FEED_COALESCE_MS one update is built (one /status body, the changed
 * calls) and the same bytes are written to every subscriber, so the cost
 * of a change does not grow with the subscribers, and dialling never waits
 * on them. After the batch is final its last `progress` is sent and every
 * stream ends.
 */
export class ProgressFeed {
  private readonly subscribers = new Set<Subscriber>();
  private readonly changedSeqs = new Set<number>();
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

  /** Something changed (these calls, or only counters/status): an update follows within FEED_COALESCE_MS. */
  changed(seqs: Iterable<number> = []): void {
    if (this.subscribers.size === 0) return;
    for (const s of seqs) if (this.changedSeqs.size <= FEED_MAX_CALL_EVENTS) this.changedSeqs.add(s);
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.flush();
    }, FEED_COALESCE_MS);
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
    this.changedSeqs.clear();
    let out = "";
    // Past the cap a client learns of the rest through progress (and refreshes its page of calls).
    if (seqs.length <= FEED_MAX_CALL_EVENTS) for (const call of this.source.calls(seqs)) out += frame("call", call);
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
