/**
 * The test run's console filter (vitest.config.ts onConsoleLog): the Worker logs a JSON line
 * per request and per engine step, and a run should show its warnings and errors only.
 * True when every line of a captured console chunk is one of its `{"level":"info",…}` lines.
 */
export function isInfoLog(log: string): boolean {
  const lines = log.split("\n").filter((line) => line.trim() !== "");
  return lines.length > 0 && lines.every((line) => line.startsWith('{"level":"info"'));
}
