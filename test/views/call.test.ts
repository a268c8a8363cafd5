import { describe, expect, it } from "vitest";
import type { CallRow } from "../../src/db/call-ledger";
import { callRow } from "./call-rows";
import { boundedCalls, EXCERPT_CHARS, EXCERPT_COLUMNS, toCallExcerpt, toCallView } from "../../src/views/call";

function row(seq: number, values: string[]): CallRow & { metadata_bytes: number } {
  const r = callRow(seq, values);
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
