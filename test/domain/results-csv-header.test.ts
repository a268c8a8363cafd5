import { describe, expect, it } from "vitest";
import { serviceColumnNames } from "../../src/domain/results-csv";

describe("serviceColumnNames", () => {
  it("keeps a service column's name when the file does not have it", () => {
    expect(serviceColumnNames(["phone_number", "name"], ["e164", "call_id"])).toEqual(["e164", "call_id"]);
  });

  it("gives a name the file has the smallest free suffix _2, _3…", () => {
    expect(serviceColumnNames(["e164", "e164_2", "call_id"], ["e164", "call_id", "disposition"])).toEqual(["e164_3", "call_id_2", "disposition"]);
  });

  it("counts service columns already named, so two service columns never meet either", () => {
    // data.x_2 is a field of its own; data.x took that name first, so the field moves on.
    expect(serviceColumnNames(["data.x"], ["data.x", "data.x_2"])).toEqual(["data.x_2", "data.x_2_2"]);
    const names = serviceColumnNames(["a", "a_2"], ["a", "a", "a_3"]);
    expect(names).toEqual(["a_3", "a_4", "a_3_2"]);
    expect(new Set(["a", "a_2", ...names]).size).toBe(5);
  });
});
