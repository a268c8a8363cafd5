import { describe, expect, it } from "vitest";
import type { CallRow } from "../../src/db/call-ledger";
import { attemptRow, callRow, resultRow } from "./call-rows";
import { attemptHistory, boundedCalls, CALL_PAGE_MAX_BYTES, EXCERPT_CHARS, EXCERPT_COLUMNS, toCallExcerpt, toCallView } from "../../src/views/call";

function row(seq: number, values: string[], extra: Partial<CallRow> = {}): CallRow & { metadata_bytes: number } {
  const r = callRow(seq, values, extra);
  return { ...r, metadata_bytes: new TextEncoder().encode(r.metadata).byteLength };
}

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).byteLength;
const columns = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);

describe("toCallExcerpt", () => {
  it("is the whole call, unmarked, for a narrow row", () => {
    const r = row(0, ["+12125550100", "Ann"]);
    expect(toCallExcerpt("batch_abc", r, ["phone_number", "first_name"])).toEqual(toCallView("batch_abc", r, ["phone_number", "first_name"]));
    expect(toCallExcerpt("batch_abc", r, ["phone_number", "first_name"])).not.toHaveProperty("metadataTruncated");
  });

  it("keeps the first columns, cuts long values and names, and says so", () => {
    const cols = [`long_${"n".repeat(200)}`, ...columns(14)];
    const values = cols.map((_, i) => (i === 1 ? "v".repeat(5000) : `x${i}`));
    const excerpt = toCallExcerpt("batch_abc", row(0, values), cols);
    expect(Object.keys(excerpt.metadata)).toHaveLength(EXCERPT_COLUMNS);
    expect(Object.keys(excerpt.metadata)[0]).toBe(`long_${"n".repeat(EXCERPT_CHARS - 5)}…`);
    expect(excerpt.metadata.c0).toBe(`${"v".repeat(EXCERPT_CHARS)}…`);
    expect(excerpt.metadata.c1).toBe("x2");
    expect(excerpt.metadataTruncated).toBe(true);
  });

  it("marks an excerpt of a row with more columns than it shows, even when every value is short", () => {
    const cols = columns(EXCERPT_COLUMNS + 1);
    expect(toCallExcerpt("batch_abc", row(0, cols), cols).metadataTruncated).toBe(true);
    expect(toCallExcerpt("batch_abc", row(0, cols.slice(1)), cols.slice(1))).not.toHaveProperty("metadataTruncated");
  });

  it("never splits a surrogate pair, and keeps a column named __proto__", () => {
    const excerpt = toCallExcerpt("batch_abc", row(0, [`${"a".repeat(EXCERPT_CHARS - 1)}😀😀`, "x"]), ["note", "__proto__"]);
    expect(excerpt.metadata.note).toBe(`${"a".repeat(EXCERPT_CHARS - 1)}😀…`);
    expect(Object.hasOwn(excerpt.metadata, "__proto__")).toBe(true);
    expect(JSON.parse(JSON.stringify(excerpt)).metadata).toEqual(JSON.parse(`{"note":"${"a".repeat(EXCERPT_CHARS - 1)}😀…","__proto__":"x"}`));
  });
});

describe("boundedCalls", () => {
  const cols = columns(12);
  const narrow = (seq: number) =>
    row(
      seq,
      cols.map((c) => `${c}-${seq}`),
    );
  const wide = (seq: number) =>
    row(
      seq,
      cols.map(() => "w".repeat(2000)),
    );

  it("keeps every row of the page within the budget: whole rows where they fit, an excerpt where not", () => {
    const rows = [narrow(0), wide(1), narrow(2), wide(3)];
    const asked: number[] = [];
    const metadataOf = (seq: number) => {
      asked.push(seq);
      return rows.find((r) => r.seq === seq)!.metadata;
    };
    const maxBytes = 8000;
    const calls = boundedCalls("batch_abc", cols, { rows, metadataOf }, maxBytes);
    expect(bytes(calls)).toBeLessThanOrEqual(maxBytes);
    expect(calls.map((c) => c.jobId)).toEqual(["call_abc_0", "call_abc_1", "call_abc_2", "call_abc_3"]);
    // The narrow rows after a wide one are still whole; the wide ones are excerpts, and were never read whole.
    expect(calls[0]).toEqual(toCallView("batch_abc", rows[0]!, cols));
    expect(calls[2]).toEqual(toCallView("batch_abc", rows[2]!, cols));
    expect(calls[1]).toEqual(toCallExcerpt("batch_abc", rows[1]!, cols));
    expect(calls[3]!.metadataTruncated).toBe(true);
    expect(asked).toEqual([0, 2]);
  });

  it("gives one call alone the whole budget", () => {
    const rows = [wide(1)];
    const [call] = boundedCalls("batch_abc", cols, { rows, metadataOf: () => rows[0]!.metadata }, 64 * 1024);
    expect(call).toEqual(toCallView("batch_abc", rows[0]!, cols));
  });

  it("drops metadata altogether, marked, when even the excerpts would not fit", () => {
    const rows = Array.from({ length: 5 }, (_, i) => wide(i));
    const calls = boundedCalls("batch_abc", cols, { rows, metadataOf: () => null }, 3000);
    expect(bytes(calls)).toBeLessThanOrEqual(3000);
    expect(calls).toHaveLength(5);
    expect(calls.at(-1)).toMatchObject({ metadata: {}, metadataTruncated: true });
  });
});

