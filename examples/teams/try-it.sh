#!/usr/bin/env bash
# Shows multi-team cache isolation: the same DAG file, run from team_a's bundle and then from
# team_b's, misses the second time (entries of one team are never served to another); moved back
# to team_a it hits again. Uses a throw-away AIRFLOW_HOME; run from anywhere in the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export AIRFLOW_HOME="$(mktemp -d)"
unset AIRFLOW__CORE__DAGS_FOLDER AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST
cp -r "$here/airflow.cfg" "$here/team_a" "$here/team_b" "$AIRFLOW_HOME/"
mf() { node "$repo/bin/miniflow.js" "$@"; }

echo "== 1. revenue_report in team_a's bundle: cold run (miss, stored)"
mf dags test revenue_report 2026-01-01 2>/dev/null
echo "== 2. again in team_a: hit"
mf dags test revenue_report 2026-01-01 2>/dev/null
echo "== 3. the same file moved to team_b's bundle: miss (team_a's entry is not served to team_b)"
mv "$AIRFLOW_HOME/team_a/revenue_report.json" "$AIRFLOW_HOME/team_b/"
mf dags list
mf dags test revenue_report 2026-01-01 2>/dev/null
echo "== 4. moved back to team_a: hit again (its own entry)"
mv "$AIRFLOW_HOME/team_b/revenue_report.json" "$AIRFLOW_HOME/team_a/"
mf dags test revenue_report 2026-01-01 2>/dev/null
echo "(AIRFLOW_HOME was $AIRFLOW_HOME)"
