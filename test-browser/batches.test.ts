// A person's way through batches: upload, check, start, watch, pause/resume, cancel,
// download, and a file with mistakes. What the page shows is compared with the API.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  AGENT_ID,
  api,
  AUTH_HEADERS,
  barsOf,
  baseUrl,
  createBatch,
  csvOfNumbers,
  isoSecond,
  launch,
  screenshot,
  seriousA11yViolations,
  signedInPage,
  TZ_OFFSET_MINUTES,
  uniqueName,
} from "./helpers.js";
import { ROOT } from "./paths.js";

const PEOPLE_CSV = join(ROOT, "examples", "people.csv");

interface Status {
  status: string;
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
  startTime: number | null;
  completedTime: number | null;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** The number shown after `label` in the file-check region (a <dl>, a table row or "Label: n"). */
async function verdictNumber(verdict: Locator, label: string): Promise<number> {
  const text = await verdict.innerText();
  const m = new RegExp(`${label}\\s*:?\\s*([\\d,]+)`, "i").exec(text);
  if (!m?.[1]) throw new Error(`"${label}" with a number not found in the File check region:\n${text}`);
  return Number(m[1].replaceAll(",", ""));
}

const fileCheck = (page: Page) => page.getByRole("region", { name: "File check" });
const batchStatus = (page: Page) => page.getByTestId("batch-status");
const counter = async (page: Page, name: string) => Number((await page.getByTestId(`count-${name}`).innerText()).trim());

type CsvFile = string | { name: string; mimeType: string; buffer: Buffer };

/** Drops `file` on the CSV file input as a drag from the desktop would (the drop bubbles to its drop zone). */
async function dropFile(page: Page, file: { name: string; mimeType: string; buffer: Buffer }) {
  const dataTransfer = await page.evaluateHandle(
    ({ name, mimeType, text }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type: mimeType }));
      return dt;
    },
    { name: file.name, mimeType: file.mimeType, text: file.buffer.toString("utf8") },
  );
  const input = page.getByLabel("CSV file");
  await input.dispatchEvent("dragover", { dataTransfer });
  await input.dispatchEvent("drop", { dataTransfer });
  await expect.poll(() => input.evaluate((el) => (el as HTMLInputElement).files?.[0]?.name)).toBe(file.name);
}

/** New batch page: file (picked, or dropped), agent, name (and optional start time), then "Check file". */
async function checkFile(page: Page, file: CsvFile, name: string, startLocal?: string, { drop = false } = {}) {
  await page.getByRole("navigation").getByRole("link", { name: "New batch" }).click();
  if (drop && typeof file !== "string") await dropFile(page, file);
  else await page.getByLabel("CSV file").setInputFiles(file);
  await page.getByLabel("Agent").selectOption(AGENT_ID);
  await page.getByLabel("Name").fill(name);
  if (startLocal) await page.getByLabel("Start time").fill(startLocal);
  await page.getByRole("button", { name: "Check file" }).click();
}

