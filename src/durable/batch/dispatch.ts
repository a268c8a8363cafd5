import type { Candidate } from "../../db/call-ledger";
import { dncAmong } from "../../db/dnc.repo";
import type { WorkspaceEngineInfo } from "../../db/workspace.repo";
import { ADMIT_MIN, admissionRoom, allowanceFor, ownJobsSlow, queueBusy, queueCongested } from "../../domain/admission";
import { nextOpening } from "../../domain/calling-window";
import { countryOf } from "../../domain/phone";
import { engineConfig, MAX_SLICE, POKE_COALESCE_MS } from "../../engine-config";
import { leaseId } from "../../lib/lease";
import type { BatchContext } from "./context";
import type { AttemptRef, BatchConfig, SchedulerState } from "./contract";
import { flushOutbox } from "./effects";

export type DispatchResult = { moreDue: boolean; retryAfterMs: number; sent: number };

/** A batch whose allowance is on the queue looks again this soon (its claims free room). */
const ADMIT_RETRY_MS = 50;

/** A view of the shared queue this recent is used as it is; an older one is asked again. */
const QUEUE_VIEW_MS = 100;

/**
 * How many more jobs the batch may hand to the shared queue now
 * (domain/admission): only what will be taken off it soon, so it never holds
 * minutes of one batch's work. Beyond the floor, the queue's own view
 * decides too: before its first claim a batch admits a slice only while the
 * queue is not busy, and after it nothing beyond the floor while the
 * queue's oldest job has waited past the target and its own latest claims
 * were slow.
 * Asked only when the answer could matter (room beyond the floor, its own
 * jobs slow), and at most every QUEUE_VIEW_MS: a send's own answer counts
 * as asking.
 */
async function admission(c: BatchContext, now: number): Promise<number> {
  const perSecond = c.claims.perSecond(now);
  const inFlight = c.ledger.inFlight.count();
  const room = admissionRoom(allowanceFor(perSecond), inFlight);
  const floor = admissionRoom(ADMIT_MIN, inFlight);
  if (room <= floor) return room;
  // Its own jobs flow: nothing to ask.
  const ownWait = c.claims.lastWait(now);
  if (perSecond !== null && !ownJobsSlow(ownWait)) return room;
  let seen = c.queueSeen;
  if (!seen || now - seen.at >= QUEUE_VIEW_MS) {
    seen = { backlog: (await c.ports.queue.metrics?.().catch(() => null)) ?? null, at: now };
    c.queueSeen = seen;
  }
  const held = perSecond === null ? queueBusy(seen.backlog, now) : queueCongested(seen.backlog, now, ownWait);
  return held ? floor : room;
}

/**
 * One slice of due calls: picked (callbacks first, then first attempts in
 * file order), kept inside the calling window and off the do-not-call
 * list, granted capacity by the workspace's limiter, and handed to the
 * queue through the outbox.
 */
export async function dispatch(c: BatchContext, state: SchedulerState, now: number): Promise<DispatchResult> {
  const ws = await c.workspace(state);
  if (!ws) return { moreDue: false, retryAfterMs: 0, sent: 0 };
  const config = await c.config();
  const room = await admission(c, now);
  if (room === 0) return { moreDue: true, retryAfterMs: ADMIT_RETRY_MS, sent: 0 };
  const want = Math.min(MAX_SLICE, Math.max(1, ws.callsPerSecond * 2), ws.maxConcurrentCalls, room);
  const { callbacks, firsts } = c.ledger.dueCandidates(now, state.cursor, want, config.callingWindow ? config.columns.indexOf("timezone") : -1);
  const more = callbacks.length + firsts.length >= want;
  const due = [...callbacks, ...firsts].slice(0, want);
  const pickedFirsts = firsts.filter((f) => due.includes(f));
  const picked = await withoutDnc(c, state, ws, insideWindow(c, config, ws, due, now), now);
  if (picked.length === 0) {
    await advanceCursor(c, pickedFirsts, null);
    return { moreDue: more, retryAfterMs: 1000, sent: 0 };
  }

  const jobs = picked.map((p) => ({ seq: p.seq, attempt: p.attempts + 1, to: p.several ? p.to : null, phone: p.to }));
  const lease = (j: AttemptRef) => leaseId(state.batchId, j.seq, j.attempt);
  const released = c.ledger.releases.list(state.batchId);
  const grant = await c.env.WORKSPACE_LIMITER.getByName(state.workspaceId).reserve({
    batchId: state.batchId,
    leaseIds: jobs.map(lease),
    batchCap: config.maxConcurrentCalls,
    limits: { callsPerSecond: ws.callsPerSecond, maxConcurrentCalls: ws.maxConcurrentCalls - ws.reservedConcurrency },
    reserveTtlMs: engineConfig(c.env).reserveTtlMs,
    release: released.leases,
    ended: released.ended,
    answered: released.answered,
    phones: jobs.map((j) => j.phone),
    contactPolicy: ws.contactPolicy,
    pool: { workspaceId: state.workspaceId, agentId: config.agent.id },
  });
  c.ledger.releases.clear(released);
  // Numbers the contact policy will not let be called yet wait until they may (never fail for it).
  const held = new Map((grant.held ?? []).map((h) => [h.leaseId, h]));
  c.ledger.deferCalls(jobs.flatMap((j) => (held.has(lease(j)) ? [{ seq: j.seq, dueAt: held.get(lease(j))!.until, reason: "contact_policy" }] : [])));
  const granted = new Set(grant.granted);
  const chosen = jobs.filter((j) => granted.has(lease(j)));
  const firstRefused = jobs.find((j) => !granted.has(lease(j)) && !held.has(lease(j)) && pickedFirsts.some((f) => f.seq === j.seq));
  await advanceCursor(c, pickedFirsts, firstRefused?.seq ?? null);
  if (chosen.length > 0) {
    // Marked and written to the outbox in one step: if this tick dies now, the next one sends these.
    const marked = new Set(c.ledger.markDispatched(chosen, now).map((j) => j.seq));
    c.ledger.releases.add(chosen.filter((j) => !marked.has(j.seq)).map(lease));
    await flushOutbox(c);
  }
  // Everything asked for was granted and more is due: look again as soon as pokes would.
  const refused = jobs.length - chosen.length - held.size;
  return {
    moreDue: more || refused > 0,
    retryAfterMs: refused > 0 ? grant.retryAfterMs : POKE_COALESCE_MS,
    sent: chosen.length,
  };
}

