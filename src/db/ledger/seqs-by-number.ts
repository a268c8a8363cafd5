import { one } from "./rows";

/**
 * Which calls give a number (as phone_number or among `numbers`), held in
 * the object's memory: a cancel by number (an opt-out heard on a call, a
 * number added to the do-not-call list) then updates those few rows by key
 * instead of walking the whole ledger twice — which cost rows read per call
 * growing with the batch (6,060 per call at 12,000 calls with an opt-out in
 * 4), and no index (a row written per call) is needed. Built by one walk
 * when first asked, then extended by the rows added since: calls are only
 * ever inserted with seqs past every existing one (materialisation in file
 * order, appended rows after them), so the greatest seq says what is new.
 * A row's numbers never change; its status is checked by the cancel itself.
 */
export class SeqsByNumber {
  /** A number's seq, or its seqs when several rows give it (rare: only phone_number is de-duplicated). */
  private readonly seqs = new Map<string, number | number[]>();
  private through = -1;

  constructor(private readonly sql: SqlStorage) {}

  /** The seqs of the calls that give any of `phones`, ascending, each once. */
  of(phones: string[]): number[] {
    this.catchUp();
    const found = new Set<number>();
    for (const phone of phones) {
      const held = this.seqs.get(phone);
      if (held === undefined) continue;
      if (typeof held === "number") found.add(held);
      else for (const s of held) found.add(s);
    }
    return [...found].sort((a, b) => a - b);
  }

  /** Reads the rows inserted since the last look (all of them, the first time), by key. */
  private catchUp(): void {
    const max = Number(one<{ s: number | null }>(this.sql, "SELECT max(seq) AS s FROM calls")?.s ?? -1);
    if (max <= this.through) return;
    const rows = this.sql.exec<{ seq: number; phone_number: string; numbers: string | null }>(
      "SELECT seq, phone_number, numbers FROM calls WHERE seq > ?1 AND seq <= ?2",
      this.through,
      max,
    );
    for (const row of rows) {
      this.add(row.phone_number, row.seq);
      if (row.numbers) for (const n of JSON.parse(row.numbers) as string[]) if (n !== row.phone_number) this.add(n, row.seq);
    }
    this.through = max;
  }

  private add(phone: string, seq: number): void {
    const held = this.seqs.get(phone);
    if (held === undefined) this.seqs.set(phone, seq);
    else if (typeof held === "number") this.seqs.set(phone, held === seq ? held : [held, seq]);
    else if (!held.includes(seq)) held.push(seq);
  }
}
