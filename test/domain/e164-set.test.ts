import { describe, expect, it } from "vitest";
import { E164Set } from "../../src/domain/phone/e164-set";

/** A Set<string> of the same pages: what E164Set must answer. */
const plain = (pages: string[]) => new Set(pages.flatMap((p) => (p === "" ? [] : p.split(","))));

describe("E164Set", () => {
  it("holds exactly the numbers of its pages, and nothing that only looks like one", () => {
    const pages = ["+12125550101,+12125550102", "+442071838750", "+1"];
    const set = new E164Set(pages, 4);
    expect(set.size).toBe(4);
    for (const n of ["+12125550101", "+12125550102", "+442071838750", "+1"]) expect(set.has(n)).toBe(true);
    // A prefix or extension of a listed number, its digits without "+", another country's same digits.
    for (const n of ["+1212555010", "+121255501011", "12125550101", "+12125550103", "+2125550101", "+11", "", "+", "+01"]) {
      expect(set.has(n)).toBe(false);
    }
  });

  it("keeps text that is not an E.164 number as text, answering as a Set<string> of the same values would", () => {
    const pages = ["12125550101,+1 212 555 0101,+0123,+1234567890123456,,+12125550101"];
    const set = new E164Set(pages, 6);
    expect(set.size).toBe(plain(pages).size);
    for (const n of [...plain(pages), "+123456789012345", "+1212555010", "1212555010", " "]) expect(set.has(n)).toBe(plain(pages).has(n));
  });

  it("counts a number repeated across pages once, and answers every member of a long run of consecutive numbers", () => {
    const run = Array.from({ length: 50_000 }, (_, i) => `+1212${2000000 + 2 * i}`);
    const pages = [run.slice(0, 30_000).join(","), run.slice(29_990).join(",")];
    const set = new E164Set(pages, 50_010);
    expect(set.size).toBe(50_000);
    let listed = 0;
    for (let i = 0; i < 100_000; i++) if (set.has(`+1212${2000000 + i}`)) listed++;
    expect(listed).toBe(50_000);
    expect(set.has(`+1212${2000000 + 100_001}`)).toBe(false);
    expect(set.has("+999999999999999")).toBe(false);
  });

  it("is empty with no page", () => {
    const set = new E164Set([], 0);
    expect(set.size).toBe(0);
    expect(set.has("+12125550101")).toBe(false);
  });
});
