import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

type Manifest = { name?: string; scripts?: Record<string, string>; allowScripts?: Record<string, boolean> };
const read = (path: string): Manifest => JSON.parse(readFileSync(path, "utf8")) as Manifest;
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall"];

/** Every installed package (node_modules, scoped and nested) that declares an install script. */
function packagesWithInstallScripts(dir: string, out = new Set<string>()): Set<string> {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (entry.startsWith("@")) {
      packagesWithInstallScripts(path, out);
      continue;
    }
    const manifest = join(path, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = read(manifest);
    if (pkg.name && INSTALL_SCRIPTS.some((s) => pkg.scripts?.[s])) out.add(pkg.name);
    packagesWithInstallScripts(join(path, "node_modules"), out);
  }
  return out;
}

describe("npm install", () => {
  // npm 11 skips a dependency's install script unless package.json's allowScripts names it, and
  // warns for each one it names neither way: declaring them all keeps a clean install quiet.
  it("has every dependency's install script declared in allowScripts, so a clean install prints no warning", () => {
    const { allowScripts = {} } = read("package.json");
    const found = [...packagesWithInstallScripts("node_modules")].sort();
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((name) => !(name in allowScripts))).toEqual([]);
  });
});
