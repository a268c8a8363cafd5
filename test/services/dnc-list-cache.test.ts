import { describe, expect, it } from "vitest";
import { E164Set } from "../../src/domain/phone/e164-set";
import { cachedDncList, DNC_CACHE_BYTES, rememberDncList } from "../../src/services/dnc-list-cache";

/** A set whose table takes `bytes` (a power of two, at least 16). */
const setOf = (bytes: number) => new E164Set([], bytes / 16);

describe("dnc-list-cache", () => {
  it("answers a list only at the version it was held under", () => {
    const set = new E164Set(["+12125550100"], 1);
    rememberDncList("ws_cache_a", 3, set);
    expect(cachedDncList("ws_cache_a", 3)).toBe(set);
    expect(cachedDncList("ws_cache_a", 4)).toBeNull();
    expect(cachedDncList("ws_cache_b", 3)).toBeNull();
    // A newer read replaces it.
    const newer = new E164Set(["+12125550101"], 1);
    rememberDncList("ws_cache_a", 4, newer);
    expect(cachedDncList("ws_cache_a", 3)).toBeNull();
    expect(cachedDncList("ws_cache_a", 4)).toBe(newer);
  });

  it("holds at most DNC_CACHE_BYTES, dropping the least recently used first", () => {
    const half = DNC_CACHE_BYTES / 2;
    const [x, y, z] = [setOf(half), setOf(half), setOf(half)];
    expect(x.bytes).toBe(half);
    rememberDncList("ws_cache_x", 1, x);
    rememberDncList("ws_cache_y", 1, y);
    // x used since y was held: y is now the least recent.
    expect(cachedDncList("ws_cache_x", 1)).toBe(x);
    rememberDncList("ws_cache_z", 1, z);
    expect(cachedDncList("ws_cache_y", 1)).toBeNull();
    expect(cachedDncList("ws_cache_x", 1)).toBe(x);
    expect(cachedDncList("ws_cache_z", 1)).toBe(z);
    // A set larger than the whole budget is not held, and drops nothing.
    rememberDncList("ws_cache_big", 1, setOf(2 * DNC_CACHE_BYTES));
    expect(cachedDncList("ws_cache_big", 1)).toBeNull();
    expect(cachedDncList("ws_cache_x", 1)).toBe(x);
  });
});
