import { describe, expect, it } from "vitest";
import { AgentResultSchema, type DeclaredResults, parseCallbackAt, RESULT_LIMITS, ResultSchemaSchema, resultProblem } from "../../src/domain/agent-result";

const NOW = Date.parse("2026-03-10T12:00:00Z");
const DAY = 86_400_000;

const parse = (body: unknown) => AgentResultSchema.safeParse(body);
const problemOf = (body: unknown, declared: DeclaredResults | null = null) => {
  const parsed = AgentResultSchema.parse(body);
  return resultProblem(parsed, declared, NOW);
};

describe("AgentResultSchema", () => {
  it("takes a full result as sent", () => {
    const body = {
      attempt: 2,
      disposition: "booked",
      summary: "Booked Tuesday 10:00.",
      sentiment: "positive",
      data: { slot: "tue-10", party: 2, confirmed: true, note: null },
      transcript: [
        { role: "agent", text: "Hi Ada!", at: "2026-03-10T12:00:01Z" },
        { role: "user", text: "Hello", at: 1500 },
      ],
      recordingUrl: "https://media.example.com/rec/1.mp3",
      callbackAt: "2026-03-11T17:00:00-04:00",
      optOut: false,
    };
    expect(parse(body)).toMatchObject({ success: true, data: body });
    expect(problemOf(body)).toBeNull();
  });

  it("takes a result that only names its attempt", () => {
    expect(problemOf({ attempt: 1 })).toBeNull();
  });

  it.each([
    ["no attempt", {}],
    ["attempt 0", { attempt: 0 }],
    ["a fractional attempt", { attempt: 1.5 }],
    ["an attempt as text", { attempt: "1" }],
    ["an unknown sentiment", { attempt: 1, sentiment: "angry" }],
    ["an empty disposition", { attempt: 1, disposition: "" }],
    ["a transcript turn with an unknown role", { attempt: 1, transcript: [{ role: "system", text: "x" }] }],
    ["a transcript turn without text", { attempt: 1, transcript: [{ role: "agent" }] }],
    ["a data value that is an object", { attempt: 1, data: { a: { b: 1 } } }],
    ["a data value that is a list", { attempt: 1, data: { a: [1] } }],
    ["an unknown top-level field (a typo)", { attempt: 1, disposion: "booked" }],
    ["optOut as text", { attempt: 1, optOut: "yes" }],
  ])("refuses %s", (_name, body) => {
    expect(parse(body).success).toBe(false);
  });

  it.each([
    ["disposition", { attempt: 1, disposition: "x".repeat(65) }, "at most 64 characters"],
    ["data", { attempt: 1, data: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, i])) }, "at most 50 fields"],
    ["data.<name>", { attempt: 1, data: { ["n".repeat(65)]: 1 } }, "at most 64 characters"],
    ["data.<name>", { attempt: 1, data: { "": 1 } }, "must not be empty"],
    ["data.<name>", { attempt: 1, data: { "a\nb": 1 } }, "control characters"],
    ["transcript", { attempt: 1, transcript: Array.from({ length: 2001 }, () => ({ role: "user", text: "hi" })) }, "at most 2000 turns"],
    ["recordingUrl", { attempt: 1, recordingUrl: `https://a.example.com/${"x".repeat(2048)}` }, "at most 2048 characters"],
  ])("names the limit when %s is over it", (_field, body, limit) => {
    const r = parse(body);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join("; ")).toContain(limit);
  });

  it("takes exactly 50 data fields, 64-character names and 2000 turns", () => {
    const body = {
      attempt: 1,
      disposition: "d".repeat(64),
      data: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${i}`.padEnd(64, "x"), i])),
      transcript: Array.from({ length: 2000 }, () => ({ role: "user", text: "hi" })),
    };
    expect(parse(body).success).toBe(true);
    expect(problemOf(body)).toBeNull();
  });
});

describe("resultProblem: sizes in UTF-8 bytes", () => {
  it("refuses a summary over 4 KB, counting bytes rather than characters", () => {
    expect(problemOf({ attempt: 1, summary: "a".repeat(RESULT_LIMITS.summaryBytes) })).toBeNull();
    // 1366 three-byte characters: 4098 bytes in 1366 characters.
    const problem = problemOf({ attempt: 1, summary: "€".repeat(1366) });
    expect(problem).toContain("summary");
    expect(problem).toContain("4096 bytes");
  });

  it("refuses a data value over 1 KB and names the field", () => {
    expect(problemOf({ attempt: 1, data: { notes: "a".repeat(1024) } })).toBeNull();
    const problem = problemOf({ attempt: 1, data: { notes: "é".repeat(513) } });
    expect(problem).toContain("data.notes");
    expect(problem).toContain("1024 bytes");
  });

  it("refuses a transcript over 256 KB as JSON", () => {
    const turns = Array.from({ length: 300 }, () => ({ role: "user" as const, text: "x".repeat(900) }));
    const problem = problemOf({ attempt: 1, transcript: turns });
    expect(problem).toContain("transcript");
    expect(problem).toContain("262144 bytes");
    expect(problemOf({ attempt: 1, transcript: turns.slice(0, 250) })).toBeNull();
  });
});

describe("resultProblem: recordingUrl", () => {
  it.each([
    ["http", "http://media.example.com/r.mp3", "must use https"],
    ["loopback", "https://127.0.0.1/r.mp3", "loopback"],
    ["a private host", "https://10.1.2.3/r.mp3", "private"],
    ["an internal name", "https://media.internal/r.mp3", "loopback, private"],
    ["credentials", "https://u:p@media.example.com/r.mp3", "credentials"],
    ["not a URL", "recording.mp3", "not a valid URL"],
  ])("refuses %s", (_name, url, words) => {
    const problem = problemOf({ attempt: 1, recordingUrl: url });
    expect(problem).toContain("recordingUrl");
    expect(problem).toContain(words);
  });
});

describe("parseCallbackAt", () => {
  it.each([
    ["Z", "2026-03-10T18:00:00Z", Date.parse("2026-03-10T18:00:00Z")],
    ["an offset", "2026-03-10T17:00:00-04:00", Date.parse("2026-03-10T21:00:00Z")],
    ["an offset without a colon", "2026-03-10T19:00:00+0530", Date.parse("2026-03-10T13:30:00Z")],
    ["fractional seconds", "2026-03-10T18:00:00.250Z", Date.parse("2026-03-10T18:00:00.250Z")],
    ["no seconds", "2026-03-10T18:00Z", Date.parse("2026-03-10T18:00:00Z")],
    ["exactly 30 days ahead", "2026-04-09T12:00:00Z", NOW + 30 * DAY],
  ])("reads %s", (_name, text, at) => {
    expect(parseCallbackAt(text, NOW)).toEqual({ ok: true, at });
  });

  it("takes a time a few seconds ago (clock skew) as now", () => {
    expect(parseCallbackAt("2026-03-10T11:59:30Z", NOW)).toEqual({ ok: true, at: NOW });
  });

  it.each([
    ["no zone", "2026-03-10T18:00:00", "no time zone"],
    ["a date only", "2026-03-10", "not an ISO 8601"],
    ["words", "tomorrow at five", "not an ISO 8601"],
    ["30 February", "2026-02-30T10:00:00Z", "not an ISO 8601"],
    ["hour 24", "2026-03-11T24:00:00Z", "not an ISO 8601"],
    ["an impossible offset", "2026-03-11T10:00:00+24:00", "not an ISO 8601"],
    ["the past", "2026-03-10T11:00:00Z", "in the past"],
    ["more than 30 days ahead", "2026-04-09T12:00:01Z", "more than 30 days ahead"],
  ])("refuses %s with a sentence naming callbackAt", (_name, text, words) => {
    const r = parseCallbackAt(text, NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toContain("callbackAt");
    expect(r.problem).toContain(words);
  });

  it("is what resultProblem says of a bad callbackAt", () => {
    expect(problemOf({ attempt: 1, callbackAt: "2026-05-01T10:00:00Z" })).toContain("more than 30 days ahead");
  });
});

describe("resultProblem: the agent's declaration", () => {
  const declared: DeclaredResults = ResultSchemaSchema.parse({
    dispositions: ["booked", "not_interested"],
    fields: [
      { name: "slot", type: "string" },
      { name: "party", type: "number" },
      { name: "confirmed", type: "boolean" },
      { name: "plan", type: "enum", values: ["basic", "pro"] },
    ],
  });

  it("takes a result within it, null for any field", () => {
    const r = { attempt: 1, disposition: "booked", data: { slot: "tue", party: 2, confirmed: false, plan: "pro" } };
    expect(problemOf(r, declared)).toBeNull();
    expect(problemOf({ attempt: 1, data: { slot: null, plan: null } }, declared)).toBeNull();
  });

  it("refuses an undeclared disposition and lists the declared ones", () => {
    expect(problemOf({ attempt: 1, disposition: "maybe" }, declared)).toBe(
      'disposition "maybe" is not one this agent declares; use one of: booked, not_interested.',
    );
  });

  it("refuses an undeclared field and lists the declared ones", () => {
    expect(problemOf({ attempt: 1, data: { colour: "red" } }, declared)).toBe(
      "data.colour is not a field this agent declares; its fields are: slot, party, confirmed, plan.",
    );
  });

  it.each([
    ["a number for a string", { slot: 10 }, "data.slot must be a string"],
    ["text for a number", { party: "2" }, "data.party must be a number"],
    ["text for a boolean", { confirmed: "yes" }, "data.confirmed must be a boolean"],
    ["a value outside an enum", { plan: "gold" }, "data.plan must be one of the values this agent declares for it: basic, pro."],
    ["a number for an enum", { plan: 1 }, "data.plan must be one of"],
  ])("refuses %s", (_name, data, words) => {
    expect(problemOf({ attempt: 1, data }, declared)).toContain(words);
  });

  it("constrains only the parts it declares", () => {
    const onlyDispositions = ResultSchemaSchema.parse({ dispositions: ["booked"] });
    expect(problemOf({ attempt: 1, disposition: "booked", data: { anything: 1 } }, onlyDispositions)).toBeNull();
    const onlyFields = ResultSchemaSchema.parse({ fields: [{ name: "slot", type: "string" }] });
    expect(problemOf({ attempt: 1, disposition: "whatever", data: { slot: "x" } }, onlyFields)).toBeNull();
    const noFields = ResultSchemaSchema.parse({ fields: [] });
    expect(problemOf({ attempt: 1, data: { slot: "x" } }, noFields)).toContain("it declares no fields");
  });
});

describe("ResultSchemaSchema", () => {
  it.each([
    ["an enum without values", { fields: [{ name: "plan", type: "enum" }] }, "needs its values"],
    ["values on a string field", { fields: [{ name: "slot", type: "string", values: ["a"] }] }, "only an enum field"],
    [
      "a repeated field name",
      {
        fields: [
          { name: "a", type: "string" },
          { name: "a", type: "number" },
        ],
      },
      "must not repeat",
    ],
    ["a repeated disposition", { dispositions: ["a", "a"] }, "must not repeat"],
    ["no dispositions", { dispositions: [] }, ""],
    ["an unknown field type", { fields: [{ name: "a", type: "date" }] }, ""],
    ["51 fields", { fields: Array.from({ length: 51 }, (_, i) => ({ name: `f${i}`, type: "string" })) }, ""],
    ["a 65-character disposition", { dispositions: ["x".repeat(65)] }, "at most 64 characters"],
    ["an unknown key", { disposition: ["a"] }, ""],
  ])("refuses %s", (_name, body, words) => {
    const r = ResultSchemaSchema.safeParse(body);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join("; ")).toContain(words);
  });

  it("keeps the declared order of fields", () => {
    const names = ["z", "a", "m"];
    const parsed = ResultSchemaSchema.parse({ fields: names.map((name) => ({ name, type: "string" })) });
    expect(parsed.fields!.map((f) => f.name)).toEqual(names);
  });
});