describe("a call's result", () => {
  it("is null until the agent reports one", () => {
    expect(toCallView("batch_abc", callRow(0, []), []).result).toBeNull();
    expect(toCallView("batch_abc", callRow(0, [], { result: null }), []).result).toBeNull();
  });

  it("shows the result with ISO times, parsed data and the transcript as a link on this API", () => {
    const result = resultRow(7, {
      attempt: 2,
      disposition: "booked",
      summary: "Booked for Tuesday.",
      sentiment: "positive",
      data: JSON.stringify({ slot: "tue-10", guests: 2, confirmed: true, note: null }),
      transcript_key: "transcripts/batch_abc/call_abc_7/2.json",
      recording_url: "https://rec.example.com/7.mp3",
      callback_at: Date.UTC(2026, 0, 3, 17),
      opt_out: 1,
    });
    const view = toCallView("batch_abc", callRow(7, [], { disposition: "booked", result }), []);
    expect(view.result).toEqual({
      attempt: 2,
      disposition: "booked",
      summary: "Booked for Tuesday.",
      sentiment: "positive",
      data: { slot: "tue-10", guests: 2, confirmed: true, note: null },
      transcriptUrl: "/v1/api/batch-calls/batch_abc/calls/call_abc_7/transcript?attempt=2",
      recordingUrl: "https://rec.example.com/7.mp3",
      callbackAt: "2026-01-03T17:00:00.000Z",
      optOut: true,
      receivedAt: "2026-01-02T03:05:00.000Z",
    });
    expect(view).not.toHaveProperty("resultTruncated");
    // No transcript: no link.
    expect(toCallView("batch_abc", callRow(7, [], { result: resultRow(7) }), []).result).toMatchObject({ transcriptUrl: null, data: {}, optOut: false });
  });

  it("is cut in an excerpt (recent_calls, `call` events) like the metadata is, and marked", () => {
    const fields = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, i === 0 ? "v".repeat(500) : i]));
    const result = resultRow(0, { disposition: "booked", summary: "s".repeat(4096), data: JSON.stringify(fields) });
    const excerpt = toCallExcerpt("batch_abc", callRow(0, ["Ann"], { result }), ["first_name"]);
    expect(excerpt.resultTruncated).toBe(true);
    expect(excerpt.result).toMatchObject({ disposition: "booked", summary: `${"s".repeat(EXCERPT_CHARS)}…` });
    expect(Object.keys(excerpt.result!.data)).toEqual(Object.keys(fields).slice(0, EXCERPT_COLUMNS));
    expect(excerpt.result!.data.f0).toBe(`${"v".repeat(EXCERPT_CHARS)}…`);
    expect(excerpt.result!.data.f1).toBe(1);
    // A small result is whole and unmarked.
    const small = callRow(0, ["Ann"], { result: resultRow(0, { summary: "Booked.", data: JSON.stringify({ a: true }) }) });
    expect(toCallExcerpt("batch_abc", small, ["first_name"])).toEqual(toCallView("batch_abc", small, ["first_name"]));
  });

  it("keeps a page of calls with the largest results the contract allows within 1 MiB, every call still carrying its result", () => {
    const cols = columns(3);
    // summary 4 KB, 50 data fields of 1 KB: about 55 KB of JSON each, 100 of them.
    const data = JSON.stringify(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`field_${i}`, "d".repeat(1024)])));
    const rows = Array.from({ length: 100 }, (_, i) =>
      row(
        i,
        cols.map((c) => `${c}-${i}`),
        { disposition: "booked", result: resultRow(i, { disposition: "booked", summary: "s".repeat(4096), data, transcript_key: `t/${i}` }) },
      ),
    );
    const calls = boundedCalls("batch_abc", cols, { rows, metadataOf: (seq) => rows[seq]!.metadata });
    expect(bytes(calls)).toBeLessThanOrEqual(CALL_PAGE_MAX_BYTES);
    expect(calls).toHaveLength(100);
    // Every call keeps its metadata and what identifies its result; the first ones have it whole.
    expect(calls[0]).toEqual(toCallView("batch_abc", rows[0]!, cols));
    expect(calls.every((c) => c.result?.disposition === "booked" && c.result.transcriptUrl !== null)).toBe(true);
    expect(calls.every((c) => !c.metadataTruncated)).toBe(true);
    const slim = calls.filter((c) => c.resultTruncated);
    expect(slim.length).toBeGreaterThan(70);
    expect(slim[0]!.result).toMatchObject({ summary: null, data: {}, attempt: 1 });
    // Whole results go first to the first calls, in file order.
    expect(calls.findIndex((c) => c.resultTruncated)).toBe(100 - slim.length);
  });

  it("gives metadata excerpts before whole results, and whole results before whole rows", () => {
    const cols = columns(12);
    const wideValues = cols.map(() => "w".repeat(2000));
    const result = resultRow(0, { summary: "s".repeat(3000) });
    const rows = [row(0, wideValues, { result }), row(1, wideValues, { result: { ...result, seq: 1 } })];
    const metadataOf = (seq: number) => rows[seq]!.metadata;
    // Every call with its metadata excerpt and its whole result: what a page without room for a whole row holds at most.
    const excerptBytes = bytes(boundedCalls("batch_abc", cols, { rows, metadataOf: () => null }, 1e9));
    // Room for the excerpts and whole results, not for a whole row.
    const calls = boundedCalls("batch_abc", cols, { rows, metadataOf }, excerptBytes + 500);
    expect(calls.map((c) => [c.metadataTruncated, c.resultTruncated])).toEqual([
      [true, undefined],
      [true, undefined],
    ]);
    // Room for the excerpts and one whole result (3 KB of summary): the first call in file order gets it.
    const one = boundedCalls("batch_abc", cols, { rows, metadataOf }, excerptBytes - 2900);
    expect(one.map((c) => [Object.keys(c.metadata).length, c.resultTruncated])).toEqual([
      [EXCERPT_COLUMNS, undefined],
      [EXCERPT_COLUMNS, true],
    ]);
    // Room for the excerpts only: the results go slim, the excerpts stay.
    const tight = boundedCalls("batch_abc", cols, { rows, metadataOf }, excerptBytes - 4000);
    expect(tight.map((c) => [Object.keys(c.metadata).length, c.resultTruncated, c.result?.summary])).toEqual([
      [EXCERPT_COLUMNS, true, null],
      [EXCERPT_COLUMNS, true, null],
    ]);
  });
});

