/**
 * A deterministic, realistic batch CSV built in memory: unique valid phone
 * numbers in the formats people paste (mostly US, some UK), the known columns
 * plus three custom ones, and a few percent of quoted fields with commas,
 * doubled quotes and the odd embedded newline. Row lengths are steered so the
 * file lands just under the upload limit whatever the random draws were.
 */

export const HEADER = "phone_number,first_name,last_name,email,timezone,plan,account_id,notes";
export const UPLOAD_LIMIT_BYTES = 20 * 1024 * 1024;

export type CsvOptions = {
  rows?: number;
  /** Size to aim for; the result is always at most `maxBytes`. */
  targetBytes?: number;
  maxBytes?: number;
  seed?: number;
};

export type GeneratedCsv = {
  text: string;
  /** UTF-8 length of `text`. */
  bytes: number;
  /** Data rows (records), not lines: some notes span two lines. */
  rows: number;
  /** The phone cell of every row, as written. */
  phones: string[];
};

/** mulberry32: small, fast, and the same sequence in every runtime. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// [as written, ASCII form for the email address]
const FIRST: [string, string][] = [
  ["James", "james"],
  ["Mary", "mary"],
  ["Robert", "robert"],
  ["Patricia", "patricia"],
  ["John", "john"],
  ["Jennifer", "jennifer"],
  ["Michael", "michael"],
  ["Linda", "linda"],
  ["David", "david"],
  ["Elizabeth", "elizabeth"],
  ["William", "william"],
  ["Barbara", "barbara"],
  ["Richard", "richard"],
  ["Susan", "susan"],
  ["Joseph", "joseph"],
  ["Jessica", "jessica"],
  ["Thomas", "thomas"],
  ["Sarah", "sarah"],
  ["Priya", "priya"],
  ["Wei", "wei"],
  ["Aisha", "aisha"],
  ["Mateo", "mateo"],
  ["Olivia", "olivia"],
  ["Noah", "noah"],
  ["Fatima", "fatima"],
  ["José", "jose"],
  ["Zoë", "zoe"],
  ["Renée", "renee"],
  ["Björn", "bjorn"],
  ["Siobhán", "siobhan"],
];
const LAST: [string, string][] = [
  ["Smith", "smith"],
  ["Johnson", "johnson"],
  ["Williams", "williams"],
  ["Brown", "brown"],
  ["Jones", "jones"],
  ["Garcia", "garcia"],
  ["Miller", "miller"],
  ["Davis", "davis"],
  ["Rodriguez", "rodriguez"],
  ["Martinez", "martinez"],
  ["Hernandez", "hernandez"],
  ["Lopez", "lopez"],
  ["Gonzalez", "gonzalez"],
  ["Wilson", "wilson"],
  ["Anderson", "anderson"],
  ["Thomas", "thomas"],
  ["Taylor", "taylor"],
  ["Moore", "moore"],
  ["Jackson", "jackson"],
  ["Martin", "martin"],
  ["Lee", "lee"],
  ["Nguyen", "nguyen"],
  ["Patel", "patel"],
  ["O'Brien", "obrien"],
  ["Kowalski", "kowalski"],
  ["Müller", "muller"],
  ["Ramírez", "ramirez"],
  ["Chen", "chen"],
  ["Okafor", "okafor"],
  ["Fitzgerald", "fitzgerald"],
];
const PLANS = ["free", "starter", "pro", "business", "enterprise"];
const WORDS = (
  "interested in annual plan follow up next week asked about pricing prefers mornings renewal due " +
  "spoke with assistant trial ends soon wants demo call back after lunch referred by partner upgrade " +
  "candidate busy at work do not call before nine left message on machine send brochure first"
).split(" ");

// Area codes and exchanges (2xx-9xx) that libphonenumber's metadata accepts.
const US_AREAS = ["212", "415", "646", "303", "617"];
const US_EXCHANGES = 800;
const US_SPACE = US_AREAS.length * US_EXCHANGES * 10_000;
// Odd and not a multiple of 5, so i → i·STRIDE mod space (both spaces are
// 2^a·5^b) is a bijection: unique numbers without a seen-set. Knuth's
// multiplier spreads consecutive rows across areas and exchanges, and
// i·STRIDE stays below 2^53 for any row count used here.
const STRIDE = 2_654_435_761;
const UK_SHARE = 0.03;

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function usPhone(i: number, style: number): string {
  const k = (i * STRIDE + 12_345) % US_SPACE;
  const area = US_AREAS[Math.floor(k / (US_EXCHANGES * 10_000))]!;
  const exchange = String(200 + (Math.floor(k / 10_000) % US_EXCHANGES));
  const line = pad(k % 10_000, 4);
  switch (style) {
    case 0:
      return `+1 ${area} ${exchange} ${line}`;
    case 1:
      return `(${area}) ${exchange}-${line}`;
    case 2:
      return `${area}-${exchange}-${line}`;
    default:
      return `+1${area}${exchange}${line}`;
  }
}

/** The Ofcom drama range 020 7946 0xxx first, then 020 3xxx xxxx. */
function ukPhone(j: number, compact: boolean): string {
  const [block, rest] =
    j < 1000
      ? ["7946", `0${pad(j, 3)}`]
      : (() => {
          const k = pad((j * STRIDE) % 10_000_000, 7);
          return [`3${k.slice(0, 3)}`, k.slice(3)];
        })();
  return compact ? `+4420${block}${rest}` : `+44 20 ${block} ${rest}`;
}

