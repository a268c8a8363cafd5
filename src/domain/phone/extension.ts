/*
 * Where an extension starts (the library's extension/createExtensionPattern),
 * without its regular expressions: those backtrack on long runs of digits
 * or separators.
 */

/**
 * What a regular expression's `i` flag compares (ECMAScript's Canonicalize
 * without the `u` flag): the upper case of a character, unless that is not
 * one character or would take a non-ASCII character to ASCII.
 */
function canon(code: number): number {
  if (code < 128) return code >= 97 && code <= 122 ? code - 32 : code;
  const upper = String.fromCharCode(code).toUpperCase();
  if (upper.length !== 1) return code;
  const u = upper.charCodeAt(0);
  return code >= 128 && u < 128 ? code : u;
}

/** A run of `min`–`max` characters from `chars`, or one of `words` (compared as Canonicalize does). */
type Segment = { chars: string; min: number; max: number } | { words: number[][]; byLast: Map<number, number[]> };

const run = (chars: string, min: number, max: number): Segment => ({ chars, min, max });
function oneOf(...list: string[]): Segment {
  const words = list.map((w) => Array.from(w, (c) => canon(c.charCodeAt(0))));
  const byLast = new Map<number, number[]>();
  for (const [i, w] of words.entries()) {
    const last = w[w.length - 1]!;
    byLast.set(last, [...(byLast.get(last) ?? []), i]);
  }
  return { words, byLast };
}
const EXT_DIGITS = "0123456789";

/** The explicit extension labels: e?xt(?:ensi(?:o\u0301?|ó))?n? | ｅ?ｘｔｎ? | доб | anexo. */
const EXPLICIT_LABELS = oneOf(
  ...["", "e"].flatMap((e) => ["", "ensio", "ensio\u0301", "ensi\u00F3"].flatMap((mid) => ["", "n"].map((n) => `${e}xt${mid}${n}`))),
  "\uFF58\uFF54",
  "\uFF45\uFF58\uFF54",
  "\uFF58\uFF54\uFF4E",
  "\uFF45\uFF58\uFF54\uFF4E",
  "\u0434\u043E\u0431",
  "anexo",
);
const AFTER_LABEL = run(":.\uFF0E", 0, 1);
const SEPARATORS_AFTER_LABEL = run(" \u00A0\t,-", 0, Infinity);
const HASH = run("#", 0, 1);

/**
 * The six forms of an extension (createExtensionPattern), each matched to
 * the end of the text: `;ext=123`; `ext. 123` and its other explicit
 * labels; `x123`, `#123`, `~123`, `int 123`; American `- 123#`; `,,123` or
 * `;123` (auto-dialling); `,123`.
 */
const EXTENSIONS: Segment[][] = [
  [oneOf(";ext="), run(EXT_DIGITS, 1, 20)],
  [run(" \u00A0\t,", 0, Infinity), EXPLICIT_LABELS, AFTER_LABEL, SEPARATORS_AFTER_LABEL, run(EXT_DIGITS, 1, 20), HASH],
  [
    run(" \u00A0\t,", 0, Infinity),
    oneOf("x", "\uFF58", "#", "\uFF03", "~", "\uFF5E", "int", "\uFF49\uFF4E\uFF54"),
    AFTER_LABEL,
    SEPARATORS_AFTER_LABEL,
    run(EXT_DIGITS, 1, 9),
    HASH,
  ],
  [run("- ", 1, Infinity), run(EXT_DIGITS, 1, 6), oneOf("#")],
  [run(" \u00A0\t", 0, Infinity), oneOf(",,", ";"), AFTER_LABEL, SEPARATORS_AFTER_LABEL, run(EXT_DIGITS, 1, 15), HASH],
  [run(" \u00A0\t", 0, Infinity), run(",", 1, Infinity), AFTER_LABEL, SEPARATORS_AFTER_LABEL, run(EXT_DIGITS, 1, 9), HASH],
];

