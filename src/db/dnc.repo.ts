/**
 * The statement that follows each change to a workspace's list, in the same
 * batch: the list's version moves on when the change before it changed a
 * row (SQLite's changes(), read before this UPDATE writes), so a list an
 * isolate holds (services/dnc-list-cache.ts) is read again.
 */
function bumpVersion(db: D1Database, workspaceId: string): D1PreparedStatement {
  return db.prepare("UPDATE workspaces SET dnc_version = dnc_version + 1 WHERE id = ?1 AND changes() > 0").bind(workspaceId);
}

/** Runs a change to the workspace's list with its version's bump; the rows it changed. */
async function changeList(db: D1Database, workspaceId: string, change: D1PreparedStatement): Promise<number> {
  const [res] = await db.batch([change, bumpVersion(db, workspaceId)]);
  return res?.meta.changes ?? 0;
}

/** The version of the workspace's list (0 before any change; null: no such workspace). */
export async function dncVersion(db: D1Database, workspaceId: string): Promise<number | null> {
  const row = await db.prepare("SELECT dnc_version AS version FROM workspaces WHERE id = ?1").bind(workspaceId).first<{ version: number }>();
  return row?.version ?? null;
}

export async function addDnc(db: D1Database, workspaceId: string, phones: string[], at: string): Promise<number> {
  const insert = db
    .prepare(
      `INSERT INTO dnc (workspace_id, phone_number, created_at)
       SELECT ?1, value, ?3 FROM json_each(?2) WHERE true
       ON CONFLICT (workspace_id, phone_number) DO NOTHING`,
    )
    .bind(workspaceId, JSON.stringify(phones), at);
  return changeList(db, workspaceId, insert);
}

/** Where a number on the list came from when a person asked on a call; absent for numbers the API added. */
export type DncSource = { batchId: string; callId: string; at: string };

export type DncRow = { phone_number: string; created_at: string; source: DncSource | null };

/**
 * Puts a number a person asked on a call never to be called again on the
 * list, with where it came from. The first record of a number stays (its
 * source and time are not overwritten by a later opt-out or a repeat), so
 * a replayed opt-out changes nothing. The row's created_at is the time of
 * the request (`source.at`), not of this write, which may come later after a retry.
 * True when it inserted.
 */
export async function addDncWithSource(db: D1Database, workspaceId: string, phone: string, source: DncSource): Promise<boolean> {
  const insert = db
    .prepare(
      `INSERT INTO dnc (workspace_id, phone_number, created_at, source) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (workspace_id, phone_number) DO NOTHING`,
    )
    .bind(workspaceId, phone, source.at, JSON.stringify({ batchId: source.batchId, callId: source.callId, at: source.at }));
  return (await changeList(db, workspaceId, insert)) > 0;
}

/**
 * addDncWithSource for several numbers in one statement (one JSON parameter):
 * the opt-outs a batch's tick carries together. Returns how many were new.
 */
export async function addDncSources(db: D1Database, workspaceId: string, entries: { phone: string; source: DncSource }[]): Promise<number> {
  if (entries.length === 0) return 0;
  const rows = entries.map((e) => [e.phone, e.source.at, JSON.stringify({ batchId: e.source.batchId, callId: e.source.callId, at: e.source.at })]);
  const insert = db
    .prepare(
      `INSERT INTO dnc (workspace_id, phone_number, created_at, source)
       SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?2) AS j WHERE true
       ON CONFLICT (workspace_id, phone_number) DO NOTHING`,
    )
    .bind(workspaceId, JSON.stringify(rows));
  return changeList(db, workspaceId, insert);
}

