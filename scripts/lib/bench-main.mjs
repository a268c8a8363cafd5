// @ts-check
/**
 * How a bench section runs on its own (`node scripts/bench-<name>.mjs`):
 * when the module is the one node was started with, run it, print its
 * table and, as the last line, its JSON; on failure print why and exit 1.
 * Imported by `npm run bench`, the module runs nothing.
 */

/**
 * @template T
 * @param {string} moduleUrl the section's import.meta.url
 * @param {string} name as in the log lines ("bench:scale")
 * @param {() => Promise<T>} run
 * @param {(result: T) => string} format
 */
export async function runIfMain(moduleUrl, name, run, format) {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  try {
    const result = await run();
    console.log("");
    console.log(format(result));
    console.log("");
    console.log(JSON.stringify(result));
  } catch (err) {
    const { stack, message } = /** @type {Error} */ (err);
    process.stderr.write(`${name}: ${stack ?? message}\n`);
    process.exit(1);
  }
}