/*
 * Matching the forms to the end of the text runs an automaton over the text
 * from its end, right to left. A state is a form, one of its segments and
 * how much of that segment has been read: a count (capped at the segment's
 * minimum when it has no maximum), or a word and how many of its last
 * characters matched (word 0: none yet); WHOLE says a form has been read
 * whole, i.e. an extension starts here. The sets of states met are made
 * deterministic as they are met (one step per character: a map lookup),
 * and there are a few hundred of them (DFA_STATES bounds the cache anyway).
 */
const WHOLE = -1;
const stateOf = (form: number, segment: number, word: number, k: number) => ((form * 8 + segment) * 64 + word) * 64 + k;

/** Adds the states for entering `segment` of `form` (right to left) to `into`. */
function enter(form: number, segment: number, into: Set<number>): void {
  if (segment < 0) {
    into.add(WHOLE);
    return;
  }
  const g = EXTENSIONS[form]![segment]!;
  into.add(stateOf(form, segment, 0, 0));
  if (!("words" in g) && g.min === 0) enter(form, segment - 1, into);
}

/** The states after reading `ch` (whose Canonicalize is `c`) to the left of `from`. */
function step(from: readonly number[], ch: string, c: number): Set<number> {
  const next = new Set<number>();
  for (const state of from) {
    if (state === WHOLE) continue;
    const k = state % 64;
    const word = Math.floor(state / 64) % 64;
    const segment = Math.floor(state / 4096) % 8;
    const form = Math.floor(state / 32768);
    const g = EXTENSIONS[form]![segment]!;
    if ("words" in g) {
      // A word is matched from its last character; word 0 is "none chosen yet".
      const candidates = word === 0 ? (g.byLast.get(c) ?? []) : g.words[word - 1]![g.words[word - 1]!.length - 1 - k] === c ? [word - 1] : [];
      const matched = word === 0 ? 1 : k + 1;
      for (const w of candidates) {
        if (matched === g.words[w]!.length) enter(form, segment - 1, next);
        else next.add(stateOf(form, segment, w + 1, matched));
      }
    } else if (k < g.max && g.chars.includes(ch)) {
      const count = g.max === Infinity ? Math.min(k + 1, g.min) : k + 1;
      next.add(stateOf(form, segment, 0, count));
      if (count >= g.min) enter(form, segment - 1, next);
    }
  }
  return next;
}

type DfaState = { states: number[]; whole: boolean; next: Map<number, DfaState | null> };
/** Sets of states met so far, by their sorted states. */
const dfa = new Map<string, DfaState>();
const DFA_STATES = 4096;

function dfaState(states: Set<number>): DfaState | null {
  if (states.size === 0) return null;
  const sorted = [...states].sort((x, y) => x - y);
  const key = sorted.join(",");
  let d = dfa.get(key);
  if (!d) {
    d = { states: sorted, whole: states.has(WHOLE), next: new Map() };
    if (dfa.size < DFA_STATES) dfa.set(key, d);
  }
  return d;
}

/** Characters some segment reads (by Canonicalize for words): any other one ends every match. */
const READ = new Set(EXTENSIONS.flat().flatMap((g) => ("words" in g ? g.words.flat() : Array.from(g.chars, (c) => c.charCodeAt(0)))));

const START = (() => {
  const states = new Set<number>();
  for (let f = 0; f < EXTENSIONS.length; f++) enter(f, EXTENSIONS[f]!.length - 1, states);
  return dfaState(states)!;
})();

/** Marks in `starts` every i where text.slice(i) is, whole, one of the forms of an extension. */
export function markExtensionStarts(text: string, starts: Uint8Array): void {
  let d: DfaState | null = START;
  for (let at = text.length - 1; at >= 0 && d; at--) {
    const code = text.charCodeAt(at);
    if (!READ.has(code) && !READ.has(canon(code))) return;
    let to = d.next.get(code);
    if (to === undefined) {
      to = dfaState(step(d.states, text[at]!, canon(code)));
      if (dfa.size < DFA_STATES) d.next.set(code, to);
    }
    if (to?.whole) starts[at] = 1;
    d = to;
  }
}
