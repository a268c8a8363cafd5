import type { Agent } from "../schemas/agent";
import type { DeclaredResults } from "../domain/agent-result";
import type { Provider } from "../domain/vocabulary";
import { callerIdOf, numbersFreeSql, poolRead, poolsByAgent, poolsRead, poolWrites } from "./agent-numbers.repo";

export type AgentRow = {
  id: string;
  workspace_id: string;
  name: string;
  provider: Provider;
  /** The pool's first number (agent_numbers holds the pool), or null when it has none. */
  from_number: string | null;
  /** The pool's caller-id rules (JSON of CallerId), or null: round-robin, no per-number limit. */
  caller_id: string | null;
  voice_url: string | null;
  dial_url: string | null;
  /** The results its calls report (JSON of DeclaredResults), or null: any. */
  result_schema: string | null;
  /** 1: a twilio agent's calls are recorded. */
  record: number;
  created_at: string;
  deleted_at: string | null;
  /** The current signing secret, encrypted (never returned by the API after creation/rotation); null for an agent made before every agent had one. */
  signing_secret_enc: string | null;
  /** The secret before the last rotation, encrypted; it verifies until previous_secret_expires_at (ISO). */
  previous_secret_enc: string | null;
  previous_secret_expires_at: string | null;
};

/** What signing, verifying and checking an agent's reports need to know about it; read whether or not it was deleted. */
export type AgentKeys = Pick<AgentRow, "id" | "provider" | "signing_secret_enc" | "previous_secret_enc" | "previous_secret_expires_at" | "result_schema">;

const KEY_COLUMNS = "a.id, a.provider, a.signing_secret_enc, a.previous_secret_enc, a.previous_secret_expires_at, a.result_schema";

/** An agent's declared results from their stored JSON (written only by this service, after validation). */
export function declaredResultsOf(text: string | null): DeclaredResults | null {
  return text === null ? null : (JSON.parse(text) as DeclaredResults);
}

/** The agent as the API shows it, with its pool's numbers in order. */
export function toAgent(row: AgentRow, numbers: string[]): Agent {
  return {
    agentId: row.id,
    name: row.name,
    provider: row.provider,
    fromNumber: row.from_number,
    fromNumbers: numbers,
    callerId: callerIdOf(row.caller_id),
    voiceUrl: row.voice_url,
    dialUrl: row.dial_url,
    resultSchema: declaredResultsOf(row.result_schema),
    record: row.record === 1,
    createdAt: row.created_at,
  };
}

export type NewAgentRow = Omit<AgentRow, "deleted_at" | "previous_secret_enc" | "previous_secret_expires_at">;

/**
 * Creates the agent and its pool in one batch (one transaction). False,
 * and nothing written, when a number of the pool belongs to another
 * workspace by the time the batch runs.
 */
export async function insertAgent(db: D1Database, row: NewAgentRow, numbers: string[]): Promise<boolean> {
  const [inserted] = await db.batch([
    db
      .prepare(
        `INSERT INTO agents (id, workspace_id, name, provider, from_number, voice_url, dial_url, created_at, signing_secret_enc, result_schema, record, caller_id)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 WHERE ${numbersFreeSql("?13", "?2")}`,
      )
      .bind(
        row.id,
        row.workspace_id,
        row.name,
        row.provider,
        row.from_number,
        row.voice_url,
        row.dial_url,
        row.created_at,
        row.signing_secret_enc,
        row.result_schema,
        row.record,
        row.caller_id,
        JSON.stringify(numbers),
      ),
    ...(numbers.length > 0 ? poolWrites(db, row.workspace_id, row.id, numbers) : []),
  ]);
  return (inserted?.meta.changes ?? 0) === 1;
}

/** What PATCH may change: never the provider, the secrets or the dates. */
export type AgentChanges = Partial<Pick<AgentRow, "name" | "from_number" | "caller_id" | "voice_url" | "dial_url" | "result_schema" | "record">>;
const CHANGEABLE = ["name", "from_number", "caller_id", "voice_url", "dial_url", "result_schema", "record"] as const;

/** An agent with its pool's numbers in order. */
export type AgentWithPool = { row: AgentRow; numbers: string[] };

/**
 * Changes a live agent of the workspace and, when `pool` is given, makes
 * that its pool (from_number its first number), all in one batch; returns
 * the agent as it now is. Null when there is no such agent, or when a
 * number of `pool` belongs to another workspace by the time the batch runs
 * (then nothing changed).
 */
