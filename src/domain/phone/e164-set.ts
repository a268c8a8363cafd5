/** The most digits E.164 allows: 15, so every number is an exact integer in a double (below 2^53). */
const MAX_DIGITS = 15;
const PLUS = 43;
const ZERO = 48;
const NINE = 57;

/** murmur3's finaliser: consecutive numbers (a list of a range) spread over the table instead of crowding one run of it. */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The digits of `text[from, to)` as a number and their hash, when the text
 * is an E.164 number ("+", then 1–15 digits, the first not 0); otherwise
 * -1. Distinct numbers give distinct values: no digit string starts with 0.
 */
function keyOf(text: string, from: number, to: number, out: { hash: number }): number {
  const digits = to - from - 1;
  if (digits < 1 || digits > MAX_DIGITS || text.charCodeAt(from) !== PLUS) return -1;
  let value = 0;
  let h = 0;
  for (let i = from + 1; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE || (c === ZERO && i === from + 1)) return -1;
    value = value * 10 + (c - ZERO);
    h = (Math.imul(h, 31) + c) | 0;
  }
  out.hash = mix(h);
  return value;
}

/**
 * A read-only set of phone numbers in E.164, held in one typed array (open
 * addressing, at most half full): a number costs 16–32 bytes and no object,
 * where a Set<string> holds a string and a hash entry for each. Built straight from
 * comma-joined text, as the do-not-call list is read (dncListPages), so
 * reading a 100,000-number list makes no string per number; `has` reads a
 * number's digits once. Text that is not an E.164 number (none should be)
 * is kept as text beside, so the set answers exactly what a Set<string>
 * of the same values would.
 */
export class E164Set {
  private readonly table: Float64Array;
  private readonly mask: number;
  private readonly other = new Set<string>();
  private readonly key = { hash: 0 };
  size = 0;

  /** A set of the numbers in `texts`, each a comma-joined list; `count` numbers in all (at least; it sizes the table). */
  constructor(texts: readonly string[], count: number) {
    let slots = 2;
    while (slots < 2 * count) slots *= 2;
    this.table = new Float64Array(slots);
    this.mask = slots - 1;
    for (const text of texts) this.addAll(text);
  }

  /** The memory its table holds. */
  get bytes(): number {
    return this.table.byteLength;
  }

  has(phone: string): boolean {
    // keyOf inlined: this runs once per row of an upload.
    const to = phone.length;
    if (to < 2 || to > MAX_DIGITS + 1 || phone.charCodeAt(0) !== PLUS) return this.other.has(phone);
    let value = 0;
    let h = 0;
    for (let i = 1; i < to; i++) {
      const c = phone.charCodeAt(i);
      if (c < ZERO || c > NINE || (c === ZERO && i === 1)) return this.other.has(phone);
      value = value * 10 + (c - ZERO);
      h = (Math.imul(h, 31) + c) | 0;
    }
    const table = this.table;
    const mask = this.mask;
    for (let slot = mix(h) & mask; ; slot = (slot + 1) & mask) {
      const held = table[slot];
      if (held === value) return true;
      if (held === 0) return false;
    }
  }

  private addAll(text: string): void {
    if (text === "") return;
    for (let from = 0; from <= text.length; ) {
      let to = text.indexOf(",", from);
      if (to < 0) to = text.length;
      this.add(text, from, to);
      from = to + 1;
    }
  }

  private add(text: string, from: number, to: number): void {
    const value = keyOf(text, from, to, this.key);
    if (value < 0) {
      const phone = text.slice(from, to);
      if (!this.other.has(phone)) this.size++;
      this.other.add(phone);
      return;
    }
    // One more than `count` numbers would still fit: the table is at least twice `count`.
    if (this.size >= this.mask) throw new Error("E164Set: more numbers than its count");
    for (let slot = this.key.hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const held = this.table[slot];
      if (held === value) return;
      if (held === 0) {
        this.table[slot] = value;
        this.size++;
        return;
      }
    }
  }
}
