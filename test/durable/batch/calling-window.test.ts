import { describe, expect, it } from "vitest";
import { callRow, recordingQueue, tick, uploaded } from "../../engine-helpers";
import { authHeaders, call, json, newWorkspace } from "../../helpers";

const HOUR = 3_600_000;

describe("a batch's calling window: blackout dates and per-country hours", () => {
  it("defers every recipient past a blackout date, each to its own country's hours in its own zone", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    // Zones without daylight saving, so the openings are fixed offsets: Phoenix UTC−7, Tokyo UTC+9, Kolkata UTC+5:30.
    const csv = "phone_number,timezone\n+12125551001,America/Phoenix\n+81312345678,Asia/Tokyo\n+919812345678,Asia/Kolkata\n";
    const day = new Date(Date.now() + 40 * 24 * HOUR);
    day.setUTCHours(0, 0, 0, 0);
    const d = day.getTime();
    const date = day.toISOString().slice(0, 10);
    // 12:00 UTC is the same local date in all three zones: 05:00 Phoenix, 21:00 Tokyo, 17:30 Kolkata.
    const at = d + 12 * HOUR;
    const window = { start: "09:00", end: "17:00", blackoutDates: [date], overrides: { JP: { start: "10:00", end: "12:00" } } };
    const { batchId } = await uploaded(ws, csv, { callingWindow: JSON.stringify(window), scheduledAt: new Date(at).toISOString() });
    const q = recordingQueue();
    await tick(batchId, q, at);
    expect(q.sent).toEqual([]);
    const due = async (seq: number) => (await callRow(batchId, seq))?.due_at;
    expect(await due(0)).toBe(d + 24 * HOUR + 16 * HOUR); // the next day, 09:00 in Phoenix
    expect(await due(1)).toBe(d + 24 * HOUR + 1 * HOUR); // the next day, 10:00 in Tokyo (Japan's own hours)
    expect(await due(2)).toBe(d + 24 * HOUR + 3.5 * HOUR); // the next day, 09:00 in Kolkata

    // the batch shows the window as it was sent (dates sorted, each once), and each call when it will be tried
    const batch = await json(await call(`/v1/api/batch-calls/${batchId}`, { headers: authHeaders(ws) }));
    expect(batch.callingWindow).toEqual({
      ...window,
      days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
      timezone: "recipient",
      overrides: { JP: { start: "10:00", end: "12:00", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] } },
    });
    const view = await json(await call(`/v1/api/batch-calls/${batchId}/calls`, { headers: authHeaders(ws) }));
    expect(view.calls.map((c: { nextAttemptAt: string | null }) => c.nextAttemptAt)).toEqual(
      [await due(0), await due(1), await due(2)].map((t) => new Date(t as number).toISOString()),
    );

    // at Tokyo's opening only the Japanese number is due
    await tick(batchId, q, d + 25 * HOUR);
    expect(q.sent.map((j) => j.seq)).toEqual([1]);
  });
});
