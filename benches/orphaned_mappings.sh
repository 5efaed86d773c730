#!/usr/bin/env bash
# Orphaned Group Push mappings: remediator against a script on Okta's official Python SDK
# (benches/sdk_orphaned_mappings.py), on the same generated org (okta-sim --push-org: APPS apps,
# ORPHANED of them with provisioning disabled and an ACTIVE mapping). Prints each side's findings
# and its requests per endpoint, counted by okta-sim (GET /__sim/stats, reset between the two).
#
# Usage: benches/orphaned_mappings.sh   (env: PYTHON with `okta` installed, APPS, ORPHANED, PORT;
# SKIP_BUILD=1 uses the binaries already in target/debug)
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
APPS=${APPS:-300}
ORPHANED=${ORPHANED:-3}
PORT=${PORT:-18131}
URL="http://127.0.0.1:$PORT"
TOKEN="generated-test-token"

if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --quiet -p okta-sim --bin okta-sim
    cargo build --quiet -p remediator --bin remediator
fi
work=$(mktemp -d)
target/debug/okta-sim --push-org --apps "$APPS" --orphaned "$ORPHANED" --no-rate-limits \
    --listen "127.0.0.1:$PORT" >"$work/sim.log" 2>&1 &
sim=$!
trap 'kill "$sim" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "$URL/__sim/stats" >/dev/null && break; sleep 0.2; done

curl -fs -X POST "$URL/__sim/stats/reset" >/dev/null
"$PYTHON" benches/sdk_orphaned_mappings.py "$URL" "$TOKEN" >"$work/sdk.json"
curl -fs "$URL/__sim/stats" >"$work/sdk-stats.json"

curl -fs -X POST "$URL/__sim/stats/reset" >/dev/null
OKTA_CLIENT_ORGURL="$URL" OKTA_CLIENT_TOKEN="$TOKEN" target/debug/remediator \
    --policies policies --state "$work/state" plan --output json >"$work/plan.json"
curl -fs "$URL/__sim/stats" >"$work/remediator-stats.json"

"$PYTHON" - "$work" <<'EOF'
import json, sys
work = sys.argv[1]

def apps_bucket(stats):
    """Requests in Okta's /api/v1/apps* bucket (not the /api/v1/apps/{id} one)."""
    by = {k: v["count"] for k, v in stats["endpoints"].items()
          if k.split(" ", 1)[1].startswith("/api/v1/apps") and k.split(" ", 1)[1] != "/api/v1/apps/{id}"}
    return sum(by.values()), by

sdk = json.load(open(f"{work}/sdk.json"))
plan = json.load(open(f"{work}/plan.json"))
found = sorted({f["target"]["app_id"] for f in plan["findings"] + plan["actions"]
                if f["kind"].startswith(("push-mappings-orphaned", "remove-push-mappings"))})
sdk_total, sdk_by = apps_bucket(json.load(open(f"{work}/sdk-stats.json")))
rem_total, rem_by = apps_bucket(json.load(open(f"{work}/remediator-stats.json")))
detection = {k: v for k, v in rem_by.items() if not k.endswith("/users")}
rem_detection = sum(detection.values())
print(f"SDK script: {sdk['apps']} apps, orphaned {sdk['orphaned']}, apps-bucket requests {sdk_total}: {sdk_by}")
print(f"remediator: orphaned {found}, plan complete: {plan['complete']}")
print(f"remediator apps-bucket requests of the detection {rem_detection}: {detection}")
print(f"remediator whole pass (also every app's users, for the retry rule): {rem_total}: {rem_by}")
print(f"ratio (detection) {rem_detection / sdk_total:.3f}; same findings: {found == sdk['orphaned']}")
EOF
