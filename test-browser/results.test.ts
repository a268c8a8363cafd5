// What agents reported, in the console: the outcome and disposition charts (from /status's
// counters), names and dispositions in the calls table and its disposition filter, and one
// call's detail (attempts, summary, data, transcript, recording) — at phone and desktop widths.
// The results are posted with the API key, on calls the simulated agent leaves alone
// (voicemails: numbers ending in 5), so what each detail holds is this file's own.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  api,
  barsOf,
  createBatch,
  horizontalOverflow,
  launch,
  newContext,
  screenshot,
  screenshotOnFailure,
  seriousA11yViolations,
  signIn,
  uniqueName,
} from "./helpers.js";

interface Status {
  status: string;
  outcomes: Record<string, number>;
  dispositions: Record<string, number>;
}
interface CallItem {
  jobId: string;
  phone_number: string;
  result: { disposition: string | null } | null;
}

// The simulated carrier: 0-4 answered, 5 voicemail, 6-7 no answer, 8 busy.
const ROWS = [
  ["+12125558700", "Ada", "Lovelace", "gold"],
  ["+12125558701", "Alan", "Turing", "silver"],
  ["+12125558705", "Grace", "Hopper", "gold"],
  ["+12125558715", "Edsger", "Dijkstra", "bronze"],
  ["+12125558725", "Frances", "Allen", "gold"],
  ["+12125558735", "Ken", "Thompson", "bronze"],
  ["+12125558706", "Barbara", "", "gold"],
  ["+12125558708", "", "", "silver"],
] as const;
const GRACE = "+12125558705";
const EDSGER = "+12125558715";
const RECORDING = "https://recordings.example.com/calls/grace.mp3";
/** Markup in an agent's text must show as text, never become elements. */
const SUMMARY = "Left a message about the <b>gold</b> plan.\nCall back after lunch.";
const TURNS = [
  { role: "agent", text: "Hello Grace, this is the <i>clinic</i> calling.", at: 0 },
  { role: "user", text: "Please call me back later.", at: 2300 },
];

let browser: Browser;
let batchId = "";
const callIds = new Map<string, string>();

const postResult = (phone: string, body: Record<string, unknown>) =>
  api(`/v1/api/batch-calls/${batchId}/calls/${callIds.get(phone)}/result`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ attempt: 1, ...body }),
  });

beforeAll(async () => {
  browser = await launch();
  const csv = ["phone_number,first_name,last_name,plan", ...ROWS.map((r) => r.join(","))].join("\n");
  batchId = await createBatch(`${csv}\n`, { name: uniqueName("results") });
  // expect.poll is for tests only: the same wait, by hand, for the batch's last call.
  for (let i = 0; (await api<Status>(`/v1/api/batch-calls/${batchId}/status`)).status !== "completed"; i++) {
    if (i > 150) throw new Error(`batch ${batchId} did not complete in 45 s`);
    await new Promise((r) => setTimeout(r, 300));
  }
  for (const c of (await api<{ calls: CallItem[] }>(`/v1/api/batch-calls/${batchId}/calls?limit=100`)).calls) callIds.set(c.phone_number, c.jobId);
  await postResult(GRACE, {
    disposition: "left_message",
    summary: SUMMARY,
    sentiment: "neutral",
    data: { plan_interest: "gold", seats: 3, wants_demo: true, note: null },
    transcript: TURNS,
    recordingUrl: RECORDING,
  });
  await postResult(EDSGER, { disposition: "wrong_person", summary: "Not Edsger's number any more." });
  await postResult("+12125558725", { disposition: "call_back", callbackAt: new Date(Date.now() + 20 * 24 * 3600_000).toISOString() });
  await postResult("+12125558735", { disposition: "do_not_call", optOut: true });
}, 90_000);
afterAll(async () => {
  await browser?.close();
});

async function batchPage(width: number): Promise<Page> {
  const context = await newContext(browser, width, 800);
  const page = await context.newPage();
  screenshotOnFailure(page);
  await signIn(page);
  await page.goto(`/#/batches/${batchId}`);
  await page.getByTestId("batch-status").waitFor();
  return page;
}

/** "same" when the page shows what the API says, else both (for the failure message). */
function sameOrBoth(shown: Record<string, number>, wanted: Record<string, number>): string {
  const text = (o: Record<string, number>) => JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return text(shown) === text(wanted) ? "same" : `page ${text(shown)}, API ${text(wanted)}`;
}

