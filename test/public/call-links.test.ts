import { describe, expect, it } from "vitest";
import { apiPathOf } from "../../public/js/api.js";
import { csvFields, outcomeText, personName } from "../../public/js/batch/call-text.js";

describe("the console's reading of API links", () => {
  it("keeps the path under /v1/api and its query, from a path or a whole URL", () => {
    const path = "/v1/api/batch-calls/batch_1/calls/call_1_3/transcript?attempt=2";
    expect(apiPathOf(path)).toBe("/batch-calls/batch_1/calls/call_1_3/transcript?attempt=2");
    expect(apiPathOf(`https://api.example.com${path}`)).toBe("/batch-calls/batch_1/calls/call_1_3/transcript?attempt=2");
  });

  it("refuses a link outside the API, so its headers are never sent for one", () => {
    expect(apiPathOf("https://evil.example.com/steal")).toBeNull();
    expect(apiPathOf("/v1/agent/calls/call_1_3")).toBeNull();
    expect(apiPathOf("/v1/apix/batch-calls")).toBeNull();
    expect(apiPathOf("http://[bad")).toBeNull();
  });
});

describe("the console's words for a call", () => {
  it("names the person from first_name and last_name, whichever the row has", () => {
    expect(personName({ metadata: { first_name: " Grace ", last_name: "Hopper", plan: "gold" } })).toBe("Grace Hopper");
    expect(personName({ metadata: { last_name: "Hopper" } })).toBe("Hopper");
    expect(personName({ metadata: { first_name: "", phone: "+1" } })).toBe("");
  });

  it("writes outcomes as words", () => {
    expect(outcomeText("callback_requested")).toBe("callback requested");
    expect(outcomeText("no_answer")).toBe("no answer");
    expect(outcomeText(null)).toBe("—");
  });

  it("lists the row's other columns that have a value, the first few, values cut short", () => {
    const metadata = { phone_number: "+12125550100", first_name: "Ada", last_name: "Lovelace", email: "ada@example.com", timezone: "", plan: "gold" };
    expect(csvFields(metadata)).toEqual({
      shown: [
        ["email", "ada@example.com"],
        ["plan", "gold"],
      ],
      more: 0,
    });
    const many = { a: "1", b: "2", c: "3", d: "4", e: "5", long: "x".repeat(50) };
    expect(csvFields(many, 4)).toEqual({
      shown: [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
        ["d", "4"],
      ],
      more: 2,
    });
    expect(csvFields({ note: `${"é".repeat(39)}😀😀` }, 4, 40).shown[0]?.[1]).toBe(`${"é".repeat(39)}😀…`);
    expect(csvFields({ phone_number: "+1" })).toEqual({ shown: [], more: 0 });
  });
});