function quote(field: string): string {
  return `"${field.replaceAll('"', '""')}"`;
}

function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 ? 2 : 1; // no astral characters are generated
  }
  return n;
}

export function generateCsv(options: CsvOptions = {}): GeneratedCsv {
  const rows = options.rows ?? 200_000;
  const maxBytes = options.maxBytes ?? UPLOAD_LIMIT_BYTES;
  const targetBytes = Math.min(options.targetBytes ?? 20_900_000, maxBytes);
  const rand = prng(options.seed ?? 20_240_601);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

  const lines: string[] = [HEADER];
  const phones: string[] = [];
  let bytes = HEADER.length + 1;
  let us = 0;
  let uk = 0;

  const words = (length: number): string => {
    let s = "";
    while (s.length < length) s += (s ? " " : "") + pick(WORDS);
    return s;
  };

  for (let i = 0; i < rows; i++) {
    const phone = rand() < UK_SHARE ? ukPhone(uk++, rand() < 0.5) : usPhone(us++, Math.floor(rand() * 4));
    phones.push(phone);
    const [first, firstAscii] = pick(FIRST);
    const [last, lastAscii] = pick(LAST);
    const lastCell = rand() < 0.005 ? quote(`${last}, Jr.`) : last;
    const email = rand() < 0.05 ? "" : `${firstAscii}.${lastAscii.replace("'", "")}${1 + Math.floor(rand() * 999)}@example.com`;
    const timezone = rand() < 0.5 ? "" : "America/New_York";
    const head = `${phone},${first},${lastCell},${email},${timezone},${pick(PLANS)},ACC-${pad(100_000 + i, 7)},`;

    // Whatever is left of the budget, spread over the rows still to come.
    const share = Math.floor((targetBytes - bytes) / (rows - i));
    const noteLength = Math.max(0, share - utf8Length(head) - 1 + Math.floor(rand() * 17) - 8);
    const kind = rand();
    let notes: string;
    if (kind < 0.02) notes = quote(`${words(Math.max(4, noteLength - 14))}, then called back`);
    else if (kind < 0.035) notes = quote(`asked for "priority" ${words(Math.max(4, noteLength - 25))}`);
    else if (kind < 0.037) notes = quote(`${words(Math.max(4, noteLength / 2 - 2))}\n${words(Math.max(4, noteLength / 2 - 2))}`);
    else notes = noteLength === 0 ? "" : words(noteLength).slice(0, noteLength).trimEnd();

    const line = head + notes;
    lines.push(line);
    bytes += utf8Length(line) + 1;
  }

  const text = `${lines.join("\n")}\n`;
  if (bytes > maxBytes) throw new Error(`generated ${bytes} bytes, over the ${maxBytes}-byte limit`);
  return { text, bytes, rows, phones };
}
