import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const README = readFileSync("README.md", "utf8");
/** Markdown links outside code: [text](target). */
const LINK = /\]\(([^)\s]+)\)/g;
const links = () => [...README.replace(/```[\s\S]*?```/g, "").matchAll(LINK)].map((m) => m[1] ?? "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const anchorOf = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

describe("README", () => {
  it("stands on its own: every relative link is a file of the repository, none points outside it", () => {
    const relative = links().filter((t) => !/^(https?:|mailto:|#)/.test(t));
    expect(relative.filter((t) => t.startsWith("../") || t.startsWith("/"))).toEqual([]);
    expect(relative.filter((t) => !existsSync(t.split("#")[0] ?? t))).toEqual([]);
    expect(README).not.toContain("../shared");
  });

  it("links only to headings it has", () => {
    const headings = new Set([...README.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? "")));
    const anchors = links()
      .filter((t) => t.startsWith("#"))
      .map((t) => t.slice(1));
    expect(anchors.length).toBeGreaterThan(5);
    expect(anchors.filter((a) => !headings.has(a))).toEqual([]);
  });

  it("computes the scheduledAt of its examples instead of writing a date that will pass", () => {
    expect(README.match(/scheduledAt=['"]?\d{4}-/g) ?? []).toEqual([]);
    expect(README).toMatch(/scheduledAt=\$\(date -u -d '\+1 hour'/);
  });

  it("puts Deploy right after the Quickstart, under a table of contents", () => {
    const sections = [...README.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections.slice(0, 2)).toEqual(["Quickstart", "Deploy to Cloudflare"]);
    expect(README.indexOf("**Contents:**")).toBeLessThan(README.indexOf("## Quickstart"));
    expect(README).toContain("npm run setup:cloudflare");
  });

  it("tells the campaign story (README, examples/campaign.sh, the OpenAPI description) with routes the API has", () => {
    const api = JSON.parse(readFileSync("docs/openapi.json", "utf8")) as { paths: Record<string, Record<string, unknown>>; info: { description: string } };
    // "METHOD /v1/…" for every documented operation, path parameters as a wildcard.
    const routes = Object.entries(api.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => new RegExp(`^${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, "[^/]+")}$`)),
    );
    /** Each request's method and path in `text` (curl, or the script's api/json wrappers; GET unless -X says otherwise). */
    const calls = (text: string) =>
      [...text.matchAll(/(?:^|[\s(])(?:curl|api|json) (?:[^\n]*?-X (\w+))?[^\n]*?\$B(\/v1\/[^\s"?]+)/gm)].map(
        (m) => `${m[1] ?? "GET"} ${(m[2] ?? "").replace(/\$BATCH|<batchId>/g, "b")}`,
      );
    const story = README.slice(README.indexOf("### A campaign, start to finish"), README.indexOf("### Drafts: upload now"));
    for (const text of [story, readFileSync("examples/campaign.sh", "utf8"), api.info.description]) {
      const used = calls(text);
      expect(used.length).toBeGreaterThan(8);
      expect(used.filter((c) => !routes.some((r) => r.test(c)))).toEqual([]);
      for (const step of [
        "POST /v1/api/batch-calls/b/test-call",
        "POST /v1/api/batch-calls/b/rows",
        "PATCH /v1/api/batch-calls/b",
        "POST /v1/api/batch-calls/b/resume",
      ]) {
        expect(used).toContain(step);
      }
    }
  });
});
