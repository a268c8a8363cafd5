import { MAX_BODY_BYTES, MAX_FILE_BYTES } from "../domain/batch-options";
import { ApiError } from "../errors";
import { sha256Hex } from "../lib/crypto";

/** An upload as POST /batch-calls receives it: the CSV, and every other form field as text. */
export type UploadForm = { file: File; fields: Record<string, string> };

const MIB = 1024 * 1024;

const BOUNDARY_MISSING =
  "The Content-Type header says multipart/form-data but has no boundary parameter, so the parts cannot be found. " +
  "Don't set Content-Type yourself: let the HTTP library set it with its boundary (curl -F, Python requests files=, " +
  "fetch or axios with a FormData body and no Content-Type header).";

/**
 * The upload's multipart body, decoded without ever buffering more than the
 * limit allows: the `file` part (the CSV, at most 20 MiB) and the other
 * fields. `drainOverLimit`: see readForm.
 */
export async function readUploadForm(req: Request, opts: { drainOverLimit: boolean; drainMaxBytes: number }): Promise<UploadForm> {
  const form = await readForm(req, opts);
  const file = fileOf(form.get("file"));
  if (file.size > MAX_FILE_BYTES) {
    throw new ApiError("payload_too_large", `The file is ${(file.size / MIB).toFixed(1)} MiB; the limit is ${MAX_FILE_BYTES / MIB} MiB.`);
  }
  const fields: Record<string, string> = {};
  for (const [k, v] of form.entries()) if (typeof v === "string" && k !== "file") fields[k] = v;
  return { file, fields };
}

/** What an Idempotency-Key is bound to: the fields (in any order) and the file's bytes. */
export async function uploadHash({ fields, file }: UploadForm): Promise<string> {
  const digest = new crypto.DigestStream("SHA-256");
  await file.stream().pipeTo(digest);
  const fileHash = [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const sorted = Object.keys(fields)
    .sort()
    .map((k) => [k, fields[k]]);
  return sha256Hex(JSON.stringify({ fields: sorted, file: fileHash, size: file.size }));
}

/** Refuses a body that is not multipart/form-data with a usable boundary, naming the mistake. */
function checkContentType(type: string): void {
  const [media = "", ...params] = type.split(";").map((p) => p.trim());
  if (media.toLowerCase() !== "multipart/form-data") {
    throw new ApiError("unsupported_media_type", "Send the batch as multipart/form-data with the CSV in a field named file.");
  }
  const boundary = params
    .find((p) => /^boundary\s*=/i.test(p))
    ?.replace(/^boundary\s*=\s*/i, "")
    .replace(/^"(.*)"$/, "$1");
  if (!boundary) throw new ApiError("multipart_boundary_missing", BOUNDARY_MISSING);
}

/**
 * Reads the multipart body (native `Request.formData`) without ever
 * buffering more than the limit allows.
 *
 * `drainOverLimit` (local development only): under `wrangler dev` every request
 * reaches the Worker through wrangler's proxy Worker, and a body that the Worker
 * read part-way and then cancelled or abandoned breaks that proxy's connection:
 * the next request fails with 503 "worker restarted mid-request" (workerd#1741;
 * a body never touched, or read to its end, does not). So there the rest of an
 * over-limit body is drained before answering, up to `drainMaxBytes` in all.
 * In production the read stops at the limit: nothing past it is worth receiving.
 */
async function readForm(req: Request, { drainOverLimit, drainMaxBytes }: { drainOverLimit: boolean; drainMaxBytes: number }): Promise<FormData> {
  checkContentType(req.headers.get("content-type") ?? "");
  const tooLarge = () => new ApiError("payload_too_large", `The upload is over ${MAX_FILE_BYTES / MIB} MiB; split the CSV into smaller files.`);
  const length = req.headers.get("content-length");
  if (length !== null && Number(length) > MAX_BODY_BYTES) throw tooLarge();

  let body = req.body;
  let exceeded = false;
  if (length === null && body) {
    // No declared length: count bytes as they arrive and stop at the limit.
    let seen = 0;
    body = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          seen += chunk.byteLength;
          if (seen <= MAX_BODY_BYTES) return ctl.enqueue(chunk);
          exceeded = true;
          // Erroring here cancels the request body; draining drops the chunk and reads on.
          if (!drainOverLimit || seen > drainMaxBytes) ctl.error(new Error("body over limit"));
        },
        flush(ctl) {
          if (exceeded) ctl.error(new Error("body over limit"));
        },
      }),
    );
  }
  try {
    return await new Request(req.url, { method: "POST", headers: req.headers, body }).formData();
  } catch {
    if (exceeded) throw tooLarge();
    throw new ApiError("bad_request", "The body is not valid multipart/form-data.");
  }
}

/**
 * The `file` part as a File. A part sent without a filename (curl -F 'file=<x.csv',
 * form.append('file', buffer)) arrives as a string: it is the same CSV, so it
 * becomes a File of its UTF-8 bytes — byte for byte what was sent, unless the
 * bytes were not UTF-8, which the form parser has already replaced with U+FFFD.
 * It has no name, as the client gave none.
 */
function fileOf(part: File | string | null): File {
  if (part instanceof File) return part;
  if (part === null) throw new ApiError("missing_file", "Attach the CSV as a file in the form field named file.");
  if (part.includes("\uFFFD")) {
    throw new ApiError(
      "csv_invalid",
      "The file part has no filename and is not valid UTF-8 text. Save the CSV as UTF-8, or send it as a file with a filename (curl -F 'file=@people.csv').",
    );
  }
  return new File([part], "", { type: "text/csv" }); // no name: the batch's fileName is null
}
