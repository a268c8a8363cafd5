import { describe, expect, it } from "vitest";
import { clip, utf8Bytes } from "../../src/lib/text";

describe("clip", () => {
  it("keeps a value of at most max characters whole", () => {
    expect(clip("", 3)).toBe("");
    expect(clip("abc", 3)).toBe("abc");
    expect(clip("😀", 2)).toBe("😀");
  });

  it("cuts a longer value to max characters and marks the cut", () => {
    expect(clip("abcd", 3)).toBe("abc…");
    expect(clip("9".repeat(500), 80)).toBe(`${"9".repeat(80)}…`);
  });

  it("never ends on half of a surrogate pair", () => {
    // "😀" is two UTF-16 units: a cut after its first would leave a lone surrogate.
    expect(clip("ab😀cd", 3)).toBe("ab…");
    expect(clip("ab😀cd", 4)).toBe("ab😀…");
    expect(clip(`${"a".repeat(99)}😀😀`, 100)).toBe(`${"a".repeat(99)}…`);
    for (let max = 1; max < 12; max++) {
      const cut = clip("😀".repeat(6), max);
      expect(cut.endsWith("…")).toBe(true);
      expect(cut.slice(0, -1)).toBe("😀".repeat(Math.floor(max / 2)));
    }
  });
});

describe("utf8Bytes", () => {
  it("counts what TextEncoder writes", () => {
    for (const s of ["", "ascii only", "é", "Köln", "€", "日本語", "😀", "a😀é€\u0001\u007f\u0080\u07ff\u0800\uffff"]) {
      expect(utf8Bytes(s), JSON.stringify(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});
