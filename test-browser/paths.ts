import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Git-ignored: screenshots, downloads and the dev server's log of the last run. */
export const OUT_DIR = join(ROOT, "test-browser", "out");
export const SCREENSHOTS = join(OUT_DIR, "screenshots");