describe("attemptHistory", () => {
  it("lists the finished attempts in order, then the one under way while the call is active", () => {
    const r = callRow(3, [], { status: "active", attempts: 3, start_time: 5000 });
    const history = attemptHistory(r, [attemptRow(3, 2, { outcome: "busy", error: "The line was busy." }), attemptRow(3, 1)]);
    expect(history).toEqual([
      {
        attempt: 1,
        from: "+14155550100",
        to: "+12125550103",
        startTime: Date.UTC(2026, 0, 2, 3, 1),
        endTime: Date.UTC(2026, 0, 2, 3, 1, 30),
        outcome: "no_answer",
        duration: null,
        error: null,
      },
      {
        attempt: 2,
        from: "+14155550100",
        to: "+12125550103",
        startTime: Date.UTC(2026, 0, 2, 3, 2),
        endTime: Date.UTC(2026, 0, 2, 3, 2, 30),
        outcome: "busy",
        duration: null,
        error: "The line was busy.",
      },
      { attempt: 3, from: null, to: "+12125550103", startTime: 5000, endTime: null, outcome: null, duration: null, error: null },
    ]);
    // A finished call has only its finished attempts; one never dialled has none.
    expect(attemptHistory({ ...r, status: "completed" }, [attemptRow(3, 1)])).toHaveLength(1);
    expect(attemptHistory(callRow(0, []), [])).toEqual([]);
  });

  it("says which of the recipient's numbers each attempt called and from which pool number, the one under way included", () => {
    const numbers = JSON.stringify(["+12125550103", "+13125550199"]);
    const r = callRow(3, [], { status: "active", attempts: 3, start_time: 5000, numbers, dial_to: "+13125550199", dial_from: "+13125550000" });
    const history = attemptHistory(r, [
      attemptRow(3, 1, { from_number: "+12125550000", to_number: "+12125550103" }),
      attemptRow(3, 2, { from_number: "+13125550000", to_number: "+13125550199" }),
    ]);
    expect(history.map((a) => [a.attempt, a.from, a.to])).toEqual([
      [1, "+12125550000", "+12125550103"],
      [2, "+13125550000", "+13125550199"],
      [3, "+13125550000", "+13125550199"],
    ]);
    // History written before several numbers per recipient has no to_number: it called phone_number.
    expect(attemptHistory({ ...r, status: "waiting" }, [attemptRow(3, 1)]).map((a) => a.to)).toEqual(["+12125550103"]);
  });
});

