/**
 * The /docs page. renderDocs runs in the reader's browser: the page embeds
 * its source (String(renderDocs)), so it must stay one self-contained
 * function — no imports, nothing from this module's scope, only types — and
 * the tests call the very same function.
 */

/** The parts of an OpenAPI 3.1 schema object the page shows. */
export type SchemaObject = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  description?: string;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  additionalProperties?: boolean | SchemaObject;
  items?: SchemaObject;
  anyOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  allOf?: SchemaObject[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
};
type Content = Record<string, { schema?: SchemaObject }>;
type Operation = {
  tags?: string[];
  summary?: string;
  description?: string;
  parameters?: { in: string; name: string; required?: boolean; description?: string; schema?: SchemaObject }[];
  requestBody?: { required?: boolean; content?: Content };
  responses?: Record<string, { description?: string; content?: Content; headers?: Record<string, { description?: string }> }>;
};
type PathItems = Record<string, Record<string, Operation>>;
/** As much of the OpenAPI document as the page reads. */
export type OpenApiDoc = { paths?: PathItems; webhooks?: PathItems; components?: { schemas?: Record<string, SchemaObject> } };

/**
 * The document as HTML: the customer API first (/v1/api, the agent's
 * callbacks, provider webhooks, the events sent to a workspace), then the
 * operator API (/v1/admin), then every named schema. Bodies are shown whole:
 * each $ref is followed (a cycle is named, not followed again) into a table
 * of fields; a request body also as its fully inlined JSON schema. Every
 * error response has the contract's one error body, so it links to it.
 */
