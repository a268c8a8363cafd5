import { describe, expect, it } from "vitest";
import { scanCsv } from "../../../src/domain/csv";
import { scan, streamOf } from "./helpers";

type Seen = [seq: number, e164: string, numbers: string[] | null];

const opts = { defaultCountry: "US", stopOnInvalid: false, chunkChars: 16, sliceRows: 2 };

/** The rows onRow is handed, with or without a sink beside it. */
async function rowsSeen(text: string, withSink: boolean, stopOnInvalid = false) {
  const seen: Seen[] = [];
  const result = await scanCsv(
    streamOf(text),
    {
      ...opts,
      stopOnInvalid,
      onRow: (seq, e164, numbers) => {
        seen.push([seq, e164, numbers]);
        return undefined;
      },
    },
    withSink ? async () => undefined : null,
  );
  return { result, seen };
}

describe("scanCsv's onRow", () => {
  const text = "phone_number,phone_number_2\n+12125550101,\nbad,\n+12125550101,\n(212) 555-0102,+13125550102\n+12125550103,+12125550103\n";

  it("sees each valid, first-seen row with the seq its slice gives it, with or without a sink", async () => {
    const { rows } = await scan(text);
    const withSink = await rowsSeen(text, true);
    const bare = await rowsSeen(text, false);
    expect(withSink.seen).toEqual([
      [0, "+12125550101", null],
      [1, "+12125550102", ["+12125550102", "+13125550102"]],
      [2, "+12125550103", null],
    ]);
    expect(withSink.seen.map(([seq, e164]) => [seq, e164])).toEqual(rows.map(([seq, e164]) => [seq, e164]));
    expect(bare.seen).toEqual(withSink.seen);
    expect(bare.result).toEqual(withSink.result);
  });

  it("waits for a promise it returns before the next row, and fails the scan with it", async () => {
    const order: string[] = [];
    const result = await scanCsv(
      streamOf(text),
      {
        ...opts,
        onRow: (seq) => {
          order.push(`start ${seq}`);
          return seq === 0 ? Promise.resolve().then(() => void order.push("done 0")) : undefined;
        },
      },
      null,
    );
    expect(result.ok).toBe(true);
    expect(order).toEqual(["start 0", "done 0", "start 1", "start 2"]);
    const failing = scanCsv(streamOf(text), { ...opts, onRow: (seq) => (seq === 1 ? Promise.reject(new Error("check failed")) : undefined) }, null);
    await expect(failing).rejects.toThrow("check failed");
  });

  it("stops in reject mode once a row is invalid, as slices do", async () => {
    const { result, seen } = await rowsSeen(text, false, true);
    expect(seen).toEqual([[0, "+12125550101", null]]);
    expect(result.ok && result.summary.invalidRows).toBe(1);
  });
});
