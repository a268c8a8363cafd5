import { afterEach, describe, expect, it, vi } from "vitest";
import {
  FEED_COALESCE_MS,
  FEED_HEARTBEAT_MS,
  FEED_MAX_CALL_EVENTS,
  FEED_MAX_INTERVAL_MS,
  feedCallCap,
  feedIntervalMs,
  ProgressFeed,
  type FeedSource,
} from "../../../src/durable/batch/progress-feed";
import type { StatusBody } from "../../../src/views/batch-status";

/** A batch as the feed sees it, changed by the test. */
function fakeBatch() {
  const b = { status: "processing" as StatusBody["status"], completed: 0, version: 1 };
  const source: FeedSource = {
    status: () => ({ status: b.status, isComplete: ["completed", "cancelled", "failed"].includes(b.status), completed: b.completed }) as unknown as StatusBody,
    calls: (seqs) => seqs.map((s) => ({ jobId: `call_x_${s}` }) as never),
    version: () => b.version,
  };
  return { b, feed: new ProgressFeed(source) };
}

/** Reads a subscriber's stream until what it was sent contains `text` (the test's timeout ends a wait for what never comes). */
async function readUntil(reader: ReadableStreamDefaultReader<string>, sent: string[], text: string): Promise<string> {
  while (!sent.join("").includes(text)) {
    const next = await reader.read();
    if (next.done) break;
    sent.push(next.value);
  }
  return sent.join("");
}

afterEach(() => vi.useRealTimers());

describe("ProgressFeed", () => {
  it("coalesces many changes into one update and sends a heartbeat while idle", async () => {
    vi.useFakeTimers();
    const { b, feed } = fakeBatch();
    const reader = feed.subscribe().body!.pipeThrough(new TextDecoderStream()).getReader();
    const chunks: string[] = [];
    expect(await readUntil(reader, chunks, "event: snapshot")).toContain(`"completed":0`);

    for (let i = 0; i < 30; i++) {
      b.completed++;
      b.version++;
      feed.changed([i]);
    }
    await vi.advanceTimersByTimeAsync(FEED_COALESCE_MS);
    const text = await readUntil(reader, chunks, `"completed":30`);
    expect(text.split("event: progress").length - 1).toBe(1); // thirty changes, one update
    expect(text).toContain(`"jobId":"call_x_29"`);

    await vi.advanceTimersByTimeAsync(FEED_HEARTBEAT_MS);
    expect(await readUntil(reader, chunks, ": heartbeat")).toContain(": heartbeat\n\n");
  });

  it("sends no call events past the cap, and ends every stream once the batch is final", async () => {
    vi.useFakeTimers();
    const { b, feed } = fakeBatch();
    const readers = [feed.subscribe(), feed.subscribe()].map((r) => r.body!.pipeThrough(new TextDecoderStream()).getReader());
    feed.changed(Array.from({ length: FEED_MAX_CALL_EVENTS + 10 }, (_, i) => i));
    b.status = "completed";
    b.version++;
    await vi.advanceTimersByTimeAsync(FEED_COALESCE_MS);
    for (const reader of readers) {
      const sent: string[] = [];
      const text = await readUntil(reader, sent, `event: progress`);
      expect(text).not.toContain("event: call");
      expect(text).toContain(`event: batch\ndata: {"status":"completed"}`);
      expect((await reader.read()).done).toBe(true); // the stream ended after the final progress
    }
    expect(feed.size).toBe(0);
  });

  it("waits longer and sends fewer call events as subscribers grow, so their writes stay near 100 a second", () => {
    expect([1, 25, 26, 100, 200, 5_000].map(feedIntervalMs)).toEqual([FEED_COALESCE_MS, 250, 260, 1_000, FEED_MAX_INTERVAL_MS, FEED_MAX_INTERVAL_MS]);
    expect([1, 20, 21, 100, 1_000, 5_000].map(feedCallCap)).toEqual([FEED_MAX_CALL_EVENTS, 50, 47, 10, 1, 1]);
    // Over any stretch of time, an update to each subscriber per interval: ≤ 100 writes a second up to 200 subscribers.
    for (const n of [1, 25, 50, 100, 200]) expect((n * 1000) / feedIntervalMs(n)).toBeLessThanOrEqual(100);
  });

  it("with 100 subscribers, sends one update a second to each, with call events only up to the smaller cap", async () => {
    vi.useFakeTimers();
    const { b, feed } = fakeBatch();
    const readers = Array.from({ length: 100 }, () => feed.subscribe().body!.pipeThrough(new TextDecoderStream()).getReader());
    const sent = readers.map(() => [] as string[]);
    await Promise.all(readers.map((r, i) => readUntil(r, sent[i]!, "event: snapshot")));

    b.version++;
    feed.changed(Array.from({ length: feedCallCap(100) }, (_, i) => i)); // at the cap: sent
    let arrived = false;
    const pending = readers[0]!.read().then((r) => {
      arrived = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(FEED_COALESCE_MS);
    expect(arrived).toBe(false); // 250 ms is not enough with 100 subscribers
    await vi.advanceTimersByTimeAsync(feedIntervalMs(100) - FEED_COALESCE_MS);
    sent[0]!.push((await pending).value ?? "");
    for (const [i, r] of readers.entries()) {
      const text = await readUntil(r, sent[i]!, "event: progress");
      expect(text.split("event: call").length - 1).toBe(feedCallCap(100));
    }

    b.version++;
    feed.changed(Array.from({ length: feedCallCap(100) + 1 }, (_, i) => i)); // past the cap: progress only
    await vi.advanceTimersByTimeAsync(feedIntervalMs(100));
    for (const [i, r] of readers.entries()) {
      sent[i]!.length = 0;
      const text = await readUntil(r, sent[i]!, "event: progress");
      expect(text).not.toContain("event: call");
    }
    expect(feed.size).toBe(100);
  });

  it("drops a subscriber that stops reading, and keeps sending to the others", async () => {
    vi.useFakeTimers();
    const { b, feed } = fakeBatch();
    feed.subscribe(); // never read
    const reader = feed.subscribe().body!.pipeThrough(new TextDecoderStream()).getReader();
    const sent: string[] = [];
    await readUntil(reader, sent, "event: snapshot");
    for (let i = 0; i < 100 && feed.size === 2; i++) {
      b.completed++;
      b.version++;
      feed.changed();
      await vi.advanceTimersByTimeAsync(feedIntervalMs(feed.size));
      await readUntil(reader, sent, `"completed":${b.completed}`);
    }
    expect(feed.size).toBe(1);
    b.completed++;
    b.version++;
    feed.changed();
    await vi.advanceTimersByTimeAsync(feedIntervalMs(1));
    expect(await readUntil(reader, sent, `"completed":${b.completed}`)).toContain(`"completed":${b.completed}`);
  });
});
