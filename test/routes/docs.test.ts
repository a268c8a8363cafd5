import { describe, expect, it } from "vitest";
import { type OpenApiDoc, renderDocs } from "../../src/routes/docs-page";
import { call, json } from "../helpers";

const liveDoc = async () => json<OpenApiDoc>(await call("/v1/openapi.json"));

/** The HTML of one operation's <details>, found by its method and path. */
function opHtml(html: string, method: string, path: string): string {
  const start = html.indexOf(`<span class="m ${method}">${method}</span><span class="p">${path}</span>`);
  expect(start, `${method} ${path}`).toBeGreaterThan(-1);
  const next = [html.indexOf('<details class="op"', start), html.indexOf("</section>", start)].filter((i) => i > -1);
  return html.slice(start, Math.min(...next));
}

/** Where each operation's path first appears, in page order. */
const opPaths = (html: string) => [...html.matchAll(/<span class="m \w+">\w+<\/span><span class="p">([^<]+)<\/span>/g)].map((m) => m[1]!);

describe("renderDocs (the /docs page's renderer)", () => {
  it("shows a request body whole: the $ref's fields, types, required marks and descriptions, never a bare $ref", async () => {
    const html = renderDocs(await liveDoc());
    expect(html).not.toContain("$ref");

    const upload = opHtml(html, "post", "/v1/api/batch-calls");
    expect(upload).toContain("<code>multipart/form-data</code>");
    expect(upload).toMatch(/<tr><td><code>agentId<\/code><\/td><td>string<\/td><td>required<\/td><td>an agent of this workspace/);
    expect(upload).toMatch(/<tr><td><code>file<\/code><\/td><td>string \(binary\)<\/td><td>required<\/td><td>CSV, at most 20 MiB/);
    expect(upload).toMatch(/<tr><td><code>dryRun<\/code><\/td><td>string<\/td><td><\/td>/);
    // the response header a replay carries
    expect(upload).toContain("header <code>Idempotent-Replayed</code>");

    const create = opHtml(html, "post", "/v1/admin/workspaces");
    expect(create).toContain("<code>application/json</code>");
    expect(create).toMatch(/<tr><td><code>name<\/code><\/td><td>string<\/td><td>required<\/td><td>1 to 200 characters/);
    expect(create).toMatch(/<tr><td><code>rateLimits\.callsPerSecond<\/code><\/td><td>integer<\/td><td>required<\/td><td>1 to 1000/);

    // a success's body whole too; every error links to the one error body, shown in Schemas
    const list = opHtml(html, "get", "/v1/admin/workspaces");
    expect(list).toContain("<code>workspaces[].rateLimits.callsPerSecond</code></td><td>integer</td><td>required</td>");
    expect(list).toContain("<code>pagination.hasNext</code></td><td>boolean</td><td>required</td>");
    expect(list).toContain(
      '<b>401</b></td><td>x-api-key (or the admin bearer token) is missing, unknown or revoked<div>body: <a href="#schema-Error">Error</a>',
    );
    expect(html).toContain('<details class="op" id="schema-Error">');

    // a nullable $ref is followed into its fields, nested arrays of objects too
    const agent = opHtml(html, "post", "/v1/api/agents");
    expect(agent).toContain("<code>resultSchema</code></td><td>object (ResultSchema) | null</td>");
    expect(agent).toMatch(/<code>resultSchema\.fields\[\]\.type<\/code><\/td><td>string<\/td><td>required<\/td><td>one of <code>string<\/code>/);
    // and the JSON view is the inlined schema
    expect(agent).toContain("&#34;dispositions&#34;");
  });

  it("lists the customer API (/v1/api, then /v1/agent and provider webhooks, then the events sent out) before the operator API", async () => {
    const doc = await liveDoc();
    const html = renderDocs(doc);
    const paths = opPaths(html);
    const firstAdmin = paths.findIndex((p) => p.startsWith("/v1/admin/"));
    expect(firstAdmin).toBeGreaterThan(0);
    expect(paths.slice(firstAdmin).every((p) => p.startsWith("/v1/admin/"))).toBe(true);
    const lastOf = (prefix: string) => paths.map((p) => p.startsWith(prefix)).lastIndexOf(true);
    const firstOf = (prefix: string) => paths.findIndex((p) => p.startsWith(prefix));
    expect(lastOf("/v1/api/")).toBeLessThan(firstOf("/v1/agent/"));
    expect(lastOf("/v1/agent/")).toBeLessThan(firstOf("/v1/webhooks/"));
    expect(lastOf("/v1/webhooks/")).toBeLessThan(paths.indexOf("batch.started"));
    expect(paths.indexOf("batch.cancelled")).toBeLessThan(firstAdmin);
    // every documented operation is on the page, once
    const count = Object.values(doc.paths!).flatMap((item) => Object.keys(item)).length + Object.keys(doc.webhooks!).length;
    expect(paths).toHaveLength(count);
    const headings = [...html.matchAll(/<h2>([^<]+)<\/h2>/g)].map((m) => m[1]);
    expect(headings).toEqual(["Customer API", "Agent callbacks", "Provider webhooks", "Outbound webhooks", "Operator API", "Schemas"]);
    // grouped by tag within a section
    expect(html.indexOf("<h3>Agents</h3>")).toBeLessThan(html.indexOf("<h3>Batches</h3>"));
  });

  it("names a recursive schema instead of following it forever, and escapes every text it shows", () => {
    const doc: OpenApiDoc = {
      paths: {
        "/v1/admin/trees": { post: { summary: "admin <b>bold</b>", responses: {} } },
        "/misc": { get: { summary: "elsewhere", responses: {} } },
        "/v1/api/trees": {
          post: {
            summary: "Plant",
            requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/Node" } } } },
            responses: { "201": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Node" } } } } },
          },
        },
      },
      components: {
        schemas: {
          Node: {
            type: "object",
            required: ["label"],
            properties: {
              label: { type: "string", description: 'a <img src=x onerror="alert(1)"> label' },
              children: { type: "array", items: { $ref: "#/components/schemas/Node" } },
              parent: { anyOf: [{ $ref: "#/components/schemas/Node" }, { type: "null" }] },
            },
          },
        },
      },
    };
    const html = renderDocs(doc);
    const plant = opHtml(html, "post", "/v1/api/trees");
    expect(plant).toContain("<code>label</code></td><td>string</td><td>required</td>");
    expect(plant).toContain("<code>children</code></td><td>(Node (recursive))[]</td>");
    expect(plant).toContain("<code>parent</code></td><td>Node (recursive) | null</td>");
    expect(plant).toContain("&#34;circular&#34;: true");
    expect(html).not.toContain("<img");
    expect(html).toContain("a &#60;img src=x onerror=&#34;alert(1)&#34;&#62; label");
    expect(html).not.toContain("<b>bold</b>");
    // a path outside the known prefixes still shows, before the operator API
    expect(opPaths(html)).toEqual(["/v1/api/trees", "/misc", "/v1/admin/trees"]);
  });
});

describe("GET /docs", () => {
  it("is an HTML page that runs renderDocs on /v1/openapi.json, its inline script and style allowed by a per-response nonce", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain(`const render = (${String(renderDocs)});`);
    // wrangler bundles with keep_names, which wraps the renderer's inner functions in __name(): the page must define it
    expect(html).toContain("var __name = (f) => f;");
    expect(html).toContain('fetch("/v1/openapi.json")');

    const csp = res.headers.get("content-security-policy")!;
    const nonce = /script-src 'nonce-([0-9a-f]{32})'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain(`style-src 'nonce-${nonce}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect([...html.matchAll(/<(script|style)( nonce="([^"]*)")?>/g)].map((m) => [m[1], m[3]])).toEqual([
      ["style", nonce],
      ["script", nonce],
    ]);

    const again = await call("/docs");
    expect(again.headers.get("content-security-policy")).not.toContain(nonce);
  });
});
