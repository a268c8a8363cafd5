// A campaign's brakes in the console: stop rules and a pre-dial check on the New batch form and
// on the batch page, the banner of a paused batch (by request, and by its own stop rule), and a
// draft saved from the form that waits for its Start. What the page shows is compared with the API.
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

interface Status {
  status: string;
  pausedReason: string | null;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
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
const alertText = (page: Page) => page.getByRole("alert").filter({ hasText: /\S/ }).first().innerText();

/** The New batch form with a file, the dev agent and a name filled in. */
async function newBatchForm(page: Page, csv: string, name: string) {
  await page.getByRole("navigation").getByRole("link", { name: "New batch" }).click();
  await page.getByLabel("CSV file").setInputFiles({ name: "safety.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByLabel("Agent").selectOption(AGENT_ID);
  await page.getByLabel("Name").fill(name);
}

/** Checks the file, then clicks the button that uploads it ("Start batch" or "Save draft"); the id of the batch page it lands on. */
async function checkAndSubmit(page: Page, button: "Start batch" | "Save draft"): Promise<string> {
  await page.getByRole("button", { name: "Check file" }).click();
  const submit = page.getByRole("button", { name: button });
  await expect.poll(() => submit.isEnabled()).toBe(true);
  await submit.click();
  await page.waitForURL(/#\/batches\/batch_/);
  return /#\/batches\/(batch_[^/?#]+)/.exec(page.url())![1]!;
}

describe("campaign safety in the console", () => {
  test("the New batch form says what is wrong with a stop rule or pre-dial URL, then sends both; the batch page shows them", async () => {
    const page = await signedInPage(browser);
    let batchId: string | undefined;
    try {
      await newBatchForm(page, csvOfNumbers(2, 2_125_569_200), uniqueName("rules"));
      // Tomorrow, so nothing is dialled (nor the pre-dial URL asked) while the test looks.
      const tomorrow = new Date(Math.floor((Date.now() + 24 * 3600_000) / 60_000) * 60_000 + TZ_OFFSET_MINUTES * 60_000);
      await page.getByLabel("Start time").fill(tomorrow.toISOString().slice(0, 16));

      const failure = page.getByLabel("Max failure %");
      await failure.fill("0");
      await expect.poll(() => page.getByText("Max failure % must be above 0.", { exact: true }).count()).toBe(1);
      expect(await failure.getAttribute("aria-invalid")).toBe("true");
      await page.getByLabel("Pre-dial URL").fill("ftp://predial.example.com/check");
      await expect.poll(() => page.getByText("Pre-dial URL must use https.", { exact: true }).count()).toBe(1);
      // Check names the first part to fix, and sends nothing.
      await page.getByRole("button", { name: "Check file" }).click();
      await expect.poll(() => alertText(page)).toBe("Fix the stop rules first: Max failure % must be above 0.");
      expect(await page.getByRole("region", { name: "File check" }).isVisible()).toBe(false);
      await screenshot(page, "new-batch-safety-errors");
      expect(await seriousA11yViolations(page)).toEqual([]);

      await failure.fill("30");
      await page.getByLabel("Max voicemail %").fill("60");
      await page.getByLabel("Window (attempts)").fill("20");
      await expect.poll(() => alertText(page)).toBe("Fix the pre-dial check first: Pre-dial URL must use https.");
      await page.getByLabel("Pre-dial URL").fill("https://predial.example.com/check");
      await page.getByLabel("If it fails or is slow").selectOption({ label: "Dial anyway" });
      await expect.poll(() => page.getByRole("alert").filter({ hasText: /\S/ }).count()).toBe(0);
      expect(await failure.getAttribute("aria-invalid")).toBe("false");
      await screenshot(page, "new-batch-safety");
      expect(await seriousA11yViolations(page)).toEqual([]);
      batchId = await checkAndSubmit(page, "Start batch");

      const batch = await api<{ stopRules: unknown; preDial: unknown }>(`/v1/api/batch-calls/${batchId}`);
      expect(batch.stopRules).toEqual({ maxFailureRate: 0.3, maxVoicemailRate: 0.6, window: 20 });
      expect(batch.preDial).toEqual({ url: "https://predial.example.com/check", onError: "dial" });
      const main = page.locator("main");
      await expect.poll(() => main.innerText()).toContain("pauses itself if over 30% of the last 20 attempts fail at the carrier or over 60% go to voicemail");
      expect(await main.innerText()).toContain("asks https://predial.example.com/check before each dial (if it fails: dial anyway)");
    } finally {
      if (batchId) await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
      await page.context().close();
    }
  });

  test("a pause by request shows a banner saying Resume continues where it stopped; Resume takes it away", async () => {
    const stopRules = JSON.stringify({ maxFailureRate: 0.3, window: 50 });
    const batchId = await createBatch(csvOfNumbers(3, 2_125_569_300), {
      name: uniqueName("banner"),
      scheduledAt: isoSecond(Date.now() + 24 * 3600_000),
      stopRules,
    });
    const page = await signedInPage(browser);
    try {
      await page.goto(`/#/batches/${batchId}`);
      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*queued/i);
      expect((await banner(page).innerText()).trim()).toBe("");
      await page.getByRole("button", { name: "Pause" }).click();
      await expect.poll(() => banner(page).innerText()).toBe("Paused. Resume continues where it stopped.");
      expect(await statusOf(batchId)).toMatchObject({ status: "paused", pausedReason: "manual" });
      await screenshot(page, "batch-paused-banner");
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.getByRole("button", { name: "Resume" }).click();
      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*queued/i);
      await expect.poll(async () => (await banner(page).innerText()).trim()).toBe("");
    } finally {
      await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
      await page.context().close();
    }
  });

  test("at 360 px, a batch whose carrier failures pass its stop rule pauses itself and the banner says why and what Resume does", async () => {
    // The simulated carrier fails every number ending in 9: the rule's first full window of 10 breaks it.
    const rows = Array.from({ length: 30 }, (_, i) => `+12125569${String(i).padStart(2, "0")}9`);
    const batchId = await createBatch(`phone_number\n${rows.join("\n")}\n`, {
      name: uniqueName("auto-pause"),
      stopRules: JSON.stringify({ maxFailureRate: 0.5, window: 10 }),
    });
    const page = await signedInPage(browser, 360);
    try {
      await page.goto(`/#/batches/${batchId}`);
      await expect.poll(async () => (await statusOf(batchId)).pausedReason, { timeout: 30_000 }).toBe("failure_rate");
      await expect
        .poll(() => banner(page).innerText(), { timeout: 15_000 })
        .toBe(
          "Paused by its stop rule: more than 50% of the last 10 attempts failed (carrier failures, not no-answer or busy). " +
            "Resume continues the batch; the rule then judges the next 10 attempts afresh.",
        );
      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*paused/i);
      await page.getByRole("button", { name: "Resume" }).waitFor();
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(2);
      await screenshot(page, "batch-auto-paused-360");
      expect(await seriousA11yViolations(page)).toEqual([]);
    } finally {
      await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
      await page.context().close();
    }
  });

  // Needs the draft state and POST /v1/api/batch-calls/{id}/start (issue 19).
  test("a draft saved from the form is listed, shows Start and Cancel (not Pause or Resume), and Start runs it", async () => {
    const page = await signedInPage(browser);
    const name = uniqueName("later");
    let batchId: string | undefined;
    try {
      await newBatchForm(page, csvOfNumbers(3, 2_125_569_400, { skipLastDigits: [2] }), name);
      await page.getByLabel("Save as draft (start later)").check();
      batchId = await checkAndSubmit(page, "Save draft");
      await expect.poll(() => batchStatus(page).innerText()).toBe("Status: Draft — not started");
      expect((await statusOf(batchId)).status).toBe("draft");
      await page.getByRole("button", { name: "Start", exact: true }).waitFor();
      await page.getByRole("button", { name: "Cancel batch" }).waitFor();
      for (const action of ["Pause", "Resume", "Retry failed"]) expect(await page.getByRole("button", { name: action }).count()).toBe(0);
      await screenshot(page, "batch-draft");
      expect(await seriousA11yViolations(page)).toEqual([]);
      // Nothing is dialled while it is a draft.
      expect(await statusOf(batchId)).toMatchObject({ status: "draft", completed: 0, failed: 0 });

      await page.getByRole("navigation").getByRole("link", { name: "Batches" }).click();
      const table = page.getByRole("table", { name: "Batches" });
      const row = table.locator("tbody tr", { hasText: name });
      const headers = (await table.getByRole("columnheader").allInnerTexts()).map((h) => h.trim());
      await expect.poll(async () => (await row.locator("td").nth(headers.indexOf("Status")).innerText()).trim()).toBe("draft");
      await row.getByRole("link", { name }).click();

      await page.getByRole("button", { name: "Start", exact: true }).click();
      await expect.poll(async () => (await statusOf(batchId!)).status, { timeout: 30_000 }).toBe("completed");
      await expect.poll(() => batchStatus(page).innerText(), { timeout: 15_000 }).toMatch(/Status:\s*completed/i);
      const final = await statusOf(batchId);
      expect(final.completed + final.failed + final.cancelled).toBe(final.total);
      expect(await page.getByRole("button", { name: "Start", exact: true }).count()).toBe(0);
    } finally {
      // A draft left unstarted by a failure is cancelled; a finished one stays as it is.
      if (batchId && ["draft", "queued", "processing", "paused"].includes((await statusOf(batchId)).status)) {
        await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
      }
      await page.context().close();
    }
  });
});