const OUTCOME_LABELS: Record<string, string> = {
  answered: "Answered",
  voicemail: "Voicemail",
  no_answer: "No answer",
  busy: "Busy",
  failed: "Failed",
  canceled: "Cancelled",
  callback_requested: "Callback requested",
};

const callsTable = (page: Page) => page.getByRole("table", { name: "Calls" });
const rowOf = (page: Page, phone: string) => callsTable(page).locator("tbody tr", { hasText: phone });
const bodyRows = (page: Page) => callsTable(page).locator("tbody tr").allInnerTexts();
/** Each row's number (its first cell: on a narrow screen a row is a card, its cells on lines of their own). */
const rowNumbers = (page: Page) =>
  callsTable(page)
    .locator("tbody tr")
    .evaluateAll((trs) => trs.map((tr) => ((tr as HTMLTableRowElement).cells[0]?.textContent ?? "").trim()));

for (const width of [360, 1440]) {
  describe(`at ${width} px`, () => {
    test("the outcome and disposition charts show /status's counters; the calls table shows names and dispositions and filters by disposition", async () => {
      const page = await batchPage(width);
      // Live: the page follows the counters (the simulated agent's results may still be arriving).
      const dispositions = page.getByRole("list", { name: "Calls by disposition" });
      const outcomes = page.getByRole("list", { name: "Calls by outcome" });
      await expect
        .poll(async () => {
          const status = await api<Status>(`/v1/api/batch-calls/${batchId}/status`);
          const wanted = Object.fromEntries(Object.entries(status.dispositions).filter(([, n]) => n > 0));
          return sameOrBoth(await barsOf(dispositions), wanted);
        })
        .toBe("same");
      expect(await barsOf(dispositions)).toMatchObject({ left_message: 1, wrong_person: 1, call_back: 1, do_not_call: 1 });
      await expect
        .poll(async () => {
          const status = await api<Status>(`/v1/api/batch-calls/${batchId}/status`);
          return sameOrBoth(await barsOf(outcomes), Object.fromEntries(Object.entries(OUTCOME_LABELS).map(([k, label]) => [label, status.outcomes[k] ?? 0])));
        })
        .toBe("same");

      // Names from first_name + last_name; the disposition beside them.
      await expect.poll(() => rowOf(page, GRACE).innerText()).toMatch(/Grace Hopper[\s\S]*left_message/);
      expect(await rowOf(page, EDSGER).innerText()).toMatch(/Edsger Dijkstra[\s\S]*wrong_person/);
      expect(await rowOf(page, "+12125558706").innerText()).toContain("Barbara");
      expect(await bodyRows(page)).toHaveLength(ROWS.length);

      // The filter offers the batch's labels and shows the API's answer for the one chosen.
      const filter = page.getByLabel("Disposition filter");
      const offered = await filter.locator("option").allInnerTexts();
      expect(offered).toEqual(expect.arrayContaining(["all", "left_message", "wrong_person", "call_back", "do_not_call"]));
      for (const [label, phone] of [
        ["left_message", GRACE],
        ["wrong_person", EDSGER],
      ] as const) {
        await filter.selectOption(label);
        const served = await api<{ calls: CallItem[] }>(`/v1/api/batch-calls/${batchId}/calls?disposition=${label}`);
        expect(served.calls.map((c) => c.phone_number)).toEqual([phone]);
        // The table shows the previous filter's row until the new page arrives: wait for the number itself.
        await expect.poll(() => rowNumbers(page)).toEqual([phone]);
      }
      await filter.selectOption("all");
      await expect.poll(() => bodyRows(page)).toHaveLength(ROWS.length);

      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(2);
      await screenshot(page, `results-batch-${width}`);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.context().close();
    });

    test("a call's detail: attempts, summary, data fields, the transcript as text, the recording to play; focus goes in and comes back", async () => {
      const page = await batchPage(width);
      const opener = rowOf(page, GRACE).getByRole("button", { name: GRACE });
      await opener.click();
      const dialog = page.getByRole("dialog", { name: `Grace Hopper, ${GRACE}` });
      await dialog.waitFor();
      expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);

      const attempts = dialog.getByRole("table", { name: "Attempts" });
      await attempts.waitFor();
      const attemptRows = await attempts.locator("tbody tr").allInnerTexts();
      expect(attemptRows).toHaveLength(1);
      expect(attemptRows[0]).toMatch(/^1\s[\s\S]*voicemail/);
      // The summary and transcript are shown as written: their markup is text, not elements.
      await expect.poll(() => dialog.getByText("Hello Grace, this is the <i>clinic</i> calling.").count()).toBe(1);
      expect(await dialog.getByText("Please call me back later.").count()).toBe(1);
      expect(await dialog.locator(".summary").textContent()).toBe(SUMMARY);
      expect(await dialog.locator("b, i").count()).toBe(0);
      const data = await dialog
        .getByRole("table", { name: "Data" })
        .locator("tbody tr")
        .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent)));
      expect(data).toEqual([
        ["plan_interest", "gold"],
        ["seats", "3"],
        ["wants_demo", "true"],
        ["note", "—"],
      ]);
      expect(await dialog.innerText()).toMatch(/Disposition\s*left_message/);
      expect(await dialog.innerText()).toMatch(/Sentiment\s*neutral/);
      const variables = await dialog.getByRole("table", { name: "Variables" }).innerText();
      for (const v of ["first_name", "Grace", "last_name", "Hopper", "plan", "gold"]) expect(variables).toContain(v);
      const audio = dialog.locator("audio");
      expect(await audio.count()).toBe(1);
      expect(await audio.getAttribute("src")).toBe(RECORDING);
      expect(await audio.evaluate((a) => (a as HTMLAudioElement).controls)).toBe(true);

      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(2);
      await screenshot(page, `results-detail-${width}`);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      await expect.poll(() => opener.evaluate((b) => b === document.activeElement)).toBe(true);

      // A result with no recording and no transcript shows neither.
      await rowOf(page, EDSGER).getByRole("button", { name: EDSGER }).click();
      const other = page.getByRole("dialog", { name: `Edsger Dijkstra, ${EDSGER}` });
      await other.getByText("Not Edsger's number any more.").waitFor();
      expect(await other.locator("audio").count()).toBe(0);
      expect(await other.getByRole("heading", { name: "Transcript" }).count()).toBe(0);
      await other.getByRole("button", { name: "Close" }).click();
      await other.waitFor({ state: "hidden" });

      // A requested callback and an opt-out are said in words.
      await rowOf(page, "+12125558725").getByRole("button").click();
      const callback = page.getByRole("dialog", { name: /Frances Allen/ });
      await expect.poll(() => callback.innerText()).toMatch(/Callback requested for\s*\S/);
      await callback.getByRole("button", { name: "Close" }).click();
      await rowOf(page, "+12125558735").getByRole("button").click();
      const optOut = page.getByRole("dialog", { name: /Ken Thompson/ });
      await expect.poll(() => optOut.innerText()).toMatch(/Opted out\s*Yes/);
      await page.context().close();
    });
  });
}