export function renderDocs(doc: OpenApiDoc): string {
  const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  const named = doc.components?.schemas ?? {};
  const refName = (ref: string) => ref.slice(ref.lastIndexOf("/") + 1);

  /** The schema behind any $refs (the referring description wins), the names followed so far, and the name that would loop. */
  const deref = (raw: SchemaObject, seen: string[]): { s: SchemaObject; seen: string[]; cycle?: string } => {
    let s = raw;
    let path = seen;
    while (s.$ref) {
      const name = refName(s.$ref);
      if (path.includes(name)) return { s, seen: path, cycle: name };
      const target = named[name];
      if (!target) return { s: { description: `unresolved ${s.$ref}` }, seen: path };
      s = { ...target, description: s.description ?? target.description };
      path = [...path, name];
    }
    return { s, seen: path };
  };

  const typeOf = (raw: SchemaObject, seen: string[]): string => {
    if (raw.$ref) {
      const d = deref(raw, seen);
      return d.cycle ? `${d.cycle} (recursive)` : `${typeOf(d.s, d.seen)} (${refName(raw.$ref)})`;
    }
    const alts = raw.anyOf ?? raw.oneOf;
    if (alts) return alts.map((a) => typeOf(a, seen)).join(" | ");
    if (raw.allOf) return raw.allOf.map((a) => typeOf(a, seen)).join(" & ");
    if (raw.const !== undefined) return JSON.stringify(raw.const);
    const types = Array.isArray(raw.type) ? raw.type : raw.type ? [raw.type] : [];
    const shown = types.map((t) => {
      if (t === "array") {
        const item = raw.items ? typeOf(raw.items, seen) : "any";
        return item.includes(" ") ? `(${item})[]` : `${item}[]`;
      }
      return raw.format && t === "string" ? `string (${raw.format})` : t;
    });
    return shown.join(" | ") || (raw.properties ? "object" : "any");
  };

  const between = (lo: number | undefined, hi: number | undefined, unit: string) => {
    if (lo !== undefined && hi !== undefined) return `${lo} to ${hi}${unit}`;
    if (lo !== undefined) return `at least ${lo}${unit}`;
    return hi !== undefined ? `at most ${hi}${unit}` : "";
  };
  const code = (v: unknown) => `<code>${esc(typeof v === "string" ? v : JSON.stringify(v))}</code>`;
  const notes = (s: SchemaObject): string => {
    const out = [esc(s.description)];
    if (s.enum) out.push(`one of ${s.enum.map(code).join(", ")}`);
    out.push(between(s.minimum, s.maximum, ""), between(s.minLength, s.maxLength, " characters"), between(s.minItems, s.maxItems, " items"));
    if (s.pattern) out.push(`matches ${code(s.pattern)}`);
    if (s.default !== undefined) out.push(`default ${code(s.default)}`);
    if (s.additionalProperties === false) out.push("no other fields");
    return out.filter(Boolean).join("; ");
  };

  type Row = { name: string; type: string; required: boolean; notes: string };
  /** One row per field, nested fields named by path (a.b, list[].c), members of a union each in turn. */
  const rowsOf = (raw: SchemaObject, base: string, seen: string[], rows: Row[]): Row[] => {
    const { s, seen: path, cycle } = deref(raw, seen);
    if (cycle || path.length > 12) return rows;
    for (const member of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) rowsOf(member, base, path, rows);
    if (s.items) rowsOf(s.items, `${base}[]`, path, rows);
    const fields = Object.entries(s.properties ?? {});
    if (s.additionalProperties && typeof s.additionalProperties === "object") fields.push(["*", s.additionalProperties]);
    for (const [key, prop] of fields) {
      const name = base ? `${base}.${key}` : key;
      const d = deref(prop, path);
      rows.push({ name, type: typeOf(prop, path), required: (s.required ?? []).includes(key), notes: d.cycle ? `as ${esc(d.cycle)} above` : notes(d.s) });
      rowsOf(prop, name, path, rows);
    }
    return rows;
  };

  /** The schema with every $ref replaced by what it names; a $ref that would loop stays, marked circular. */
  const inline = (v: unknown, seen: string[]): unknown => {
    if (Array.isArray(v)) return v.map((x) => inline(x, seen));
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    const rest = Object.entries(o).filter(([k]) => k !== "$ref");
    if (typeof o.$ref === "string") {
      const name = refName(o.$ref);
      const target = named[name];
      if (!target || seen.includes(name)) return { ...o, circular: Boolean(target) };
      return inline({ ...target, ...Object.fromEntries(rest) }, [...seen, name]);
    }
    return Object.fromEntries(rest.map(([k, x]) => [k, inline(x, seen)]));
  };

  const schemaHtml = (raw: SchemaObject | undefined, withJson = true): string => {
    if (!raw) return "";
    const rows = rowsOf(raw, "", [], []);
    const head = `<p class="t">${esc(typeOf(raw, []))}${raw.$ref ? "" : ` ${notes(raw)}`}</p>`;
    const table = rows.length
      ? `<table class="fields"><tr><th>field</th><th>type</th><th></th><th>notes</th></tr>${rows
          .map((r) => `<tr><td><code>${esc(r.name)}</code></td><td>${esc(r.type)}</td><td>${r.required ? "required" : ""}</td><td>${r.notes}</td></tr>`)
          .join("")}</table>`
      : "";
    const json = withJson ? `<details class="json"><summary>JSON schema</summary><pre>${esc(JSON.stringify(inline(raw, []), null, 2))}</pre></details>` : "";
    return `${head}${table}${json}`;
  };

  const contentHtml = (content: Content | undefined, withJson: boolean) =>
    Object.entries(content ?? {})
      .map(([type, m]) => `<p><code>${esc(type)}</code></p>${schemaHtml(m.schema, withJson)}`)
      .join("");
  /** A response's body: whole (fields only) for a success; every error shares the contract's body, so an error links to it. */
  const responseBody = (status: string, content: Content | undefined) => {
    const ref = Object.values(content ?? {})[0]?.schema?.$ref;
    if (Number(status) >= 400 && ref) return `<div>body: <a href="#schema-${esc(refName(ref))}">${esc(refName(ref))}</a></div>`;
    return content ? `<details><summary>body</summary>${contentHtml(content, false)}</details>` : "";
  };

  const opHtml = ([method, path, op]: [string, string, Operation]): string => {
    const params = (op.parameters ?? [])
      .map(
        (p) =>
          `<tr><td>${esc(p.in)}</td><td><code>${esc(p.name)}</code></td><td>${esc(p.schema ? typeOf(p.schema, []) : "")}</td>` +
          `<td>${p.required ? "required" : ""}</td><td>${p.schema ? notes({ ...p.schema, description: p.description ?? p.schema.description }) : esc(p.description)}</td></tr>`,
      )
      .join("");
    const body = op.requestBody ? `<h4>Request body${op.requestBody.required ? " (required)" : ""}</h4>${contentHtml(op.requestBody.content, true)}` : "";
    const responses = Object.entries(op.responses ?? {})
      .map(([status, r]) => {
        const headers = Object.entries(r.headers ?? {})
          .map(([h, v]) => `<div>header <code>${esc(h)}</code>: ${esc(v.description)}</div>`)
          .join("");
        return `<tr><td><b>${esc(status)}</b></td><td>${esc(r.description)}${headers}${responseBody(status, r.content)}</td></tr>`;
      })
      .join("");
    return (
      `<details class="op"><summary><span class="m ${esc(method)}">${esc(method)}</span><span class="p">${esc(path)}</span><span>${esc(op.summary)}</span></summary>` +
      `<div class="body"><p>${esc(op.description)}</p>${params ? `<h4>Parameters</h4><table>${params}</table>` : ""}${body}` +
      `<h4>Responses</h4><table>${responses}</table></div></details>`
    );
  };

  const METHODS = ["get", "post", "put", "patch", "delete"];
  const opsOf = (items: PathItems | undefined) =>
    Object.entries(items ?? {}).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([m]) => METHODS.includes(m))
        .map(([m, op]): [string, string, Operation] => [m, path, op]),
    );
  const paths = opsOf(doc.paths);
  const under = (prefix: string) => paths.filter(([, p]) => p.startsWith(prefix));
  const known = ["/v1/api/", "/v1/agent/", "/v1/webhooks/", "/v1/admin/"];
  const sections: [string, string, string, [string, string, Operation][]][] = [
    ["customer", "Customer API", "Your workspace's API: every request carries x-api-key and x-workspace-id.", under("/v1/api/")],
    ["agent", "Agent callbacks", "Called by your agent during a call, signed with the agent's signing secret (Standard Webhooks).", under("/v1/agent/")],
    [
      "provider",
      "Provider webhooks",
      "Called by the telephony provider (Twilio, or your dialer) about its calls; each checks the sender's signature.",
      under("/v1/webhooks/"),
    ],
    ["events", "Outbound webhooks", "Events this service POSTs to the workspace's webhookUrl, signed per Standard Webhooks.", opsOf(doc.webhooks)],
    ["other", "Other", "", paths.filter(([, p]) => !known.some((k) => p.startsWith(k)))],
    ["operator", "Operator API", "For whoever runs the service: every request carries Authorization: Bearer ADMIN_TOKEN.", under("/v1/admin/")],
  ];
  const shown = sections.filter(([, , , ops]) => ops.length > 0);
  const byTag = (ops: [string, string, Operation][]) => {
    const groups = new Map<string, [string, string, Operation][]>();
    for (const o of ops) groups.set(o[2].tags?.[0] ?? "", [...(groups.get(o[2].tags?.[0] ?? "") ?? []), o]);
    return [...groups].map(([tag, list]) => (tag ? `<h3>${esc(tag)}</h3>` : "") + list.map(opHtml).join("")).join("");
  };
  const schemaList = Object.keys(named)
    .map(
      (name) =>
        `<details class="op" id="schema-${esc(name)}"><summary><span class="p">${esc(name)}</span></summary><div class="body">${schemaHtml({ $ref: `#/components/schemas/${name}` }, false)}</div></details>`,
    )
    .join("");
  return (
    `<nav>${[...shown, ["schemas", "Schemas"]].map(([id, title]) => `<a href="#${esc(id)}">${esc(title)}</a>`).join(" · ")}</nav>` +
    shown.map(([id, title, intro, ops]) => `<section id="${esc(id)}"><h2>${esc(title)}</h2><p>${esc(intro)}</p>${byTag(ops)}</section>`).join("") +
    `<section id="schemas"><h2>Schemas</h2>${schemaList}</section>`
  );
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1rem 1.5rem;color:#1b1b1b}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:2px solid #ddd}.op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0}
.op>summary{cursor:pointer;padding:.5rem .8rem;display:flex;gap:.8rem;align-items:baseline}
.m{font:600 12px monospace;text-transform:uppercase;padding:2px 6px;border-radius:4px;color:#fff;min-width:3.5rem;text-align:center}
.get{background:#2b6cb0}.post{background:#2f855a}.patch{background:#b7791f}.delete{background:#c53030}.put{background:#6b46c1}
.p{font-family:monospace}.body{padding:0 1rem 1rem}pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:12px}
table{border-collapse:collapse}td,th{border-top:1px solid #eee;padding:2px 8px;vertical-align:top;text-align:left}
.fields td:first-child{white-space:nowrap}.t{color:#555}.json>summary{cursor:pointer;color:#555;font-size:13px}`;

/** The page's Content-Security-Policy: its own inline script and style (by nonce), fetches to this origin, nothing else, never framed. */
export function docsCsp(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

const RENDERER = String(renderDocs);

/** The page: renderDocs's own source, run on /v1/openapi.json. */
export function docsHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Batch Calls API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">${STYLE}</style></head><body>
<h1>Batch Calls API</h1><p>Rendered from <a href="/v1/openapi.json">/v1/openapi.json</a>.</p><div id="ops">Loading…</div>
<script nonce="${nonce}">
// A bundler that keeps function names (wrangler's keep_names) wraps inner functions in __name(); the page has no such helper, so it gets one.
var __name = (f) => f;
const render = (${RENDERER});
const out = document.getElementById("ops");
fetch("/v1/openapi.json")
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
  .then((doc) => { out.innerHTML = render(doc); })
  .catch((err) => { out.textContent = "Could not load /v1/openapi.json: " + err.message; });
</script></body></html>`;
}