export async function updateAgent(
  db: D1Database,
  workspaceId: string,
  id: string,
  changes: AgentChanges,
  pool: string[] | undefined,
): Promise<AgentWithPool | null> {
  const all: AgentChanges = pool === undefined ? changes : { ...changes, from_number: pool[0] ?? null };
  const columns = CHANGEABLE.filter((c) => all[c] !== undefined);
  if (columns.length === 0) return getAgentWithPool(db, workspaceId, id);
  const sets = columns.map((c, i) => `${c} = ?${i + 4}`).join(", ");
  const free = pool === undefined ? "" : ` AND ${numbersFreeSql("?3", "?2")}`;
  const results = await db.batch([
    ...(pool === undefined ? [] : poolWrites(db, workspaceId, id, pool)),
    db
      .prepare(`UPDATE agents SET ${sets} WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL${free} RETURNING *`)
      .bind(id, workspaceId, JSON.stringify(pool ?? []), ...columns.map((c) => all[c])),
    poolRead(db, workspaceId, id),
  ]);
  const row = results.at(-2)?.results[0] as AgentRow | undefined;
  if (!row) return null;
  return { row, numbers: ((results.at(-1)?.results ?? []) as { e164: string }[]).map((n) => n.e164) };
}

export async function getAgent(db: D1Database, workspaceId: string, id: string): Promise<AgentRow | null> {
  return db.prepare("SELECT * FROM agents WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL").bind(id, workspaceId).first<AgentRow>();
}

/** A live agent of the workspace with its pool, read together; null when there is no such agent. */
export async function getAgentWithPool(db: D1Database, workspaceId: string, id: string): Promise<AgentWithPool | null> {
  const [agent, numbers] = await db.batch([
    db.prepare("SELECT * FROM agents WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL").bind(id, workspaceId),
    poolRead(db, workspaceId, id),
  ]);
  const row = agent?.results[0] as AgentRow | undefined;
  return row ? { row, numbers: ((numbers?.results ?? []) as { e164: string }[]).map((n) => n.e164) } : null;
}

/** The workspace's live agents, newest first, each with its pool: two queries in one round trip, however many agents. */
export async function listAgents(db: D1Database, workspaceId: string): Promise<AgentWithPool[]> {
  const [agents, numbers] = await db.batch([
    db.prepare("SELECT * FROM agents WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC").bind(workspaceId),
    poolsRead(db, workspaceId),
  ]);
  const pools = poolsByAgent((numbers?.results ?? []) as { agent_id: string; e164: string }[]);
  return ((agents?.results ?? []) as AgentRow[]).map((row) => ({ row, numbers: pools.get(row.id) ?? [] }));
}

/** Soft delete: batches keep pointing at the agent they were started with. */
export async function deleteAgent(db: D1Database, workspaceId: string, id: string, at: string): Promise<boolean> {
  const row = await db
    .prepare("UPDATE agents SET deleted_at = ?3 WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL RETURNING id")
    .bind(id, workspaceId, at)
    .first<{ id: string }>();
  return row !== null;
}

/**
 * Rotates an agent's signing secret: the current one becomes the previous,
 * verifying until `previousExpiresAt`. A secret already in its grace period
 * is dropped by a second rotation (only one previous is kept); an agent
 * without a secret gets its first. False when the workspace has no such live agent.
 */
export async function rotateAgentSecret(db: D1Database, workspaceId: string, id: string, secretEnc: string, previousExpiresAt: string): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE agents SET previous_secret_enc = signing_secret_enc,
         previous_secret_expires_at = CASE WHEN signing_secret_enc IS NULL THEN NULL ELSE ?4 END,
         signing_secret_enc = ?3
       WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL RETURNING id`,
    )
    .bind(id, workspaceId, secretEnc, previousExpiresAt)
    .first<{ id: string }>();
  return row !== null;
}

/** An agent's keys by id, deleted or not: a batch started before the deletion still dials and reports through it. */
export async function getAgentKeys(db: D1Database, id: string): Promise<AgentKeys | null> {
  return db.prepare(`SELECT ${KEY_COLUMNS} FROM agents a WHERE a.id = ?1`).bind(id).first<AgentKeys>();
}

/** The agent a batch was started with (deleted or not), or null for an unknown batch. */
export async function getBatchAgentKeys(db: D1Database, batchId: string): Promise<AgentKeys | null> {
  return db
    .prepare(
      `SELECT ${KEY_COLUMNS}
       FROM batches b JOIN agents a ON a.id = b.agent_id AND a.workspace_id = b.workspace_id
       WHERE b.id = ?1`,
    )
    .bind(batchId)
    .first<AgentKeys>();
}
