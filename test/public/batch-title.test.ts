import { afterEach, describe, expect, it, vi } from "vitest";
import { batchTitle, titleHidesId } from "../../public/js/batch/title.js";
import { agentToPreselect, lastAgent } from "../../public/js/prefs.js";
import { fmtTime } from "../../public/js/format.js";

const CREATED = "2025-03-12T10:04:00.000Z";

describe("what a batch is called", () => {
  it("is its name when it has one", () => {
    const b = { id: "batch_1", name: "March renewals", fileName: "people.csv", createdAt: CREATED };
    expect(batchTitle(b)).toBe("March renewals");
    expect(titleHidesId(b)).toBe(true);
  });

  it("is its file's name and creation time when it has no name", () => {
    const b = { id: "batch_1", name: null, fileName: "people.csv", createdAt: CREATED };
    expect(batchTitle(b)).toBe(`people.csv · ${fmtTime(CREATED)}`);
    expect(titleHidesId(b)).toBe(true);
  });

  it("is its id and creation time when it was made before file names were kept", () => {
    const b = { id: "batch_1", name: null, fileName: null, createdAt: CREATED };
    expect(batchTitle(b)).toBe(`batch_1 · ${fmtTime(CREATED)}`);
    expect(titleHidesId(b)).toBe(false);
  });
});

describe("the New batch form's agent", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const agents = [{ agentId: "agent_new" }, { agentId: "agent_used" }];

  it("is the one last used while it exists, else the first listed", () => {
    expect(agentToPreselect(agents, "agent_used")).toBe("agent_used");
    expect(agentToPreselect(agents, "agent_removed")).toBe("agent_new");
    expect(agentToPreselect(agents, null)).toBe("agent_new");
    expect(agentToPreselect([], "agent_used")).toBe("");
  });

  it("is remembered per workspace", () => {
    const store = new Map<string, string>();
    vi.stubGlobal("localStorage", { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v) });
    lastAgent.set("ws_a", "agent_used");
    expect(lastAgent.get("ws_a")).toBe("agent_used");
    expect(lastAgent.get("ws_b")).toBeNull();
    expect([...store.keys()]).toEqual(["bc.lastAgent.ws_a"]);
  });
});
