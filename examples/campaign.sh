#!/usr/bin/env bash
# A campaign from draft to finish, in curl, against `npm start` (README, "A campaign, start to finish"):
# upload a draft with its brakes, read the estimate, place a test call to yourself, edit, add rows,
# start, watch the stop rule pause it, clear the rule and resume.
#
#   bash examples/campaign.sh            # npm start's dev workspace, key and simulated agent
#   B=https://… KEY=bck_… WS=ws_… AGENT=agent_… TO=+1… bash examples/campaign.sh
#
# Needs curl and node (to read fields out of the JSON answers). The simulated provider decides each
# call by its number's last digit (README, Quickstart): examples/campaign.csv has eight people who
# answer, then twelve on a carrier route that fails, so the failure-rate rule trips.
set -euo pipefail
cd "$(dirname "$0")"

B=${B:-http://localhost:8787}
KEY=${KEY:-bck_devkey0000000000_devsecretdevsecretdevsecret00}
WS=${WS:-ws_dev}
AGENT=${AGENT:-agent_dev_simulated}
TO=${TO:-+14155550100} # your own phone: the test call rings it (the simulated provider answers numbers ending in 0)

api() { curl -sS -H "x-api-key: $KEY" -H "x-workspace-id: $WS" "$@"; }
json() { api -H 'content-type: application/json' "$@"; }
# field <path> reads one field of the JSON on stdin, e.g. field estimate.minutes.high
field() { node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];console.log(typeof v==="object"?JSON.stringify(v):v)})' "$1"; }
step() { printf '\n== %s\n' "$*"; }
# wait_for <seconds> <command…>: runs the command every second until it succeeds
wait_for() {
  local n=$1
  shift
  for _ in $(seq "$n"); do "$@" && return 0 || sleep 1; done
  echo "gave up waiting for: $*" >&2
  return 1
}

step "1. Upload a draft with stop rules and a budget: checked, stored, counted, nothing dialled"
DRAFT=$(api -X POST "$B/v1/api/batch-calls" -F "file=@campaign.csv" -F agentId="$AGENT" -F start=false \
  -F name="Spring renewals" -F 'stopRules={"maxFailureRate":0.3,"window":10}' -F maxMinutes=60)
echo "$DRAFT"
BATCH=$(field batchId <<<"$DRAFT")

step "2. The estimate: calls × attempts × minutes, as a range"
api "$B/v1/api/batch-calls/$BATCH" | field estimate

step "3. A test call to yourself with row 1's variables, outside the batch's counters"
TEST=$(json -X POST "$B/v1/api/batch-calls/$BATCH/test-call" -d "{\"to\":\"$TO\",\"row\":1}")
echo "$TEST"
test_done() { [ "$(api "$B/v1/api/batch-calls/$BATCH/test-calls" | field testCalls.0.status)" != active ]; }
wait_for 60 test_done
api "$B/v1/api/batch-calls/$BATCH/test-calls" | field testCalls.0

step "4. Edit the draft: fewer calls at once"
json -X PATCH "$B/v1/api/batch-calls/$BATCH" -d '{"maxConcurrentCalls":2}' | field maxConcurrentCalls

step "5. Add rows: a number already in the batch is left out"
api -X POST "$B/v1/api/batch-calls/$BATCH/rows" -F "file=@campaign-more.csv"
echo

step "6. Start it"
api -X POST "$B/v1/api/batch-calls/$BATCH/start"
echo

step "7. The carrier route fails: the stop rule pauses the batch by itself"
paused() { [ "$(api "$B/v1/api/batch-calls/$BATCH/status" | field status)" = paused ]; }
wait_for 120 paused
api "$B/v1/api/batch-calls/$BATCH/status" | field pausedReason

step "8. After fixing the route: clear the rule and resume; the rest of the list is called"
json -X PATCH "$B/v1/api/batch-calls/$BATCH" -d '{"stopRules":null}' | field stopRules
api -X POST "$B/v1/api/batch-calls/$BATCH/resume"
echo
finished() { [ "$(api "$B/v1/api/batch-calls/$BATCH/status" | field isComplete)" = true ]; }
wait_for 180 finished
api "$B/v1/api/batch-calls/$BATCH/status" | field status
api "$B/v1/api/batch-calls/$BATCH/status" | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const b=JSON.parse(s);console.log(JSON.stringify({status:b.status,total:b.total,completed:b.completed,failed:b.failed,cancelled:b.cancelled}))})'
api "$B/v1/api/batch-calls/$BATCH" | field billedMinutes
