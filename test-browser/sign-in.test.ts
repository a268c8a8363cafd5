import type { Browser, Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { API_KEY, WORKSPACE_ID, launch, newContext, screenshot, seriousA11yViolations, signIn } from "./helpers.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe("sign-in", () => {
  test("a wrong key shows the API's error; the dev key signs in; sign out forgets the key", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const served = await page.goto("/");
    // The page runs under its own strict policy, and nothing of it breaks that policy.
    expect(served?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await screenshot(page, "sign-in");
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByLabel("Workspace ID").fill(WORKSPACE_ID);
    await page.getByLabel("API key").fill("bck_devkey0000000000_notthesecretnotthesecret00");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toMatch(/key/i);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);

    await signIn(page);
    expect(violations).toEqual([]);
    const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
    expect(stored).toContain(API_KEY);
    // Kept in the tab only: never in the URL, a cookie or localStorage.
    expect(page.url()).not.toContain(API_KEY);
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain(API_KEY);
    await page.reload();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await context.close();
  });

  test("keyboard only: sign in with Tab and Enter, reach the navigation, and see where focus is", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto("/");
    const workspace = page.getByLabel("Workspace ID");
    await workspace.waitFor();
    const focused = (l: Locator) => l.evaluate((el) => el === document.activeElement);
    for (let i = 0; i < 8 && !(await focused(workspace)); i++) await page.keyboard.press("Tab");
    expect(await focused(workspace)).toBe(true);
    await page.keyboard.type(WORKSPACE_ID);
    await page.keyboard.press("Tab");
    expect(await focused(page.getByLabel("API key"))).toBe(true);
    await page.keyboard.type(API_KEY);
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    // Back up with Shift+Tab from the page's heading (where signing in puts focus) to the "New batch"
    // link, and follow it with Enter; the focused link has a visible outline. Backwards, because the
    // header's few controls come before the heading, however many batches the list below it shows.
    const newBatch = page.getByRole("navigation").getByRole("link", { name: "New batch" });
    for (let i = 0; i < 12 && !(await focused(newBatch)); i++) await page.keyboard.press("Shift+Tab");
    expect(await focused(newBatch)).toBe(true);
    const ring = await newBatch.evaluate((el) => {
      const s = getComputedStyle(el);
      return { outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0, shadow: s.boxShadow !== "none" };
    });
    expect(ring.outline || ring.shadow).toBe(true);
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/new$/);
    await page.getByLabel("CSV file").waitFor({ state: "attached" });
    await context.close();
  });

  test("a signed-in tab stays signed in across a reload", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page);
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await context.close();
  });
});
