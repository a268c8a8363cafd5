/**
 * The OpenAPI document's walk-through of a campaign's brakes (issue 19), in
 * curl: the same story as README's "A campaign, start to finish" and
 * examples/campaign.sh, so a reader of the API reference sees how the
 * endpoints fit together.
 */
export const CAMPAIGN_STORY = `

## A campaign, start to finish

\`$B\` is the service, \`$K\` and \`$W\` the \`x-api-key\` and \`x-workspace-id\` headers (README, "A campaign, start to finish"; \`bash examples/campaign.sh\` runs it against \`npm start\`).

\`\`\`sh
# 1. A draft with its brakes: checked, stored, counted; nothing dialled (201, status draft)
curl -X POST $B/v1/api/batch-calls -H "$K" -H "$W" -F file=@campaign.csv -F agentId=<agentId> \\
  -F start=false -F 'stopRules={"maxFailureRate":0.3,"window":10}' -F maxMinutes=60
# 2. What it may cost: the draft's estimate (calls × attempts × minutes, as a range)
curl $B/v1/api/batch-calls/<batchId> -H "$K" -H "$W"
# 3. Hear it first: a test call to your own number with row 1's variables, outside the batch's counters
curl -X POST $B/v1/api/batch-calls/<batchId>/test-call -H "$K" -H "$W" -H 'content-type: application/json' -d '{"to":"+14155550100","row":1}'
curl $B/v1/api/batch-calls/<batchId>/test-calls -H "$K" -H "$W"
# 4. Edit it, and append the rows that came in since (numbers already in it are left out)
curl -X PATCH $B/v1/api/batch-calls/<batchId> -H "$K" -H "$W" -H 'content-type: application/json' -d '{"maxConcurrentCalls":2}'
curl -X POST $B/v1/api/batch-calls/<batchId>/rows -H "$K" -H "$W" -F file=@more.csv
# 5. Start it
curl -X POST $B/v1/api/batch-calls/<batchId>/start -H "$K" -H "$W"
# 6. A failing route trips the stop rule: /status says paused, pausedReason failure_rate (a batch.paused webhook too);
#    reaching maxMinutes would say budget
curl $B/v1/api/batch-calls/<batchId>/status -H "$K" -H "$W"
# 7. Once fixed: drop or loosen the rule (or raise maxMinutes), then resume
curl -X PATCH $B/v1/api/batch-calls/<batchId> -H "$K" -H "$W" -H 'content-type: application/json' -d '{"stopRules":null}'
curl -X POST $B/v1/api/batch-calls/<batchId>/resume -H "$K" -H "$W"
\`\`\`
`;
