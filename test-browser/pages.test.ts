// Agents, do-not-call, and every main page at phone and desktop widths.
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  api,
  createBatch,
  csvOfNumbers,
  horizontalOverflow,
  launch,
  newContext,
  screenshot,
  seriousA11yViolations,
  signedInPage,
  signIn,
  uniqueName,
} from "./helpers.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const nav = (page: Page, name: string) => page.getByRole("navigation").getByRole("link", { name }).click();

describe("agents and do-not-call", () => {
  test("agents: the dev agent is listed; a webhook agent is added (its signing secret shown once) and removed", async () => {
    const page = await signedInPage(browser);
    page.on("dialog", (d) => void d.accept()); // a native confirm() before removing, if the page asks
    await nav(page, "Agents");
    const table = page.getByRole("table", { name: "Agents" });
    await table.getByText("agent_dev_simulated").or(table.getByText("Dev simulated agent")).first().waitFor();
    await screenshot(page, "agents");
    expect(await seriousA11yViolations(page)).toEqual([]);

    const name = uniqueName("hook");
    const form = page
      .getByRole("form", { name: "Add agent" })
      .or(page.locator("form").filter({ has: page.getByLabel("Dial URL") }))
      .first();
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Provider").selectOption("webhook");
    await form.getByLabel("Dial URL").fill("https://dialer.example.com/dial");
    await form.getByRole("button").last().click();
    await page
      .getByText(/whsec_[A-Za-z0-9+/=]{20,}/)
      .first()
      .waitFor();
    const row = table.locator("tr", { hasText: name });
    await row.waitFor();
    const created = (await api<{ agents: { agentId?: string; id?: string; name: string }[] }>("/v1/api/agents")).agents.find((a) => a.name === name);
    expect(created).toBeTruthy();

    await row.getByRole("button", { name: /^Remove/ }).click();
    await row.waitFor({ state: "detached" });
    expect((await api<{ agents: { name: string }[] }>("/v1/api/agents")).agents.some((a) => a.name === name)).toBe(false);
    await page.context().close();
  });

  test("do-not-call: numbers are added from the textarea, listed in E.164, and removed", async () => {
    const page = await signedInPage(browser);
    page.on("dialog", (d) => void d.accept());
    await nav(page, "Do-not-call");
    const table = page.getByRole("table", { name: "Do-not-call numbers" });
    await table.waitFor();
    // Numbers no other test calls, written as people type them.
    const suffix = String((Date.now() % 9000) + 1000);
    const typed = [`(212) 555-${suffix}`, `+1 646 555 ${suffix}`];
    const e164 = [`+1212555${suffix}`, `+1646555${suffix}`];
    await page.getByLabel("Numbers to add").fill(typed.join("\n"));
    await page.getByRole("button", { name: "Add", exact: true }).click();
    for (const n of e164) await table.locator("tr", { hasText: n }).waitFor();
    await screenshot(page, "do-not-call");
    expect(await seriousA11yViolations(page)).toEqual([]);

    for (const n of e164) {
      const row = table.locator("tr", { hasText: n });
      await row.getByRole("button", { name: /^Remove/ }).click();
      await row.waitFor({ state: "detached" });
    }
    const left = JSON.stringify(await api("/v1/api/dnc"));
    for (const n of e164) expect(left).not.toContain(n);
    await page.context().close();
  });
});

describe("layout", () => {
  for (const width of [360, 1440]) {
    test(`at ${width} px every main page fits the width (no horizontal scrolling) and has no serious a11y violations`, async () => {
      const batchId = await createBatch(csvOfNumbers(2, 2_125_556_000), { name: uniqueName(`layout ${width}`) });
      const context = await newContext(browser, width, 800);
      const page = await context.newPage();
      await page.goto("/");
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      const problems: string[] = [];
      const check = async (label: string) => {
        const overflow = await horizontalOverflow(page);
        if (overflow > 2) problems.push(`${label}: the page is ${overflow}px wider than the ${width}px window`);
        for (const v of await seriousA11yViolations(page)) problems.push(`${label}: ${v}`);
        await screenshot(page, `${label}-${width}`);
      };
      await check("sign-in");
      await signIn(page);
      const pages: [string, string, () => Promise<unknown>][] = [
        ["batches", "#/batches", () => page.getByRole("table", { name: "Batches" }).waitFor()],
        ["new-batch", "#/new", () => page.getByLabel("CSV file").waitFor({ state: "attached" })],
        ["batch-page", `#/batches/${batchId}`, () => page.getByTestId("batch-status").waitFor()],
        ["agents", "#/agents", () => page.getByRole("table", { name: "Agents" }).waitFor()],
        ["do-not-call", "#/dnc", () => page.getByRole("table", { name: "Do-not-call numbers" }).waitFor()],
      ];
      for (const [label, hash, ready] of pages) {
        await page.goto(`/${hash}`);
        await ready();
        await check(label);
      }
      expect(problems).toEqual([]);
      await context.close();
    });
  }

  test("at 390 px each batch in the list, and each call, is a card: status and progress are in view, not off to the side", async () => {
    const batchId = await createBatch(csvOfNumbers(2, 2_125_556_100), { name: uniqueName("narrow") });
    const page = await signedInPage(browser, 390);
    /** Where `cell` ends on the x axis, in px from the window's left edge. */
    const rightOf = async (cell: Locator) => {
      const box = await cell.boundingBox();
      if (!box) throw new Error("the cell is not on the page");
      return box.x + box.width;
    };
    await page.goto("/#/batches");
    const row = page.getByRole("table", { name: "Batches" }).locator("tbody tr", { hasText: batchId });
    await row.getByRole("progressbar").waitFor();
    const cells = row.locator("td");
    const headers = (await page.getByRole("table", { name: "Batches" }).getByRole("columnheader").allInnerTexts()).map((h) => h.trim());
    for (const column of ["Status", "Progress"]) {
      expect(await rightOf(cells.nth(headers.indexOf(column))), `${column} cell`).toBeLessThanOrEqual(390);
    }
    expect(await rightOf(row.getByRole("progressbar"))).toBeLessThanOrEqual(390);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(2);
    await screenshot(page, "batches-390");
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.goto(`/#/batches/${batchId}`);
    const calls = page.getByRole("table", { name: "Calls" });
    const callRow = calls.locator("tbody tr").first();
    await callRow.getByRole("button").waitFor();
    const callHeaders = (await calls.getByRole("columnheader").allInnerTexts()).map((h) => h.trim());
    for (const column of ["Status", "Duration", "Fields"]) {
      expect(await rightOf(callRow.locator("td").nth(callHeaders.indexOf(column))), `calls table: ${column} cell`).toBeLessThanOrEqual(390);
    }
    await screenshot(page, "batch-page-390");
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.context().close();
  });
});