/** A due call with the number its next attempt calls: the recipient's numbers are taken in turn, one per attempt. */
type Pick = Candidate & { to: string; several: boolean };

function numbersOf(p: Candidate): string[] {
  return p.numbers ? (JSON.parse(p.numbers) as string[]) : [p.phone];
}

/** The number attempt `attempts + 1` calls: the next in turn, passing over those in `blocked`; null when all are. */
function nextNumber(p: Candidate, blocked: ReadonlySet<string>): string | null {
  const list = numbersOf(p);
  for (let i = 0; i < list.length; i++) {
    const n = list[(p.attempts + i) % list.length]!;
    if (!blocked.has(n)) return n;
  }
  return null;
}

/** The candidates whose calling window is open now; the others are deferred to its next opening. */
function insideWindow(c: BatchContext, config: BatchConfig, ws: WorkspaceEngineInfo, picked: Candidate[], now: number): Candidate[] {
  const window = config.callingWindow;
  if (!window) return picked;
  const closed: { seq: number; dueAt: number; reason: string }[] = [];
  const open = picked.filter((p) => {
    const tz = window.timezone === "recipient" ? p.tz || ws.timezone || "UTC" : window.timezone;
    const opens = nextOpening(window, tz, now, window.overrides ? countryOf(p.phone) : null);
    if (opens > now) closed.push({ seq: p.seq, dueAt: opens, reason: "calling_window" });
    return opens <= now;
  });
  c.ledger.deferCalls(closed);
  return open;
}

/**
 * Each candidate's number for this attempt, off the do-not-call list, which
 * may have grown since intake: one query for all the slice's numbers. A
 * listed number is passed over for the recipient's next one; a recipient
 * whose every number is listed is closed. A workspace whose list was empty
 * at the last refresh is not asked: numbers added since were pushed to its
 * live batches (suppress) when they were added.
 */
async function withoutDnc(c: BatchContext, state: SchedulerState, ws: WorkspaceEngineInfo, picked: Candidate[], now: number): Promise<Pick[]> {
  const blocked = picked.length > 0 && ws.hasDnc ? await dncAmong(c.env.DB, state.workspaceId, [...new Set(picked.flatMap(numbersOf))]) : new Set<string>();
  const out: Pick[] = [];
  for (const p of picked) {
    const to = nextNumber(p, blocked);
    if (to === null) c.ledger.closeWaiting(p.seq, p.attempts, "on the do-not-call list", now);
    else out.push({ ...p, to, several: p.numbers !== null });
  }
  return out;
}

/**
 * Moves the first-attempt cursor past the first attempts this tick looked
 * at (sent, deferred or suppressed), but not past one the limiter refused:
 * that one is looked at again next time.
 */
async function advanceCursor(c: BatchContext, looked: Candidate[], refusedSeq: number | null): Promise<void> {
  const last = looked.at(-1);
  if (!last) return;
  await c.patchState({ cursor: refusedSeq ?? last.seq + 1 });
}
