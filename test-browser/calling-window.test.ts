// The New batch form's calling window: days of the week, blackout dates, the preview of a
// recipient's first call, and what the API keeps of them once the batch is started.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  AGENT_ID,
  TIMEZONE,
  api,
  csvOfNumbers,
  launch,
  newContext,
  screenshot,
  screenshotOnFailure,
  seriousA11yViolations,
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

const DAY = 86_400_000;
/** `at` as "HH:MM" in `tz`. */
const clock = (at: number, tz: string) => new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);

/** The first Monday at least two days after today in the browser's zone, and the Tuesday and Wednesday after it (YYYY-MM-DD). */
function nextWeek(): { monday: string; tuesday: string; wednesday: string } {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: TIMEZONE }).format(Date.now()); // YYYY-MM-DD
  let t = Date.parse(`${today}T00:00:00Z`) + 2 * DAY;
  while (new Date(t).getUTCDay() !== 1) t += DAY;
  const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { monday: date(t), tuesday: date(t + DAY), wednesday: date(t + 2 * DAY) };
}

/** 09:00 in London on `date`, as epoch ms (on GMT or BST, whichever that date is on). */
function nineInLondon(date: string): number {
  const t = [9, 8].map((hour) => Date.parse(`${date}T0${hour}:00:00Z`)).find((at) => clock(at, "Europe/London") === "09:00");
  if (t === undefined) throw new Error(`no 09:00 in London on ${date}`);
  return t;
}

async function newBatchPage(): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  screenshotOnFailure(page);
  await signIn(page);
  await page.getByRole("navigation").getByRole("link", { name: "New batch" }).click();
  await page.getByLabel("CSV file").waitFor({ state: "attached" });
  return page;
}

describe("the New batch form's calling window", () => {
  test("days and a blackout date: the preview for London follows each change, and the started batch keeps them", async () => {
    const page = await newBatchPage();
    const preview = page.getByRole("status");
    const { monday, tuesday, wednesday } = nextWeek();
    let batchId: string | undefined;
    try {
      await page.getByLabel("CSV file").setInputFiles({ name: "window.csv", mimeType: "text/csv", buffer: Buffer.from(csvOfNumbers(2, 2_125_559_100)) });
      await page.getByLabel("Agent").selectOption(AGENT_ID);
      await page.getByLabel("Name").fill(uniqueName("window"));
      // Without a window the preview says calls start at the start time.
      await expect.poll(() => preview.innerText()).toMatch(/^No calling window: calls start at the start time/);
      // Checked without a window, the file may be started; a blackout date alone (no times) is wrong, and Start waits for it to go.
      const start = page.getByRole("button", { name: "Start batch" });
      await page.getByRole("button", { name: "Check file" }).click();
      await expect.poll(() => start.isEnabled()).toBe(true);
      await page.getByLabel("Blackout dates").fill(tuesday);
      await expect.poll(() => page.getByText("Give both times, from and to.").count()).toBe(1);
      expect(await start.isEnabled()).toBe(false);
      await page.getByLabel("Blackout dates").fill("");
      await expect.poll(() => start.isEnabled()).toBe(true);

      await page.getByLabel("Start time").fill(`${monday}T08:00`);

      await page.getByLabel("Calling window from").fill("09:00");
      await page.getByLabel("Calling window to").fill("17:00");
      for (const day of ["Mon", "Fri", "Sat", "Sun"]) await page.getByRole("checkbox", { name: day, exact: true }).uncheck();
      // Monday 08:00 in Kolkata is the small hours in London; Monday is off, so Tuesday.
      const tuesdayAt = nineInLondon(tuesday);
      await expect
        .poll(() => preview.innerText())
        .toBe(`A recipient in London would first be called Tue 09:00 local (Tue ${clock(tuesdayAt, TIMEZONE)} your time).`);

      // No day at all is named inline, and the file can't be checked.
      for (const day of ["Tue", "Wed", "Thu"]) await page.getByRole("checkbox", { name: day, exact: true }).uncheck();
      const days = page.getByRole("group", { name: "Days" });
      await expect.poll(() => days.innerText()).toContain("Choose at least one day.");
      await page.getByRole("button", { name: "Check file" }).click();
      await expect
        .poll(() => page.getByRole("alert").filter({ hasText: /\S/ }).first().innerText())
        .toContain("Fix the calling window first: Choose at least one day.");
      for (const day of ["Tue", "Wed", "Thu"]) await page.getByRole("checkbox", { name: day, exact: true }).check();
      await expect.poll(() => days.innerText()).not.toContain("Choose at least one day.");
      expect(await page.getByText("Fix the calling window first").count()).toBe(0);

      // A date that isn't one is named; a real one moves the first call to Wednesday.
      const blackout = page.getByLabel("Blackout dates");
      await blackout.fill(`${tuesday}, 2026-02-30`);
      await expect.poll(() => page.getByText("Not a date (use YYYY-MM-DD): 2026-02-30.").count()).toBe(1);
      expect(await blackout.getAttribute("aria-invalid")).toBe("true");
      expect(
        await blackout.evaluate((el) =>
          el
            .getAttribute("aria-describedby")
            ?.split(" ")
            .map((id) => document.getElementById(id)?.textContent),
        ),
      ).toEqual([expect.stringContaining("Not a date (use YYYY-MM-DD): 2026-02-30.")]);
      await screenshot(page, "new-batch-window-errors");
      expect(await seriousA11yViolations(page)).toEqual([]);
      await blackout.fill(tuesday);
      const wednesdayAt = nineInLondon(wednesday);
      await expect
        .poll(() => preview.innerText())
        .toBe(`A recipient in London would first be called Wed 09:00 local (Wed ${clock(wednesdayAt, TIMEZONE)} your time).`);
      // Another place: Tokyo is 3 h 30 ahead of Kolkata all year.
      await page.getByLabel("Preview for a recipient in").selectOption({ label: "Tokyo" });
      await expect.poll(() => preview.innerText()).toBe("A recipient in Tokyo would first be called Wed 09:00 local (Wed 05:30 your time).");
      await page.getByLabel("Preview for a recipient in").selectOption({ label: "London" });
      await screenshot(page, "new-batch-window");
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.getByRole("button", { name: "Check file" }).click();
      await expect.poll(() => start.isEnabled()).toBe(true);
      await start.click();
      await page.waitForURL(/#\/batches\/batch_/);
      batchId = /#\/batches\/(batch_[^/?#]+)/.exec(page.url())![1]!;
      const batch = await api<{ callingWindow: unknown }>(`/v1/api/batch-calls/${batchId}`);
      expect(batch.callingWindow).toEqual({ start: "09:00", end: "17:00", days: ["tue", "wed", "thu"], timezone: "recipient", blackoutDates: [tuesday] });
      // the batch page says the window as it is kept
      await expect.poll(() => page.locator("main").innerText()).toContain(`calls only 09:00–17:00 Tue Wed Thu, not on ${tuesday}`);
    } finally {
      if (batchId) await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
      await page.context().close();
    }
  });
});