/** Clicks "Start batch" and returns the id of the batch page it lands on. */
async function startBatch(page: Page, { doubleClick = false } = {}): Promise<string> {
  const start = page.getByRole("button", { name: "Start batch" });
  await expect.poll(() => start.isEnabled()).toBe(true);
  if (doubleClick) await start.dblclick();
  else await start.click();
  await page.waitForURL(/#\/batches\/batch_/);
  await page.getByRole("heading", { level: 1 }).waitFor();
  return /#\/batches\/(batch_[^/?#]+)/.exec(page.url())![1]!;
}

/** A local wall-clock time a day ahead, as a datetime-local input takes it, and the UTC instant it means. */
function tomorrowLocal(): { local: string; utc: string } {
  const utcMs = Math.floor((Date.now() + 24 * 3600_000) / 60_000) * 60_000;
  const local = new Date(utcMs + TZ_OFFSET_MINUTES * 60_000).toISOString().slice(0, 16);
  return { local, utc: isoSecond(utcMs) };
}

async function serverHasEventStream(batchId: string): Promise<boolean> {
  const res = await fetch(`${baseUrl()}/v1/api/batch-calls/${batchId}/events`, { headers: AUTH_HEADERS });
  await res.body?.cancel();
  return res.status === 200 && (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
}

async function batchesNamed(name: string): Promise<string[]> {
  const list = await api<{ batches: { id: string; name: string | null }[] }>("/v1/api/batch-calls?limit=50");
  return list.batches.filter((b) => b.name === name).map((b) => b.id);
}

describe("batches", () => {
  test("upload examples/people.csv, see the verdict, start it once, watch it reach 100%, counts match /status, download results.csv", async () => {
    const page = await signedInPage(browser);
    const name = uniqueName("people");
    const idempotencyKeys: (string | undefined)[] = [];
    page.on("request", (req) => {
      if (req.method() === "POST" && new URL(req.url()).pathname === "/v1/api/batch-calls") idempotencyKeys.push(req.headers()["idempotency-key"]);
    });
    await checkFile(page, PEOPLE_CSV, name);

    // The page's verdict is the API's dry run of the same file.
    const form = new FormData();
    form.set("agentId", AGENT_ID);
    form.set("dryRun", "true");
    form.set("file", new Blob([readFileSync(PEOPLE_CSV)], { type: "text/csv" }), "people.csv");
    const dry = await api<{ totalCalls: number; duplicatesRemoved: number; suppressed: number; invalidRows: number }>("/v1/api/batch-calls", {
      method: "POST",
      body: form,
    });
    expect(dry.totalCalls + dry.suppressed).toBe(9);
    const verdict = fileCheck(page);
    await verdict.waitFor();
    expect(await verdictNumber(verdict, "Rows to call")).toBe(dry.totalCalls);
    expect(await verdictNumber(verdict, "Duplicates removed")).toBe(dry.duplicatesRemoved);
    expect(await verdictNumber(verdict, "Suppressed")).toBe(dry.suppressed);
    expect(await verdictNumber(verdict, "Invalid rows")).toBe(0);
    await screenshot(page, "new-batch-verdict");
    expect(await seriousA11yViolations(page)).toEqual([]);

    // A double click must create one batch (one Idempotency-Key per check).
    const batchId = await startBatch(page, { doubleClick: true });
    // The heading may show the id until the batch's details arrive.
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toContain(name);

    // The simulated agent asks for a callback on Grace Hopper's first call (…0102, in 10 s here):
    // the batch is done once that callback has been made.
    await expect
      .poll(
        async () => {
          const calls = await api<{ calls: { phone_number: string; attempts: number }[] }>(`/v1/api/batch-calls/${batchId}/calls?limit=100`);
          const done = (await api<Status>(`/v1/api/batch-calls/${batchId}/status`)).status === "completed";
          return done && calls.calls.find((c) => c.phone_number === "+12125550102")?.attempts === 2;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(true);
    const bar = page.getByRole("progressbar").first();
    await expect.poll(() => bar.getAttribute("aria-valuenow"), { timeout: 15_000 }).toBe("100");
    await expect.poll(() => batchStatus(page).innerText(), { timeout: 15_000 }).toMatch(/Status:\s*completed/i);
    const status = await api<Status>(`/v1/api/batch-calls/${batchId}/status`);
    expect(status.status).toBe("completed");
    // Counters settle with the last progress event; the final /status is what they must show.
    await expect
      .poll(async () => ({
        waiting: await counter(page, "waiting"),
        active: await counter(page, "active"),
        completed: await counter(page, "completed"),
        failed: await counter(page, "failed"),
        cancelled: await counter(page, "cancelled"),
      }))
      .toEqual({ waiting: status.waiting, active: status.active, completed: status.completed, failed: status.failed, cancelled: status.cancelled });
    expect(status.completed + status.failed + status.cancelled).toBe(dry.totalCalls);

    // Finished: when it finished, and its average rate over the run (finished calls ÷ its run time),
    // not the "Estimated time to finish" and a live "Current rate" that decays towards 0.
    const progressCard = page.getByRole("region", { name: "Progress" });
    await expect.poll(() => progressCard.innerText()).toMatch(/Finished at/);
    expect(await progressCard.innerText()).not.toMatch(/Estimated time to finish|Current rate/);
    expect(await page.getByTestId("finish").innerText()).not.toMatch(/^—?$/);
    const averagePerMinute = ((status.completed + status.failed + status.cancelled) * 60_000) / (status.completedTime! - status.startTime!);
    expect(await progressCard.innerText()).toMatch(/Average rate/);
    expect(await page.getByTestId("rate").innerText()).toBe(`${averagePerMinute.toFixed(1)} calls/min`);

    // The calls table lists every number called (9 fit on the first page).
    const calls = await api<{ calls: { phone_number: string; outcome: string | null; duration: number | null }[] }>(
      `/v1/api/batch-calls/${batchId}/calls?limit=100`,
    );

    // The outcome breakdown: each outcome's label followed by its count among the calls.
    const breakdown = page
      .locator("section, figure, div")
      .filter({ has: page.getByRole("heading", { name: /outcome/i }) })
      .last();
    const breakdownText = await breakdown.innerText();
    const outcomes: [string, string][] = [
      ["Answered", "answered"],
      ["Voicemail", "voicemail"],
      ["No answer", "no_answer"],
      ["Busy", "busy"],
      ["Failed", "failed"],
    ];
    for (const [label, outcome] of outcomes) {
      const shown = new RegExp(`${label}\\s*:?\\s*(\\d+)`, "i").exec(breakdownText)?.[1];
      expect(Number(shown), `${label} in the outcome breakdown:\n${breakdownText}`).toBe(calls.calls.filter((c) => c.outcome === outcome).length);
    }
    const table = page.getByRole("table", { name: "Calls" });
    await expect.poll(() => table.locator("tbody tr").count()).toBe(calls.calls.length);
    const tableText = await table.innerText();
    for (const c of calls.calls) expect(tableText).toContain(c.phone_number);

    // What the simulated agent reported (0 interested, 1 not interested, 2 a callback that ends booked,
    // 3 an opt-out): the dispositions chart is /status's counters, the table says who and what.
    const { dispositions } = await api<{ dispositions: Record<string, number> }>(`/v1/api/batch-calls/${batchId}/status`);
    expect(dispositions).toMatchObject({ interested: 1, not_interested: 1, booked: 1, do_not_call: 1 });
    const shown = Object.fromEntries(Object.entries(dispositions).filter(([, n]) => n > 0));
    await expect.poll(() => barsOf(page.getByRole("list", { name: "Calls by disposition" }))).toEqual(shown);
    const row = (phone: string) => table.locator("tbody tr", { hasText: phone });
    await expect.poll(() => row("+12125550100").innerText()).toMatch(/Ada Lovelace[\s\S]*interested/);
    await expect.poll(() => row("+12125550102").innerText()).toMatch(/Grace Hopper[\s\S]*booked/);
    // Each call's duration and the row's other CSV columns, without opening the call.
    const headers = (await table.getByRole("columnheader").allInnerTexts()).map((h) => h.trim());
    expect(headers).toEqual(expect.arrayContaining(["Name", "Duration", "Fields"]));
    const cellOf = async (phone: string, column: string) => (await row(phone).locator("td").allInnerTexts())[headers.indexOf(column)]?.trim();
    await expect.poll(() => cellOf("+12125550100", "Fields")).toMatch(/email: ada@example\.com[\s\S]*timezone: America\/New_York[\s\S]*plan: gold/);
    expect(await cellOf("+12125550102", "Fields")).toMatch(/timezone: America\/Chicago[\s\S]*plan: gold/);
    expect(calls.calls.some((c) => c.duration !== null)).toBe(true);
    for (const c of calls.calls) {
      const shownDuration = await cellOf(c.phone_number, "Duration");
      if (c.duration === null) expect(shownDuration, c.phone_number).toBe("—");
      else expect(shownDuration, c.phone_number).toMatch(/^(\d+ s|\d+ min \d+ s|\d+ h \d+ min)$/);
    }
    // A batch of seconds is charted per second (or per few seconds), not as one bar for its one minute.
    const rateCard = page.getByRole("region", { name: /^Calls finished per/ });
    await expect.poll(() => rateCard.getByRole("heading").innerText()).toMatch(/^Calls finished per (second|\d+ seconds)$/);
    expect(await rateCard.getByRole("img").getAttribute("aria-label")).toMatch(/^Calls finished per (second|\d+ seconds) from /);
    expect(await rateCard.locator("rect").count()).toBeGreaterThan(1);
    // Grace's detail: the callback she asked for is her second attempt; her transcript greets her by name.
    await row("+12125550102").getByRole("button", { name: "+12125550102" }).click();
    const detail = page.getByRole("dialog", { name: /Grace Hopper/ });
    await expect.poll(() => detail.getByRole("table", { name: "Attempts" }).locator("tbody tr").count()).toBe(2);
    await detail
      .getByText(/Hi Grace/)
      .first()
      .waitFor();
    await page.keyboard.press("Escape");
    await detail.waitFor({ state: "hidden" });
    await screenshot(page, "batch-page");
    expect(await seriousA11yViolations(page)).toEqual([]);

    // results.csv: a blob saved by the page, byte for byte what the API serves.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download results.csv" }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const saved = readFileSync((await download.path())!, "utf8");
    const served = await api<string>(`/v1/api/batch-calls/${batchId}/results.csv`);
    expect(saved).toBe(served);
    expect(saved.trim().split("\n")).toHaveLength(1 + dry.totalCalls);

    // One batch, however many Start requests the double click sent, all with the check's one key.
    expect(await batchesNamed(name)).toEqual([batchId]);
    const startKeys = idempotencyKeys.filter((k) => k !== undefined);
    expect(startKeys.length).toBeGreaterThanOrEqual(1);
    expect(new Set(startKeys).size).toBe(1);

    // The list shows it (newest first) and its name leads back to the batch page.
    await page.getByRole("navigation").getByRole("link", { name: "Batches" }).click();
    const list = page.getByRole("table", { name: "Batches" });
    const link = list.getByRole("link", { name });
    await link.waitFor();
    expect(await list.locator("tbody tr").first().innerText()).toContain(name);
    // The id is there to copy, under the name.
    expect(await list.locator("tbody tr").first().innerText()).toContain(batchId);
    // "Batches" heads the page once: the table is named by the heading, not by a caption saying it again.
    expect(await page.getByRole("main").getByText("Batches", { exact: true }).count()).toBe(1);
    await screenshot(page, "batches");
    expect(await seriousA11yViolations(page)).toEqual([]);
    await link.click();
    await page.waitForURL(new RegExp(`#/batches/${batchId}$`));
    await page.context().close();
  });

  test("progress is live: the bar and counters climb through intermediate values to 100% without a reload", async () => {
    // No number ending in 2: a callback the simulated agent asks for makes a finished call wait again,
    // and the bar rightly goes back; this test is about the bar climbing as calls finish.
    const batchId = await createBatch(csvOfNumbers(30, 2_125_555_000, { skipLastDigits: [2] }), { name: uniqueName("live") });
    const page = await signedInPage(browser);
    const liveRequests: string[] = [];
    page.on("request", (req) => {
      const path = new URL(req.url()).pathname;
      if (path.startsWith(`/v1/api/batch-calls/${batchId}/`)) liveRequests.push(path.slice(path.lastIndexOf("/") + 1));
    });
    await page.goto(`/#/batches/${batchId}`);
    await page.getByRole("progressbar").first().waitFor();
    // Every value the bar and the completed counter take, recorded in the page as it changes.
    await page.evaluate(() => {
      const w = window as unknown as { seen: { bar: number[]; completed: number[] } };
      w.seen = { bar: [], completed: [] };
      const read = () => {
        const bar = Number(document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow"));
        const completed = Number(document.querySelector('[data-testid="count-completed"]')?.textContent?.trim());
        if (w.seen.bar.at(-1) !== bar) w.seen.bar.push(bar);
        if (w.seen.completed.at(-1) !== completed) w.seen.completed.push(completed);
      };
      read();
      new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const bar = page.getByRole("progressbar").first();
    await expect.poll(() => bar.getAttribute("aria-valuenow"), { timeout: 60_000, interval: 250 }).toBe("100");
    const seen = await page.evaluate(() => (window as unknown as { seen: { bar: number[]; completed: number[] } }).seen);
    const final = await api<Status>(`/v1/api/batch-calls/${batchId}/status`);

    expect(
      seen.bar.every((v, i) => i === 0 || v >= seen.bar[i - 1]!),
      `bar went backwards: ${seen.bar}`,
    ).toBe(true);
    expect(
      seen.bar.some((v) => v > 0 && v < 100),
      `no value between 0 and 100: ${seen.bar}`,
    ).toBe(true);
    expect(
      seen.completed.some((v) => v > 0 && v < final.completed),
      `completed counter jumped: ${seen.completed}`,
    ).toBe(true);
    expect(final.status).toBe("completed");
    await expect.poll(() => counter(page, "completed")).toBe(final.completed);
    // Still the page it was: updated in place, never reloaded.
    expect(await page.evaluate(() => "seen" in window)).toBe(true);
    // Pushed, not polled, wherever the server has the event stream (the page polls /status only without one).
    if (await serverHasEventStream(batchId)) expect(liveRequests).toContain("events");
    else expect(liveRequests).toContain("status");
    await page.context().close();
  });

  test("'Retry failed' on a finished batch dials its failed numbers again; their attempts go to 2", async () => {
    // The simulated carrier answers numbers ending in 0-4 and fails those ending in 9.
    const batchId = await createBatch("phone_number\n+12125557000\n+12125557009\n", { name: uniqueName("retry") });
    await expect.poll(async () => (await api<Status>(`/v1/api/batch-calls/${batchId}/status`)).status, { timeout: 30_000 }).toBe("completed");
    const page = await signedInPage(browser);
    await page.goto(`/#/batches/${batchId}`);
    await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*completed/i);
    for (const action of ["Cancel batch", "Pause", "Resume"]) expect(await page.getByRole("button", { name: action }).count()).toBe(0);

    await page.getByRole("button", { name: "Retry failed" }).click();
    await expect
      .poll(
        async () =>
          (await api<{ calls: { phone_number: string; attempts: number }[] }>(`/v1/api/batch-calls/${batchId}/calls`)).calls.find(
            (c) => c.phone_number === "+12125557009",
          )?.attempts,
        { timeout: 30_000 },
      )
      .toBe(2);
    const table = page.getByRole("table", { name: "Calls" });
    const attemptsOf = async (number: string) => {
      const cells = await table.locator("tbody tr", { hasText: number }).locator("td, th").allInnerTexts();
      const column = (await table.getByRole("columnheader").allInnerTexts()).findIndex((h) => h.trim() === "Attempts");
      return cells[column]?.trim();
    };
    // The page shows the new pass live (its status text is redrawn at most every 250 ms, so the
    // old "completed" may still be on screen right after the click: wait for the table, then the end).
    await expect.poll(() => attemptsOf("+12125557009"), { timeout: 30_000 }).toBe("2");
    await expect.poll(() => batchStatus(page).innerText(), { timeout: 30_000 }).toMatch(/Status:\s*completed/i);
    expect(await attemptsOf("+12125557009")).toBe("2");
    expect(await attemptsOf("+12125557000")).toBe("1");
    await page.context().close();
  });

  test("a batch set to start tomorrow (local time, sent as UTC) can be paused and resumed", async () => {
    const page = await signedInPage(browser);
    const name = uniqueName("pause");
    const start = tomorrowLocal();
    await checkFile(page, { name: "three.csv", mimeType: "text/csv", buffer: Buffer.from(csvOfNumbers(3, 2_125_552_000)) }, name, start.local);
    await fileCheck(page).waitFor();
    expect(await verdictNumber(fileCheck(page), "Rows to call")).toBe(3);
    const batchId = await startBatch(page);
    try {
      const detail = await api<{ scheduledAt: string | null }>(`/v1/api/batch-calls/${batchId}`);
      expect(detail.scheduledAt).toBe(start.utc);

      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*queued/i);
      expect(await page.getByRole("button", { name: "Resume" }).count()).toBe(0);
      await page.getByRole("button", { name: "Pause" }).click();
      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*paused/i);
      expect((await api<Status>(`/v1/api/batch-calls/${batchId}/status`)).status).toBe("paused");
      expect(await page.getByRole("button", { name: "Pause" }).count()).toBe(0);

      await page.getByRole("button", { name: "Resume" }).click();
      await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*queued/i);
      expect((await api<Status>(`/v1/api/batch-calls/${batchId}/status`)).status).toBe("queued");
      await page.getByRole("button", { name: "Pause" }).waitFor();
      expect(await page.getByRole("button", { name: "Resume" }).count()).toBe(0);
    } finally {
      await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
      await page.context().close();
    }
  });

  test("a batch without a name is listed by its file's name and when it was created, with its id", async () => {
    const batchId = await createBatch(csvOfNumbers(1, 2_125_558_000), { scheduledAt: isoSecond(Date.now() + 24 * 3600_000) });
    const page = await signedInPage(browser);
    try {
      const batch = await api<{ fileName: string | null; createdAt: string }>(`/v1/api/batch-calls/${batchId}`);
      expect(batch.fileName).toBe("people.csv");
      // The title as the browser writes the creation time (its locale and time zone).
      const title = await page.evaluate(
        ({ fileName, createdAt }) => `${fileName} · ${new Date(createdAt).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`,
        batch,
      );
      const row = page.getByRole("table", { name: "Batches" }).locator("tbody tr", { hasText: batchId });
      await row.getByRole("link", { name: title, exact: true }).waitFor();
      await row.getByRole("link", { name: title, exact: true }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe(title);
      expect(await page.getByText(`ID ${batchId}`).count()).toBe(1);
    } finally {
      await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
      await page.context().close();
    }
  });

  test("the New batch form starts on the agent this workspace last used, else on the first listed", async () => {
    // An agent newer than the dev agent is listed first: the form offers it until a batch is started with another.
    const newer = await api<{ agentId: string }>("/v1/api/agents", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: uniqueName("newer"), provider: "webhook", dialUrl: "https://dialer.example.com/dial" }),
    });
    const page = await signedInPage(browser);
    let batchId: string | undefined;
    try {
      const agent = page.getByLabel("Agent");
      await page.getByRole("navigation").getByRole("link", { name: "New batch" }).click();
      await expect.poll(() => agent.inputValue()).toBe(newer.agentId);

      await checkFile(
        page,
        { name: "agent.csv", mimeType: "text/csv", buffer: Buffer.from(csvOfNumbers(1, 2_125_558_100)) },
        uniqueName("agent"),
        tomorrowLocal().local,
      );
      batchId = await startBatch(page);
      expect(await page.evaluate((key) => localStorage.getItem(key), "bc.lastAgent.ws_dev")).toBe(AGENT_ID);

      await page.getByRole("navigation").getByRole("link", { name: "New batch" }).click();
      await expect.poll(() => agent.locator("option").count()).toBeGreaterThan(1);
      await expect.poll(() => agent.inputValue()).toBe(AGENT_ID);
    } finally {
      if (batchId) await api(`/v1/api/batch-calls/${batchId}`, { method: "DELETE" });
      await api(`/v1/api/agents/${newer.agentId}`, { method: "DELETE" });
      await page.context().close();
    }
  });

  test("cancel asks first: 'Keep running' changes nothing, 'Yes, cancel' cancels every waiting call", async () => {
    const name = uniqueName("cancel");
    const batchId = await createBatch(csvOfNumbers(4, 2_125_553_000), { name, scheduledAt: isoSecond(Date.now() + 24 * 3600_000) });
    const page = await signedInPage(browser);
    await page.goto(`/#/batches/${batchId}`);
    await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*queued/i);

    const dialog = page.getByRole("dialog");
    await page.getByRole("button", { name: "Cancel batch" }).click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Keep running" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect((await api<Status>(`/v1/api/batch-calls/${batchId}/status`)).status).toBe("queued");

    await page.getByRole("button", { name: "Cancel batch" }).click();
    await dialog.getByRole("button", { name: "Yes, cancel" }).click();
    await expect.poll(() => batchStatus(page).innerText()).toMatch(/Status:\s*cancelled/i);
    await expect.poll(() => counter(page, "cancelled")).toBe(4);
    const status = await api<Status>(`/v1/api/batch-calls/${batchId}/status`);
    expect(status).toMatchObject({ status: "cancelled", cancelled: 4, waiting: 0 });
    for (const action of ["Cancel batch", "Pause", "Resume"]) expect(await page.getByRole("button", { name: action }).count()).toBe(0);
    await page.context().close();
  });

  test("a CSV with mistakes (dropped on the page) shows each invalid row's line, column and message, and cannot be started", async () => {
    const page = await signedInPage(browser);
    const csv = ["phone_number,first_name,email", "+12125554000,Ok,ok@example.com", "not-a-number,Bad,", "+12125554002,Mail,not-an-email", ""].join("\n");
    await checkFile(page, { name: "mistakes.csv", mimeType: "text/csv", buffer: Buffer.from(csv) }, uniqueName("mistakes"), undefined, { drop: true });

    await expect.poll(() => page.getByRole("alert").filter({ hasText: /\S/ }).first().innerText()).toMatch(/invalid/i);
    const table = page.getByRole("table", { name: "Invalid rows" });
    await table.waitFor();
    const headers = (await table.getByRole("columnheader").allInnerTexts()).map((h) => h.trim());
    expect(headers).toEqual(["Line", "Column", "Value", "Message"]);
    const rows = await table
      .locator("tbody tr")
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td, th"), (td) => (td.textContent ?? "").trim())));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ["3", "phone_number", "not-a-number"],
      ["4", "email", "not-an-email"],
    ]);
    for (const r of rows) expect(r[3]).not.toBe("");
    expect(await page.getByRole("button", { name: "Start batch" }).isEnabled()).toBe(false);
    await screenshot(page, "new-batch-invalid-rows");
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.context().close();
  });
});
