import { ApiError } from "../errors";

/**
 * In local development an over-limit body without Content-Length is read to
 * its end (discarding the excess) before the 413, up to this many bytes in
 * all — Cloudflare's own cap on a request body for most plans.
 */
export const DEV_DRAIN_MAX_BYTES = 100 * 1024 * 1024;

/**
 * A request body as text, never more than `maxBytes` of it: a declared
 * Content-Length over the limit is refused before a byte is read, and a
 * body without one is counted as it arrives and refused as soon as it
 * passes the limit (the rest is never read). `what` names the body in the
 * 413's sentence.
 *
 * `drainOverLimit` (local development only): under `wrangler dev` a request
 * body the Worker cancels part-way breaks wrangler's proxy connection (see
 * src/routes/upload-form.ts), so there the rest is read and dropped, up
 * to `drainMaxBytes`, before the 413.
 */
export async function readTextWithin(
  req: Request,
  maxBytes: number,
  what: string,
  opts: { drainOverLimit?: boolean; drainMaxBytes?: number } = {},
): Promise<string> {
  const tooLarge = () =>
    new ApiError("payload_too_large", `${what} is larger than ${formatBytes(maxBytes)}, the most this endpoint reads; send only its fields.`);
  const length = req.headers.get("content-length");
  if (length !== null && Number(length) > maxBytes) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += value.byteLength;
      if (seen <= maxBytes) {
        chunks.push(value);
        continue;
      }
      if (!opts.drainOverLimit || seen > (opts.drainMaxBytes ?? 0)) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError("bad_request", `${what} could not be read to its end; send it again.`);
  }
  if (seen > maxBytes) throw tooLarge();
  return decodeChunks(chunks, seen);
}

/** The UTF-8 text of a body read as `chunks` (`total` bytes in all). */
export function decodeChunks(chunks: readonly Uint8Array[], total: number): string {
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function formatBytes(n: number): string {
  return n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
