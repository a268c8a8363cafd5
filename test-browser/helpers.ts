// What every browser test needs: Debian's Chromium, a signed-in page, the API as the test's
// own client (to compare the page with /status), axe, screenshots.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { inject, onTestFailed } from "vitest";
import { SCREENSHOTS } from "./paths.js";

export const WORKSPACE_ID = "ws_dev";
export const API_KEY = "bck_devkey0000000000_devsecretdevsecretdevsecret00";
export const AGENT_ID = "agent_dev_simulated";
export const AUTH_HEADERS = { "x-api-key": API_KEY, "x-workspace-id": WORKSPACE_ID };
/** The browser's time zone: +05:30 all year (no DST), so "local time → UTC" has one right answer. */
export const TIMEZONE = "Asia/Kolkata";
export const TZ_OFFSET_MINUTES = 330;

/** Debian's package (apt-get install chromium); never a browser downloaded by Playwright. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const baseUrl = (): string => inject("baseUrl");

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's package (sudo apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  // --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

export async function newContext(browser: Browser, width = 1280, height = 900): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: baseUrl(), viewport: { width, height }, timezoneId: TIMEZONE, acceptDownloads: true });
  // A control that never appears fails the step in 15 s with its name, not at the test's timeout.
  context.setDefaultTimeout(15_000);
  return context;
}

/** A screenshot of `page` as it was when the current test failed: out/screenshots/failed-<test>.png. */
export function screenshotOnFailure(page: Page): void {
  onTestFailed(async ({ task }) => {
    if (!page.isClosed()) await screenshot(page, `failed-${task.name.replace(/[^\w]+/g, "-").slice(0, 60)}`).catch(() => {});
  });
}

/** Opens the console and signs in with the seeded dev key, as the README's quickstart says. */
/** A fresh context's page (screenshot on failure), signed in to the console. */
export async function signedInPage(browser: Browser, width?: number): Promise<Page> {
  const context = await newContext(browser, width);
  const page = await context.newPage();
  screenshotOnFailure(page);
  await signIn(page);
  return page;
}

export async function signIn(page: Page): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Workspace ID").fill(WORKSPACE_ID);
  await page.getByLabel("API key").fill(API_KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** The same request the page makes, from the test: used to check what the page shows. */
export async function api<T = any>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${baseUrl()}${path}`, {
    ...init,
    headers: { ...AUTH_HEADERS, ...(init.headers as Record<string, string>) },
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} → ${res.status}: ${body}`);
  return (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(body) : (body as T);
}

/** Creates a batch through the API (setup for tests about what the page does with one). */
export async function createBatch(csv: string, fields: Record<string, string> = {}): Promise<string> {
  const form = new FormData();
  form.set("agentId", AGENT_ID);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set("file", new Blob([csv], { type: "text/csv" }), "people.csv");
  const created = await api<{ batchId: string }>("/v1/api/batch-calls", { method: "POST", body: form });
  return created.batchId;
}

/** Unique per run, so a test finds its own batch among those left by earlier runs. */
export const uniqueName = (label: string) => `${label} ${new Date().toISOString().slice(11, 19)} ${Math.random().toString(36).slice(2, 6)}`;

/**
 * `n` distinct valid US numbers, one per row, counting up from `firstLine`, leaving out those
 * whose last digit is in `skipLastDigits` (the simulated agent asks for a callback on a 2).
 */
export function csvOfNumbers(n: number, firstLine = 2_125_551_000, { skipLastDigits = [] as number[] } = {}): string {
  const rows = ["phone_number,first_name"];
  for (let line = firstLine; rows.length <= n; line++) if (!skipLastDigits.includes(line % 10)) rows.push(`+1${line},Person ${rows.length}`);
  return `${rows.join("\n")}\n`;
}

/** An ISO UTC second, as the API writes scheduledAt. */
export const isoSecond = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** axe-core's serious and critical violations on the page as it is now, one readable line each. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, not as a <script>: the console's
  // Content-Security-Policy (public/_headers) rightly refuses inline scripts.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: () => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
}

/** How far the page is wider than the window (0 = no horizontal scrolling). */
export const horizontalOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** A bar chart of the batch page (a list of label, bar, number) as {label: number}. */
export async function barsOf(list: Locator): Promise<Record<string, number>> {
  const items = await list.locator("li").evaluateAll((lis) => lis.map((li) => Array.from(li.children, (c) => (c.textContent ?? "").trim())));
  return Object.fromEntries(items.map(([label, , value]) => [label ?? "", Number((value ?? "").replaceAll(",", ""))]));
}
