// Issue 19's console, past the New batch form's brakes (safety.test.ts): a batch's settings edited
// on its page (and the 409 once it runs), rows appended, a test call placed from a draft, the
// estimate of minutes on a dry run and a draft, and a batch that pauses at its budget. What the
// page shows is compared with the API.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  AGENT_ID,
  api,
  createBatch,
  csvOfNumbers,
  horizontalOverflow,
  isoSecond,
  launch,
  screenshot,
  seriousA11yViolations,
  signedInPage,
  TZ_OFFSET_MINUTES,
  uniqueName,
} from "./helpers.js";
import { estimateText } from "../public/js/budget-text.js";

interface Status {
  status: string;
  pausedReason: string | null;
  waiting: number;
  completed: number;
  failed: number;
  total: number;
  billedMinutes?: number;
  maxMinutes?: number | null;
}

/** The API's estimate, as the console's types describe it. */
type Estimate = import("../public/js/types.js").Estimate;

interface BatchBody {
  name: string | null;
  status: string;
  totalCalls: number;
  stopRules: unknown;
  maxMinutes?: number | null;
  billedMinutes?: number;
  estimate?: Estimate | null;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const batchStatus = (page: Page) => page.getByTestId("batch-status");
const banner = (page: Page) => page.getByTestId("pause-banner");
const statusOf = (batchId: string) => api<Status>(`/v1/api/batch-calls/${batchId}/status`);
const batchOf = (batchId: string) => api<BatchBody>(`/v1/api/batch-calls/${batchId}`);
const alerts = (page: Page) => page.getByRole("alert").filter({ hasText: /\S/ });
/** "1–3 minutes", "1 attempt", as the page writes a range with its unit. */

/** A draft made through the API, opened on its page. */
async function openDraft(page: Page, csv: string, fields: Record<string, string> = {}): Promise<string> {
  const batchId = await createBatch(csv, { name: uniqueName("draft"), start: "false", ...fields });
  await page.goto(`/#/batches/${batchId}`);
  await expect.poll(() => batchStatus(page).innerText()).toBe("Status: Draft — not started");
  return batchId;
}

/** Cancels a batch a test left unfinished. */
async function cancelIfOpen(batchId: string | undefined) {
  if (batchId && ["draft", "queued", "processing", "paused"].includes((await statusOf(batchId)).status)) {
    await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
  }
}

describe("editing, appending to, testing and budgeting a batch in the console", () => {
  test("a draft's name and stop rules are edited on its page, which then shows them; an unchanged form sends nothing", async () => {
    const page = await signedInPage(browser);
    let batchId: string | undefined;
    try {
      batchId = await openDraft(page, csvOfNumbers(3, 2_125_571_000));
      const before = await batchOf(batchId);
      await page.getByRole("button", { name: "Edit settings" }).click();
      const form = page.getByRole("form", { name: "Edit settings" });
      expect(await form.getByLabel("Name").inputValue()).toBe(before.name);
      expect(await form.getByLabel("Agent").inputValue()).toBe(AGENT_ID);
      // Saving what the form was filled with changes nothing, and says so.
      await form.getByRole("button", { name: "Save changes" }).click();
      await expect.poll(() => alerts(page).first().innerText()).toBe("Nothing to save: no setting was changed.");

      const name = uniqueName("edited");
      await form.getByLabel("Name").fill(name);
      await form.getByLabel("Max failure %").fill("0");
      await expect.poll(() => form.getByText("Max failure % must be above 0.", { exact: true }).count()).toBe(1);
      await form.getByRole("button", { name: "Save changes" }).click();
      await expect.poll(() => alerts(page).first().innerText()).toBe("Fix the stop rules first: Max failure % must be above 0.");
      await form.getByLabel("Max failure %").fill("40");
      // Fixed, the message goes.
      await expect.poll(() => alerts(page).count()).toBe(0);
      await form.getByLabel("Window (attempts)").fill("20");
      await screenshot(page, "batch-edit-form");
      expect(await seriousA11yViolations(page)).toEqual([]);

      await form.getByRole("button", { name: "Save changes" }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe(name);
      await expect.poll(() => page.locator("main").innerText()).toContain("pauses itself if over 40% of the last 20 attempts fail at the carrier");
      expect(await page.getByRole("status").filter({ hasText: "Saved:" }).innerText()).toBe("Saved: name, stop rules.");
      expect(await form.isVisible()).toBe(false);
      const after = await batchOf(batchId);
      expect(after).toMatchObject({ name, status: "draft", stopRules: { maxFailureRate: 0.4, window: 20 } });

      // Opened again, the form shows the batch as it now is.
      await page.getByRole("button", { name: "Edit settings" }).click();
      expect(await form.getByLabel("Name").inputValue()).toBe(name);
      expect(await form.getByLabel("Max failure %").inputValue()).toBe("40");
      expect(await form.getByLabel("Window (attempts)").inputValue()).toBe("20");
    } finally {
      await cancelIfOpen(batchId);
      await page.context().close();
    }
  });

  test("a queued batch's start time, calling window, smart callbacks and budget are edited in local time and the form's words", async () => {
    const page = await signedInPage(browser);
    const batchId = await createBatch(csvOfNumbers(2, 2_125_571_050), { name: uniqueName("queued"), scheduledAt: isoSecond(Date.now() + 24 * 3600_000) });
    try {
      await page.goto(`/#/batches/${batchId}`);
      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*queued/i);
      await page.getByRole("button", { name: "Edit settings" }).click();
      const form = page.getByRole("form", { name: "Edit settings" });
      // Two days ahead, to the minute, as the browser's local time (+05:30) shows it.
      const at = Math.floor((Date.now() + 48 * 3600_000) / 60_000) * 60_000;
      await form.getByLabel("Start time").fill(new Date(at + TZ_OFFSET_MINUTES * 60_000).toISOString().slice(0, 16));
      await form.getByLabel("Smart callbacks").check();
      await form.getByLabel("Max attempts").fill("2");
      await form.getByLabel("Gap (hours)").fill("3");
      await form.getByLabel("Calling window from").fill("09:00");
      await form.getByLabel("Calling window to").fill("17:00");
      for (const day of ["Sat", "Sun"]) await form.getByLabel(day, { exact: true }).uncheck();
      await form.getByLabel("Max minutes").fill("250");
      await form.getByRole("button", { name: "Save changes" }).click();
      await expect
        .poll(() => page.getByRole("status").filter({ hasText: "Saved:" }).innerText())
        .toBe("Saved: start time, calling window, smart callbacks, budget.");

      const batch = await api<BatchBody & Record<string, unknown>>(`/v1/api/batch-calls/${batchId}`);
      expect(batch).toMatchObject({
        status: "queued",
        scheduledAt: isoSecond(at),
        smartCallbackConfig: { enabled: true, maxAttempts: 2, gaps: [{ days: 0, hours: 3 }] },
        callingWindow: { start: "09:00", end: "17:00", days: ["mon", "tue", "wed", "thu", "fri"] },
        maxMinutes: 250,
      });
      const main = page.locator("main");
      await expect.poll(() => main.innerText()).toContain("up to 2 attempts per number");
      expect(await main.innerText()).toContain("calls only 09:00–17:00 Mon Tue Wed Thu Fri");
      expect(await page.getByTestId("minutes").innerText()).toBe("0 of 250 minutes billed");
    } finally {
      await cancelIfOpen(batchId);
      await page.context().close();
    }
  });

  test("a batch that starts while its edit form is open answers the save with the API's 409, shown by the form", async () => {
    const page = await signedInPage(browser);
    let batchId: string | undefined;
    try {
      // One call at a time over 30 numbers: it stays processing for a while.
      batchId = await openDraft(page, csvOfNumbers(30, 2_125_571_100), { maxConcurrentCalls: "1" });
      await page.getByRole("button", { name: "Edit settings" }).click();
      const form = page.getByRole("form", { name: "Edit settings" });
      await form.getByLabel("Name").fill(uniqueName("too late"));
      await api(`/v1/api/batch-calls/${batchId}/start`, { method: "POST" });
      await expect.poll(async () => (await statusOf(batchId!)).status, { timeout: 30_000 }).toBe("processing");
      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*processing/i);
      // The open form stays for the person to read (and save, to hear why not).
      await form.getByRole("button", { name: "Save changes" }).click();
      await expect
        .poll(() => form.getByRole("alert").innerText())
        .toBe(`Batch ${batchId} cannot be edited now: a batch can be edited while draft, queued or paused; this batch is processing — pause it first.`);
      await screenshot(page, "batch-edit-409");
      // Closed, it is no longer offered: a processing batch is paused before it is edited.
      await form.getByRole("button", { name: "Close" }).click();
      await expect.poll(() => page.getByRole("button", { name: "Edit settings" }).count()).toBe(0);
    } finally {
      await cancelIfOpen(batchId);
      await page.context().close();
    }
  });

  test("rows appended to a draft grow its total, a number already in it counted as a duplicate; a bad file's rows are listed", async () => {
    const page = await signedInPage(browser);
    let batchId: string | undefined;
    try {
      batchId = await openDraft(page, csvOfNumbers(3, 2_125_571_200));
      const rows = page.getByRole("form", { name: "Add rows" });
      // +12125571202 is in the batch already; the other two are new.
      const more = "first_name,phone_number\nAda,+12125571202\nBea,+12125571203\nCy,+12125571204\n";
      await rows.getByLabel("CSV file to add").setInputFiles({ name: "more.csv", mimeType: "text/csv", buffer: Buffer.from(more) });
      await rows.getByRole("button", { name: "Add rows" }).click();
      await expect.poll(() => page.getByTestId("rows-added").innerText()).toBe("Added 2 (1 duplicate, 0 on the do-not-call list).");
      expect(await statusOf(batchId)).toMatchObject({ status: "draft", total: 5 });
      expect((await batchOf(batchId)).totalCalls).toBe(5);
      await expect.poll(async () => Number(await page.getByTestId("count-waiting").innerText())).toBe((await statusOf(batchId)).waiting);
      await expect.poll(() => page.getByRole("progressbar", { name: "Calls finished" }).getAttribute("aria-valuetext")).toContain("5 waiting");

      // A row the upload would refuse is refused here too, and listed as the New batch form lists it.
      const bad = "phone_number,first_name\n+12125571205,Di\nnot a number,Ed\n";
      await rows.getByLabel("CSV file to add").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
      await rows.getByRole("button", { name: "Add rows" }).click();
      const invalid = rows.getByRole("table", { name: "Invalid rows" });
      await invalid.waitFor();
      expect(await invalid.locator("tbody tr").first().locator("td").first().innerText()).toBe("3");
      expect((await rows.getByRole("alert").innerText()).length).toBeGreaterThan(0);
      expect((await statusOf(batchId)).total).toBe(5);
      await screenshot(page, "batch-add-rows-errors");
      expect(await seriousA11yViolations(page)).toEqual([]);
    } finally {
      await cancelIfOpen(batchId);
      await page.context().close();
    }
  });

  test("at 360 px, a test call from a draft rings the operator's number with one row's variables, ends with the agent's result, and counts nowhere in the batch", async () => {
    const page = await signedInPage(browser, 360);
    let batchId: string | undefined;
    try {
      batchId = await openDraft(page, csvOfNumbers(2, 2_125_571_300));
      const section = page.getByRole("region", { name: "Test calls", exact: true });
      await section.getByLabel("Your number").fill("+14155550100");
      await section.getByLabel("Row").fill("2");
      await section.getByRole("button", { name: "Test call" }).click();
      const list = section.getByRole("table", { name: "Test calls" });
      const first = list.locator("tbody tr").first();
      // The simulated agent answers a number ending in 0 and reports "interested".
      await expect.poll(() => first.innerText(), { timeout: 30_000 }).toContain("interested");
      const { testCalls } = await api<{ testCalls: { status: string; row: number; test: boolean; outcome: string; to: string }[] }>(
        `/v1/api/batch-calls/${batchId}/test-calls`,
      );
      expect(testCalls).toHaveLength(1);
      expect(testCalls[0]).toMatchObject({ status: "completed", row: 2, test: true, outcome: "answered", to: "+14155550100" });
      expect(await first.innerText()).toContain("completed");
      expect(await first.innerText()).toContain("answered");
      expect(await statusOf(batchId)).toMatchObject({ status: "draft", completed: 0, failed: 0, total: 2 });
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(2);
      await screenshot(page, "batch-test-call-360");
      expect(await seriousA11yViolations(page)).toEqual([]);
      // The edit form fits the narrow screen too.
      await page.getByRole("button", { name: "Edit settings" }).click();
      await page.getByRole("form", { name: "Edit settings" }).waitFor();
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(2);
    } finally {
      await cancelIfOpen(batchId);
      await page.context().close();
    }
  });

  test("a dry run on the New batch form shows the estimate of minutes; the draft it saves shows it too, with its budget", async () => {
    const page = await signedInPage(browser);
    let batchId: string | undefined;
    try {
      await page.getByRole("navigation").getByRole("link", { name: "New batch" }).click();
      await page.getByLabel("CSV file").setInputFiles({ name: "estimate.csv", mimeType: "text/csv", buffer: Buffer.from(csvOfNumbers(4, 2_125_571_400)) });
      await page.getByLabel("Agent").selectOption(AGENT_ID);
      await page.getByLabel("Name").fill(uniqueName("estimate"));
      await page.getByLabel("Max minutes").fill("0");
      await page.getByRole("button", { name: "Check file" }).click();
      await expect.poll(() => alerts(page).first().innerText()).toBe("Fix the budget first: Budget must be at least 1 minute.");
      await page.getByLabel("Max minutes").fill("100");
      await page.getByLabel("Save as draft (start later)").check();
      await page.getByRole("button", { name: "Check file" }).click();
      const shown = page.getByRole("region", { name: "File check" }).getByTestId("estimate");
      await expect.poll(() => shown.innerText()).toMatch(/^Estimated [\d.,–]+ minutes: 4 calls × /);
      await screenshot(page, "new-batch-estimate");
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole("button", { name: "Save draft" }).click();
      await page.waitForURL(/#\/batches\/batch_/);
      batchId = /#\/batches\/(batch_[^/?#]+)/.exec(page.url())![1]!;

      const batch = await batchOf(batchId);
      expect(batch).toMatchObject({ status: "draft", maxMinutes: 100, billedMinutes: 0 });
      const e = batch.estimate!;
      expect(e.calls).toBe(4);
      const onPage = page.getByTestId("estimate").locator("p");
      await expect
        .poll(() => onPage.allInnerTexts())
        // The console's own wording of the API's estimate (test/public checks the wording; earlier tests' batches give this agent a history, so the rates have decimals).
        .toEqual([estimateText(e), e.note]);
      expect(await page.getByTestId("minutes").innerText()).toBe("0 of 100 minutes billed");
    } finally {
      await cancelIfOpen(batchId);
      await page.context().close();
    }
  });

  test("a batch that uses its budget pauses with a banner; Resume is refused until the edit form raises the budget", async () => {
    // Answered numbers only (digits 0, 1 and 4), one call at a time: each bills a minute.
    const rows = Array.from({ length: 12 }, (_, i) => `+12125571${String(500 + i * 10 + [0, 1, 4][i % 3]!)}`);
    const batchId = await createBatch(`phone_number\n${rows.join("\n")}\n`, { name: uniqueName("budget"), maxConcurrentCalls: "1", maxMinutes: "1" });
    const page = await signedInPage(browser);
    try {
      await page.goto(`/#/batches/${batchId}`);
      await expect.poll(async () => (await statusOf(batchId)).pausedReason, { timeout: 30_000 }).toBe("budget");
      await expect.poll(() => banner(page).innerText(), { timeout: 15_000 }).toMatch(/^Paused by its budget: /);
      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*paused/i);
      const billed = (await statusOf(batchId)).billedMinutes!;
      expect(billed).toBeGreaterThanOrEqual(1);
      await expect.poll(() => page.getByTestId("minutes").innerText()).toBe(`${billed} of 1 minute billed`);
      await screenshot(page, "batch-budget-paused");
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.getByRole("button", { name: "Resume" }).click();
      await expect.poll(() => alerts(page).first().innerText()).toMatch(/^The batch has used its budget: /);
      expect((await statusOf(batchId)).status).toBe("paused");

      await page.getByRole("button", { name: "Edit settings" }).click();
      const form = page.getByRole("form", { name: "Edit settings" });
      expect(await form.getByLabel("Max minutes").inputValue()).toBe("1");
      await form.getByLabel("Max minutes").fill("100");
      await form.getByRole("button", { name: "Save changes" }).click();
      await expect.poll(() => page.getByTestId("minutes").innerText()).toBe(`${billed} of 100 minutes billed`);
      expect((await batchOf(batchId)).maxMinutes).toBe(100);
      // Raising the budget does not resume by itself.
      expect((await statusOf(batchId)).status).toBe("paused");
      await page.getByRole("button", { name: "Resume" }).click();
      await expect.poll(async () => (await statusOf(batchId)).status).not.toBe("paused");
      // As calls bill more minutes, the line follows them against the raised budget.
      const minutes = page.getByTestId("minutes");
      await expect.poll(async () => Number((await minutes.innerText()).split(" ")[0]), { timeout: 30_000 }).toBeGreaterThan(billed);
      expect(await minutes.innerText()).toMatch(/^\d+ of 100 minutes billed$/);
    } finally {
      await cancelIfOpen(batchId);
      await page.context().close();
    }
  });
});