describe("a call's numbers and why it waits", () => {
  const cols = ["phone_number", "phone_number_2"];

  it("lists every number of the recipient in order, or phone_number alone", () => {
    const several = callRow(1, ["+12125550101", "+13125550199"], { numbers: JSON.stringify(["+12125550101", "+13125550199"]) });
    expect(toCallView("batch_abc", several, cols).phoneNumbers).toEqual(["+12125550101", "+13125550199"]);
    expect(toCallExcerpt("batch_abc", several, cols).phoneNumbers).toEqual(["+12125550101", "+13125550199"]);
    expect(toCallView("batch_abc", callRow(2, ["+12125550102", ""]), cols).phoneNumbers).toEqual(["+12125550102"]);
    // A read that does not select the column (undefined) shows phone_number, never fails.
    const { numbers: _, ...unread } = several;
    expect(toCallView("batch_abc", unread as typeof several, cols).phoneNumbers).toEqual(["+12125550101"]);
  });

  it.each(["contact_policy", "no_enabled_number", "number_daily_limit", "calling_window"])("shows %s with nextAttemptAt while the call waits", (reason) => {
    const held = callRow(1, ["+12125550101"], { wait_reason: reason, next_attempt_at: "2026-03-03T09:00:00.000Z", due_at: 1 });
    expect(toCallView("batch_abc", held, ["phone_number"])).toMatchObject({
      status: "waiting",
      waitReason: reason,
      nextAttemptAt: "2026-03-03T09:00:00.000Z",
    });
  });

  it("shows no reason for a call that is not waiting, nor one it does not know", () => {
    const base = { wait_reason: "contact_policy", next_attempt_at: "2026-03-03T09:00:00.000Z" };
    for (const status of ["active", "completed", "failed", "cancelled"] as const) {
      expect(toCallView("batch_abc", callRow(1, [], { ...base, status }), []).waitReason).toBeNull();
    }
    expect(toCallView("batch_abc", callRow(1, [], { wait_reason: "gremlins" }), []).waitReason).toBeNull();
    expect(toCallView("batch_abc", callRow(1, []), []).waitReason).toBeNull();
  });

  it("keeps every field a call had, in the page's byte budget too", () => {
    const rows = [row(0, ["+12125550100", "+13125550199"], { numbers: JSON.stringify(["+12125550100", "+13125550199"]), wait_reason: "calling_window" })];
    const [call] = boundedCalls("batch_abc", cols, { rows, metadataOf: () => null });
    expect(call).toMatchObject({
      jobId: "call_abc_0",
      phone_number: "+12125550100",
      phoneNumbers: ["+12125550100", "+13125550199"],
      waitReason: "calling_window",
    });
    expect(Object.keys(call!)).toEqual(
      expect.arrayContaining([
        "jobId",
        "status",
        "phone_number",
        "startTime",
        "endTime",
        "duration",
        "error",
        "metadata",
        "attempts",
        "outcome",
        "nextAttemptAt",
        "result",
      ]),
    );
  });
});
