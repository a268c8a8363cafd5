import type { E164Set } from "../domain/phone/e164-set";

/**
 * Do-not-call lists read whole, kept in this isolate for the next upload of
 * the same workspace (a dry run and then the upload, appended rows, the
 * day's next file): each is held under the list's version (dnc.repo's
 * dnc_version, bumped in the same batch as every change to the list), and
 * used only while the version read before it matches. A list changed since
 * is read again; a list read while it changed is held under the earlier
 * version, so the next read misses: an entry is never older than its key.
 * Isolates share nothing: each reads the list once.
 */

/** The most bytes of sets held at once: four of the longest lists read whole (250,000 numbers, 4 MB each). */
export const DNC_CACHE_BYTES = 16 * 1024 * 1024;

type Entry = { version: number; set: E164Set };

/** Least recently used first (a Map keeps insertion order; a hit is moved to the end). */
const entries = new Map<string, Entry>();
let held = 0;

/** The workspace's list as of `version`, when held. */
export function cachedDncList(workspaceId: string, version: number): E164Set | null {
  const entry = entries.get(workspaceId);
  if (!entry || entry.version !== version) return null;
  entries.delete(workspaceId);
  entries.set(workspaceId, entry);
  return entry.set;
}

/** Holds `set` as the workspace's list at `version`, dropping the least recently used past DNC_CACHE_BYTES. */
export function rememberDncList(workspaceId: string, version: number, set: E164Set): void {
  forget(workspaceId);
  if (set.bytes > DNC_CACHE_BYTES) return;
  entries.set(workspaceId, { version, set });
  held += set.bytes;
  for (const id of entries.keys()) {
    if (held <= DNC_CACHE_BYTES) break;
    forget(id);
  }
}

function forget(workspaceId: string): void {
  const entry = entries.get(workspaceId);
  if (!entry) return;
  entries.delete(workspaceId);
  held -= entry.set.bytes;
}
