// An agent's pool of numbers on the Agents page: added with several numbers and a caller-id
// rule, each number's health after a batch, a number rested with its switch, and the pool
// changed from the page (a refused number named as it was typed).
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, horizontalOverflow, launch, screenshot, seriousA11yViolations, signedInPage, uniqueName } from "./helpers.js";

interface PoolNumber {
  e164: string;
  enabled: boolean;
  attempts24h: number;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** Valid US numbers of this run only (a number calls for one workspace; the suite's server may be reused). */
const base = 2_000_000 + Math.floor(Math.random() * 5_000_000);
const [FIRST, SECOND, THIRD] = [0, 1, 2].map((i) => `+1646${base + i}`) as [string, string, string];

/** Starts a batch now with the agent, waits for its last call, and answers how many attempts its calls made. Numbers end 0, 1, 6: no callback to wait for. */
async function runBatch(agentId: string): Promise<number> {
  const form = new FormData();
  form.set("agentId", agentId);
  form.set("file", new Blob(["phone_number\n+12125559400\n+12125559401\n+12125559406\n+12125559410\n"], { type: "text/csv" }), "people.csv");
  const { batchId } = await api<{ batchId: string }>("/v1/api/batch-calls", { method: "POST", body: form });
  for (let i = 0; (await api<{ status: string }>(`/v1/api/batch-calls/${batchId}/status`)).status !== "completed"; i++) {
    if (i > 150) throw new Error(`batch ${batchId} did not complete in 45 s`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const { calls } = await api<{ calls: { attempts: number }[] }>(`/v1/api/batch-calls/${batchId}/calls?limit=100`);
  return calls.reduce((n, c) => n + c.attempts, 0);
}

describe("an agent's numbers", () => {
  test("are added one per line, shown with their health, rested with a switch, and changed from the page", async () => {
    const page = await signedInPage(browser);
    await page.getByRole("navigation").getByRole("link", { name: "Agents" }).click();
    const name = uniqueName("pool");

    const add = page.getByRole("form", { name: "Add agent" });
    await add.getByLabel("Name").fill(name);
    await add.getByLabel("From numbers").fill(`${FIRST}\n +1 (${SECOND.slice(2, 5)}) ${SECOND.slice(5, 8)}-${SECOND.slice(8)}\n`);
    await add.getByLabel("Caller ID", { exact: true }).selectOption("local");
    await add.getByLabel("Calls per day per number").fill("500");
    await add.getByRole("button", { name: "Add agent" }).click();
    const row = page.getByRole("table", { name: "Agents" }).locator("tr", { hasText: name });
    await row.getByText(`${FIRST} (+1 more)`).waitFor();
    const agent = (await api<{ agents: { agentId: string; name: string; fromNumbers: string[]; callerId: unknown }[] }>("/v1/api/agents")).agents.find(
      (a) => a.name === name,
    )!;
    expect(agent).toMatchObject({ fromNumbers: [FIRST, SECOND], callerId: { strategy: "local", perNumber: { callsPerSecond: 1, maxCallsPerDay: 500 } } });

    const attempts = await runBatch(agent.agentId);
    await row.getByRole("button", { name: `Numbers of ${name}` }).click();
    const panel = page.getByRole("region", { name: `Numbers of ${name}` });
    await expect.poll(() => panel.getByRole("heading", { level: 2 }).evaluate((el) => el === document.activeElement)).toBe(true);
    await panel.getByText("area code").first().waitFor();
    const numbers = panel.getByRole("table", { name: `Numbers of ${name}` });
    const stats = (await api<{ numbers: PoolNumber[] }>(`/v1/api/agents/${agent.agentId}/numbers`)).numbers;
    expect(attempts).toBeGreaterThanOrEqual(4);
    expect(stats.reduce((n, s) => n + s.attempts24h, 0)).toBe(attempts);
    for (const s of stats) {
      const cells = await numbers.locator("tr", { hasText: s.e164 }).locator("td").allInnerTexts();
      expect(cells[2]?.replace(/^Calls 24 h\s*/, "")).toBe(String(s.attempts24h));
    }
    await screenshot(page, "agent-numbers");
    expect(await seriousA11yViolations(page)).toEqual([]);

    const use = panel.getByRole("switch", { name: `Use ${FIRST}` });
    expect(await use.isChecked()).toBe(true);
    await use.uncheck();
    await panel.getByText(`${FIRST} is resting`).waitFor();
    const rested = (await api<{ numbers: PoolNumber[] }>(`/v1/api/agents/${agent.agentId}/numbers`)).numbers;
    expect(rested.map((n) => [n.e164, n.enabled])).toEqual([
      [FIRST, false],
      [SECOND, true],
    ]);

    const change = panel.getByRole("form", { name: "Change numbers and caller ID" });
    await change.getByLabel("From numbers").fill(`${THIRD}\n${FIRST}\n646-555-0100`);
    await change.getByRole("button", { name: "Save numbers" }).click();
    await change.getByText('From number "646-555-0100"').waitFor();
    await change.getByLabel("From numbers").fill(`${THIRD}\n${FIRST}`);
    await change.getByRole("button", { name: "Save numbers" }).click();
    await row.getByText(`${THIRD} (+1 more)`).waitFor();
    await numbers.locator("tr", { hasText: THIRD }).waitFor();
    const after = (await api<{ numbers: PoolNumber[] }>(`/v1/api/agents/${agent.agentId}/numbers`)).numbers;
    // FIRST stayed, so it is still resting
    expect(after.map((n) => [n.e164, n.enabled])).toEqual([
      [THIRD, true],
      [FIRST, false],
    ]);
    expect(await panel.getByRole("switch", { name: `Use ${FIRST}` }).isChecked()).toBe(false);

    // On a phone the numbers table stacks: nothing off to the side.
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(2);
    await screenshot(page, "agent-numbers-360");
    expect(await seriousA11yViolations(page)).toEqual([]);

    await api(`/v1/api/agents/${agent.agentId}`, { method: "DELETE" });
    await page.context().close();
  });
});
