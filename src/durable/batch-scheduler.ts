import { DurableObject } from "cloudflare:workers";
import { log } from "../lib/log";

/** What a batch's scheduler keeps in its own storage (it survives eviction; memory does not). */
export type SchedulerState = {
  batchId: string;
  workspaceId: string;
  /** Epoch ms at which the batch is due to start. */
  dueAt: number;
  phase: "armed" | "due";
  dueReachedAt: number | null;
};

export type ArmInput = Pick<SchedulerState, "batchId" | "workspaceId" | "dueAt">;

/**
 * One instance per batch (named by batch id). Intake arms it for the batch's
 * start; its alarm is the batch's clock. Dialling, pacing and callbacks hang
 * off this alarm (the execution engine); here it records that the batch is due.
 */
export class BatchScheduler extends DurableObject<Env> {
  /** Idempotent: arming an armed batch again keeps the first record and alarm. */
  async arm(input: ArmInput): Promise<SchedulerState> {
    const existing = await this.ctx.storage.get<SchedulerState>("state");
    if (existing) return existing;
    const state: SchedulerState = { ...input, phase: "armed", dueReachedAt: null };
    await this.ctx.storage.put("state", state);
    await this.ctx.storage.setAlarm(input.dueAt);
    return state;
  }

  async state(): Promise<SchedulerState | null> {
    return (await this.ctx.storage.get<SchedulerState>("state")) ?? null;
  }

  /** Forgets the batch entirely: used when an upload is rolled back. */
  async discard(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** Safe to run twice: a batch already marked due stays as it was. */
  override async alarm(): Promise<void> {
    const state = await this.ctx.storage.get<SchedulerState>("state");
    if (!state || state.phase !== "armed") return;
    const next: SchedulerState = { ...state, phase: "due", dueReachedAt: Date.now() };
    await this.ctx.storage.put("state", next);
    log("info", "batch.due", { workspaceId: state.workspaceId, batchId: state.batchId, dueAt: state.dueAt });
  }
}
