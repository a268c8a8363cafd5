/** `path` after `base` with exactly one slash between them: a configured base URL may or may not end in one. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/$/, "")}${path}`;
}

/**
 * The seconds a 429's Retry-After asks for (the delta-seconds form), or 0
 * when it is missing or unusable: the queue's own backoff applies then.
 */
export function retryAfterSec(res: Response): number {
  const seconds = Number(res.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}