export async function listDnc(db: D1Database, workspaceId: string, limit: number, offset: number): Promise<{ rows: DncRow[]; total: number }> {
  const [rows, total] = await db.batch([
    db
      .prepare("SELECT phone_number, created_at, source FROM dnc WHERE workspace_id = ?1 ORDER BY phone_number LIMIT ?2 OFFSET ?3")
      .bind(workspaceId, limit, offset),
    db.prepare("SELECT count(*) AS n FROM dnc WHERE workspace_id = ?1").bind(workspaceId),
  ]);
  const stored = (rows?.results ?? []) as { phone_number: string; created_at: string; source: string | null }[];
  return {
    // source is written only by addDncWithSource, as the JSON of a DncSource.
    rows: stored.map((r) => ({ ...r, source: r.source === null ? null : (JSON.parse(r.source) as DncSource) })),
    total: (total?.results?.[0] as { n: number } | undefined)?.n ?? 0,
  };
}

export async function removeDnc(db: D1Database, workspaceId: string, phone: string): Promise<boolean> {
  const remove = db.prepare("DELETE FROM dnc WHERE workspace_id = ?1 AND phone_number = ?2").bind(workspaceId, phone);
  return (await changeList(db, workspaceId, remove)) > 0;
}

export async function hasAnyDnc(db: D1Database, workspaceId: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS x FROM dnc WHERE workspace_id = ?1 LIMIT 1").bind(workspaceId).first()) !== null;
}

/**
 * Numbers per statement of dncListPages: E.164 is at most 16 characters, so a
 * page's comma-joined value stays under 0.9 MB, inside D1's 2 MB limit on a
 * value.
 */
export const DNC_LIST_PAGE = 50_000;

/** A do-not-call list as read whole: comma-joined pages of numbers, `count` in all. */
export type DncListPages = { pages: string[]; count: number };

/**
 * The workspace's whole do-not-call list, or null when it holds more than
 * `max` numbers (the caller then looks numbers up instead; nothing past the
 * first `max + 1` is read). Paged by key: each statement walks the next
 * `page` entries of the primary key and answers them as one comma-joined
 * value, so a list of 100,000 costs three statements and no row object (nor
 * string) per number; E164Set reads the pages as they are. E.164 numbers
 * are "+" and digits, so a comma never occurs in one.
 */
export async function dncListPages(db: D1Database, workspaceId: string, max: number, page = DNC_LIST_PAGE): Promise<DncListPages | null> {
  const pages: string[] = [];
  let count = 0;
  for (let after = ""; ; ) {
    const limit = Math.min(page, max + 1 - count);
    const row = await db
      .prepare(
        `SELECT group_concat(phone_number, ',') AS numbers
         FROM (SELECT phone_number FROM dnc WHERE workspace_id = ?1 AND phone_number > ?2 ORDER BY phone_number LIMIT ?3)`,
      )
      .bind(workspaceId, after, limit)
      .first<{ numbers: string | null }>();
    const text = row?.numbers;
    if (!text) return { pages, count };
    // The page's count and last key are read off its text (no comma occurs in a number; no
    // aggregate beside group_concat, whose walk is most of the statement's cost).
    const n = commas(text) + 1;
    pages.push(text);
    count += n;
    if (count > max) return null;
    if (n < limit) return { pages, count };
    // The last number joined is the page's greatest, as SQLite concatenates in the subquery's
    // order. Were it not, any number of the page still skips none: the next page would only
    // repeat some (a set keeps one of each; the count, high, at worst sends the caller to lookups).
    after = text.slice(text.lastIndexOf(",") + 1);
  }
}

/** Commas in `text`. */
function commas(text: string): number {
  let n = 0;
  for (let i = text.indexOf(","); i >= 0; i = text.indexOf(",", i + 1)) n++;
  return n;
}

/** Which of `phones` are on the workspace's do-not-call list: one query for a whole dispatch slice. */
export async function dncAmong(db: D1Database, workspaceId: string, phones: string[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  const { results } = await db
    .prepare("SELECT phone_number FROM dnc WHERE workspace_id = ?1 AND phone_number IN (SELECT value FROM json_each(?2))")
    .bind(workspaceId, JSON.stringify(phones))
    .all<{ phone_number: string }>();
  return new Set(results.map((r) => r.phone_number));
}
