/**
 * Whether the runtime knows this IANA time zone name (e.g. "America/New_York"),
 * or UTC offset where it accepts them. Asks Intl: 30–170 µs a call.
 */
export function isIanaTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/*
 * A CSV names a time zone on every row, and asking Intl costs tens of µs
 * each time (a refusal too): a file of distinct junk zones could cost
 * minutes. TimeZoneReader gives Intl's answers while asking it a bounded
 * number of times per file, because what Intl accepts is a closed set:
 * - the canonical names, Intl.supportedValuesOf("timeZone") (418 in
 *   workerd and Node today), accepted without asking;
 * - the other names ICU accepts (TIME_ZONE_LINKS: tz links, ICU's legacy and Java
 *   three-letter IDs), asked once per file each;
 * - UTC offsets (±HH, ±HHMM, ±HH:MM with hours 00–23 and minutes 00–59,
 *   ECMA-402's grammar): workerd accepts every one, Node 20 none, so one
 *   is asked per file for each sign and form;
 * all in any case (Intl matches names case-insensitively). Anything else
 * is refused without asking, except a name under a known area (`America/…`)
 * that is not listed: a tz release may add links before TIME_ZONE_LINKS lists them,
 * so up to UNLISTED_LOOKUPS of those per file are still asked.
 */

/** What a time zone can look like: names, links and offsets are short and spelled with these characters only. */
const SHAPE = /^[A-Za-z0-9/_+:.\u2212-]{1,64}$/;
/** ECMA-402's UTC offset time zones: sign, hours 00–23, optionally minutes 00–59 with or without a colon. */
const OFFSET = /^[+\-\u2212](?:[01]\d|2[0-3])(?::?[0-5]\d)?$/;

/**
 * The names workerd (1.20260426) and Node 20 accept that
 * Intl.supportedValuesOf("timeZone") does not list: read off their ICU
 * data, each checked against Intl. `Factory` is workerd's only (Node
 * refuses it; it is asked, so each runtime gives its own answer).
 */
export const TIME_ZONE_LINKS: readonly string[] = `
  ACT AET Africa/Asmara Africa/Timbuktu AGT America/Argentina/Buenos_Aires America/Argentina/Catamarca
  America/Argentina/ComodRivadavia America/Argentina/Cordoba America/Argentina/Jujuy
  America/Argentina/Mendoza America/Atikokan America/Atka America/Ensenada America/Fort_Wayne
  America/Indiana/Indianapolis America/Kentucky/Louisville America/Knox_IN America/Montreal
  America/Nipigon America/Nuuk America/Pangnirtung America/Porto_Acre America/Rainy_River
  America/Rosario America/Santa_Isabel America/Shiprock America/Thunder_Bay America/Virgin
  America/Yellowknife Antarctica/South_Pole ART Asia/Ashkhabad Asia/Choibalsan Asia/Chongqing
  Asia/Chungking Asia/Dacca Asia/Harbin Asia/Ho_Chi_Minh Asia/Istanbul Asia/Kashgar Asia/Kathmandu
  Asia/Kolkata Asia/Macao Asia/Tel_Aviv Asia/Thimbu Asia/Ujung_Pandang Asia/Ulan_Bator Asia/Yangon AST
  Atlantic/Faroe Atlantic/Jan_Mayen Australia/ACT Australia/Canberra Australia/Currie Australia/LHI
  Australia/North Australia/NSW Australia/Queensland Australia/South Australia/Tasmania
  Australia/Victoria Australia/West Australia/Yancowinna BET Brazil/Acre Brazil/DeNoronha Brazil/East
  Brazil/West BST Canada/Atlantic Canada/Central Canada/East-Saskatchewan Canada/Eastern
  Canada/Mountain Canada/Newfoundland Canada/Pacific Canada/Saskatchewan Canada/Yukon CAT CET
  Chile/Continental Chile/EasterIsland CNT CST CST6CDT CTT Cuba EAT ECT EET Egypt Eire EST EST5EDT
  Etc/GMT Etc/GMT-0 Etc/GMT-1 Etc/GMT-10 Etc/GMT-11 Etc/GMT-12 Etc/GMT-13 Etc/GMT-14 Etc/GMT-2
  Etc/GMT-3 Etc/GMT-4 Etc/GMT-5 Etc/GMT-6 Etc/GMT-7 Etc/GMT-8 Etc/GMT-9 Etc/GMT+0 Etc/GMT+1 Etc/GMT+10
  Etc/GMT+11 Etc/GMT+12 Etc/GMT+2 Etc/GMT+3 Etc/GMT+4 Etc/GMT+5 Etc/GMT+6 Etc/GMT+7 Etc/GMT+8
  Etc/GMT+9 Etc/GMT0 Etc/Greenwich Etc/UCT Etc/Universal Etc/UTC Etc/Zulu Europe/Belfast Europe/Kyiv
  Europe/Nicosia Europe/Tiraspol Europe/Uzhgorod Europe/Zaporozhye Factory GB GB-Eire GMT GMT-0 GMT+0
  GMT0 Greenwich Hongkong HST Iceland IET Iran Israel IST Jamaica Japan JST Kwajalein Libya MET
  Mexico/BajaNorte Mexico/BajaSur Mexico/General MIT MST MST7MDT Navajo NET NST NZ NZ-CHAT
  Pacific/Chuuk Pacific/Johnston Pacific/Kanton Pacific/Pohnpei Pacific/Samoa Pacific/Yap PLT PNT
  Poland Portugal PRC PRT PST PST8PDT ROC ROK Singapore SST SystemV/AST4 SystemV/AST4ADT SystemV/CST6
  SystemV/CST6CDT SystemV/EST5 SystemV/EST5EDT SystemV/HST10 SystemV/MST7 SystemV/MST7MDT SystemV/PST8
  SystemV/PST8PDT SystemV/YST9 SystemV/YST9YDT Turkey UCT Universal US/Alaska US/Aleutian US/Arizona
  US/Central US/East-Indiana US/Eastern US/Hawaii US/Indiana-Starke US/Michigan US/Mountain US/Pacific
  US/Pacific-New US/Samoa UTC VST W-SU WET Zulu
`
  .trim()
  .split(/\s+/);

