import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "zod";
import type { AppEnv } from "../app-factory";
import { WEBHOOK_EVENT_DATA, WEBHOOK_EVENT_TYPES } from "../queue/webhook-event";

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Batch Calls API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1rem 1.5rem;color:#1b1b1b}
h1{margin-bottom:.2rem}.op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0}
.op>summary{cursor:pointer;padding:.5rem .8rem;display:flex;gap:.8rem;align-items:baseline}
.m{font:600 12px monospace;text-transform:uppercase;padding:2px 6px;border-radius:4px;color:#fff;min-width:3.5rem;text-align:center}
.get{background:#2b6cb0}.post{background:#2f855a}.patch{background:#b7791f}.delete{background:#c53030}
.p{font-family:monospace}.body{padding:0 1rem 1rem}pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:12px}
table{border-collapse:collapse}td{border-top:1px solid #eee;padding:2px 8px;vertical-align:top}
</style></head><body>
<h1>Batch Calls API</h1><p>Rendered from <a href="/v1/openapi.json">/v1/openapi.json</a>.</p><div id="ops">Loading…</div>
<script>
const esc=s=>String(s??"").replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
fetch("/v1/openapi.json").then(r=>r.json()).then(doc=>{
  const out=[];
  for(const [path,item] of Object.entries(doc.paths)) for(const [method,op] of Object.entries(item)){
    const params=(op.parameters||[]).map(p=>"<tr><td>"+esc(p.in)+"</td><td><code>"+esc(p.name)+"</code></td><td>"+esc(p.description||"")+"</td></tr>").join("");
    const body=op.requestBody?"<h4>Request body</h4><pre>"+esc(JSON.stringify(op.requestBody.content,null,2))+"</pre>":"";
    const res=Object.entries(op.responses||{}).map(([s,r])=>"<tr><td><b>"+esc(s)+"</b></td><td>"+esc(r.description)+"</td></tr>").join("");
    out.push('<details class="op"><summary><span class="m '+method+'">'+method+'</span><span class="p">'+esc(path)+'</span><span>'+esc(op.summary)+'</span></summary><div class="body"><p>'+esc(op.description||"")+'</p>'+(params?"<h4>Parameters</h4><table>"+params+"</table>":"")+body+"<h4>Responses</h4><table>"+res+"</table></div></details>");
  }
  document.getElementById("ops").innerHTML=out.join("")+"<h3>Schemas</h3><pre>"+esc(JSON.stringify(doc.components,null,2))+"</pre>";
});
</script></body></html>`;

export function docsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", { type: "apiKey", in: "header", name: "x-api-key" });
  app.openAPIRegistry.registerComponent("securitySchemes", "workspaceId", { type: "apiKey", in: "header", name: "x-workspace-id" });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminBearer", { type: "http", scheme: "bearer" });
  const signed = {
    "webhook-id": z.string().openapi({ description: "event id, stable across retries: de-duplicate on it" }),
    "webhook-timestamp": z.string().openapi({ description: "seconds since the epoch, of this delivery" }),
    "webhook-signature": z.string().openapi({ description: "v1,<base64 HMAC-SHA256 of id.timestamp.body keyed with the workspace's whsec_ secret>" }),
  };
  for (const type of WEBHOOK_EVENT_TYPES) {
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: type,
      tags: ["Outbound webhooks"],
      summary: `${type} (ext), POSTed to the workspace's webhookUrl`,
      description:
        `data: ${WEBHOOK_EVENT_DATA[type]}. ` +
        "Signed per Standard Webhooks; retried with backoff (5 s doubling, up to an hour, 12 retries) until a 2xx. At least once: de-duplicate on webhook-id.",
      request: {
        headers: z.object(signed),
        body: {
          content: {
            "application/json": {
              schema: z.object({ type: z.literal(type), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }),
            },
          },
        },
      },
      responses: { 200: { description: "Any 2xx acknowledges the event" } },
    });
  }
  app.doc31("/v1/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Batch Calls API",
      version: "1.0.0",
      description:
        "Upload a CSV of people to call and name an agent; the service validates every row, stores the file and works through the calls. " +
        "Every error has the body {error, code, requestId, details?}. Times known to existing clients are epoch ms; fields ending in At are ISO 8601 UTC.",
    },
  });
  app.get("/docs", (c) => c.html(DOCS_HTML));
}
