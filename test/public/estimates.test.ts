import { afterEach, describe, expect, it, vi } from "vitest";
import { averageRate, rateAndFinish, rateSamples } from "../../public/js/batch/estimates.js";
import { fmtTime } from "../../public/js/format.js";
import type { StatusBody } from "../../public/js/types.js";

const START = Date.UTC(2025, 2, 12, 10, 0, 0);

function status(over: Partial<StatusBody>): StatusBody {
  return {
    status: "processing",
    waiting: 0,
    active: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    total: 10,
    startTime: START,
    completedTime: null,
    averageCallDuration: 0,
    recent_calls: [],
    outcomes: { answered: 0, voicemail: 0, no_answer: 0, busy: 0, failed: 0, canceled: 0, callback_requested: 0 },
    dispositions: {},
    ...over,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the Progress card's rate and finish", () => {
  it("for a finished batch: 'Finished at' its time, and the average rate over its run, which stays put", () => {
    vi.useFakeTimers();
    vi.setSystemTime(START + 120_000);
    const done = status({ status: "completed", completed: 8, failed: 2, completedTime: START + 100_000 });
    const samples = rateSamples();
    samples.add(done);
    const first = rateAndFinish(done, null, [], samples);
    expect(first).toEqual({ rateLabel: "Average rate", rate: 0.1, finishLabel: "Finished at", finish: fmtTime(START + 100_000) });
    // An hour on, the page still says the same: nothing decays.
    vi.setSystemTime(START + 3600_000);
    samples.add(done);
    expect(rateAndFinish(done, null, [], samples)).toEqual(first);
  });

  it("for a batch still running: the live rate and the estimated time to finish", () => {
    const running = status({ completed: 5, waiting: 5 });
    const figures = rateAndFinish(running, null, [], { perSecond: () => 0.5 });
    expect(figures).toEqual({ rateLabel: "Current rate", rate: 0.5, finishLabel: "Estimated time to finish", finish: "about 10 s" });
  });

  it("for a draft: not started, whatever its counts say (nothing is dialled until its Start)", () => {
    const draft = status({ status: "draft", waiting: 10, startTime: null });
    expect(rateAndFinish(draft, null, [], { perSecond: () => 0 }).finish).toBe("Not started (a draft)");
  });

  it("has no average rate for a batch that never dialled", () => {
    expect(averageRate(status({ status: "cancelled", cancelled: 10, startTime: null, completedTime: START }))).toBe(0);
    expect(rateAndFinish(status({ status: "cancelled", cancelled: 10, startTime: null, completedTime: START }), null, [], rateSamples()).rate).toBe(0);
  });
});