describe("opt-outs", () => {
  test("the do-not-call page says which number opted out on a call, and links to its batch", async () => {
    const page = await batchPage(1280);
    await page.getByRole("navigation").getByRole("link", { name: "Do-not-call" }).click();
    const row = page.getByRole("table", { name: "Do-not-call numbers" }).locator("tbody tr", { hasText: "+12125558735" });
    await expect.poll(() => row.innerText()).toContain(`Opted out on a call in ${batchId}`);
    await row.getByRole("link", { name: batchId }).click();
    await page.waitForURL(new RegExp(`#/batches/${batchId}$`));
    await page.context().close();
  });
});

describe("the recording's policy", () => {
  test("the page may play media from https: only: an http: or data: source is refused by its Content-Security-Policy", async () => {
    const page = await batchPage(1280);
    const refused = await page.evaluate(async () => {
      const blocked: string[] = [];
      const two = new Promise<void>((resolve) =>
        document.addEventListener("securitypolicyviolation", (e) => {
          if (e.effectiveDirective !== "media-src") return;
          blocked.push(e.blockedURI);
          if (blocked.length === 2) resolve();
        }),
      );
      /** Resolves when the element gives up on `src` (refused, or nothing listening there). */
      const tryPlay = (src: string) =>
        new Promise<void>((resolve) => {
          const audio = new Audio();
          audio.addEventListener("error", () => resolve(), { once: true });
          audio.preload = "auto";
          audio.src = src;
        });
      // One after another, so a refusal of the https: source would be the first one reported.
      // Nothing listens on port 9: the https: source fails on the network, after the policy let it through.
      await tryPlay("https://127.0.0.1:9/recording.mp3");
      await tryPlay("http://127.0.0.1:9/recording.mp3");
      await tryPlay("data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=");
      await two;
      return blocked;
    });
    expect(refused.map((u) => u.split(":")[0])).toEqual(["http", "data"]);
    await page.context().close();
  });
});