/** Unlisted names under a known area that one file may have Intl asked about. */
export const UNLISTED_LOOKUPS = 64;

type Catalogue = { canonical: Set<string>; listed: Set<string>; areas: Set<string> };
let catalogue: Catalogue | undefined;

/** Lower-cased: the canonical names, the listed ones, and the areas (`america`, `etc`, `us`, …). Built once per isolate. */
function known(): Catalogue {
  if (catalogue) return catalogue;
  const canonical = new Set(Intl.supportedValuesOf("timeZone").map((z) => z.toLowerCase()));
  const listed = new Set(TIME_ZONE_LINKS.map((z) => z.toLowerCase()).filter((z) => !canonical.has(z)));
  const areas = new Set([...canonical, ...listed].filter((z) => z.includes("/")).map((z) => z.slice(0, z.indexOf("/"))));
  catalogue = { canonical, listed, areas };
  return catalogue;
}

/**
 * isIanaTimeZone for one file, asking Intl at most once per listed name,
 * once per offset form (sign and ±HH / ±HHMM / ±HH:MM) and
 * UNLISTED_LOOKUPS times for other names under a known area: about 300
 * lookups, ~30 ms, whatever the file holds.
 */
export class TimeZoneReader {
  /** Intl's answers in this file, by lower-cased name or by offset form. */
  private readonly answers = new Map<string, boolean>();
  private unlisted = 0;

  /** Same answer as isIanaTimeZone(tz), for a listed name, canonical name or offset; see the class for the rest. */
  read(tz: string): boolean {
    const cheap = this.readIfCheap(tz);
    if (cheap !== undefined) return cheap;
    const key = this.keyOf(tz);
    const ok = isIanaTimeZone(tz);
    this.answers.set(key, ok);
    if (key.includes("/") && !known().listed.has(key)) this.unlisted++;
    return ok;
  }

  /** read(tz) when it needs no Intl lookup; undefined otherwise. */
  readIfCheap(tz: string): boolean | undefined {
    if (!SHAPE.test(tz)) return false;
    const { canonical, listed, areas } = known();
    const key = this.keyOf(tz);
    if (canonical.has(key)) return true;
    const answer = this.answers.get(key);
    if (answer !== undefined) return answer;
    if (listed.has(key) || OFFSET.test(tz)) return undefined;
    const slash = key.indexOf("/");
    if (slash > 0 && areas.has(key.slice(0, slash)) && this.unlisted < UNLISTED_LOOKUPS) return undefined;
    return false;
  }

  /** A name in lower case; an offset by its sign and form (`+ hh`, `− hh:mm`, …: a space, which no name holds). */
  private keyOf(tz: string): string {
    if (!OFFSET.test(tz)) return tz.toLowerCase();
    return `${tz[0]} ${tz.length === 3 ? "hh" : tz.length === 5 ? "hhmm" : "hh:mm"}`;
  }
}
