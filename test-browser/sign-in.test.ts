import type { Browser } from "playwright-core";
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
    await page.goto("/");
    await screenshot(page, "sign-in");
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByLabel("Workspace ID").fill(WORKSPACE_ID);
    await page.getByLabel("API key").fill("bck_devkey0000000000_notthesecretnotthesecret00");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toMatch(/key/i);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);

    await signIn(page);
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

  test("a signed-in tab stays signed in across a reload", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page);
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await context.close();
  });
});
