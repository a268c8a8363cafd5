import { afterEach, describe, expect, it, vi } from "vitest";
import { FEED_COALESCE_MS, FEED_HEARTBEAT_MS, FEED_MAX_CALL_EVENTS, ProgressFeed, type FeedSource } from "../../../src/durable/batch/progress-feed";
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
});
