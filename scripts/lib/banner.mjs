// @ts-check
/**
 * The box `npm start` and `npm run setup:cloudflare` end with: where the service is, the
 * credentials to use, and a ready-to-paste curl that starts a batch from examples/people.csv.
 * One function, so the two print the same curl.
 */

const WIDTH = 57;

/**
 * @param {object} o
 * @param {string} o.title e.g. "batch-calls dev server"
 * @param {string} o.baseUrl the origin, no trailing slash
 * @param {string} o.workspaceId
 * @param {string} o.apiKey
 * @param {string} o.agentId a simulated agent of the workspace
 * @param {string} o.adminToken what to show on the admin token line (the token, or where it is)
 * @param {string} o.footer the closing line
 */
export function banner({ title, baseUrl, workspaceId, apiKey, agentId, adminToken, footer }) {
  const rule = "─".repeat(Math.max(2, Math.floor((WIDTH - title.length - 2) / 2)));
  const auth = `-H "x-api-key: ${apiKey}" -H "x-workspace-id: ${workspaceId}"`;
  return `
${rule} ${title} ${rule}
  Console        ${baseUrl}/   (sign in with the workspace id and API key below)
  API docs       ${baseUrl}/docs
  Workspace id   ${workspaceId}
  API key        ${apiKey}
  Agent id       ${agentId}  (simulated)
  Admin token    ${adminToken}

  Start a batch:
    curl -s ${baseUrl}/v1/api/batch-calls ${auth} -F agentId=${agentId} -F "file=@examples/people.csv"
  Follow it live (batchId from the answer above):
    curl -sN ${baseUrl}/v1/api/batch-calls/<batchId>/events ${auth}

  ${footer}
${"─".repeat(WIDTH)}
`;
}
