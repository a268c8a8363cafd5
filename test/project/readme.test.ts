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
});
