# Rule quality through Kafka: alerts raised by a rule and ended with help,
# by the data alone, a refused resolution reported as a false alarm, a
# reopening after a low score. hearthd counts each in
# hearth_rule_outcomes_total{rule,outcome} and in <prefix>:rule_outcomes
# after the commit; `hearthctl report --by rule` reads them back with the
# median time to elimination; a redelivered event counts once.
source "$(dirname "$0")/../lib.sh"

http() {
        exec 5<>"/dev/tcp/127.0.0.1/$1" || return 1
        printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&5
        cat <&5
        exec 5>&-
}
outcome() { http "$MPORT" /metrics | grep -F "hearth_rule_outcomes_total{outcome=\"$2\",rule=\"$1\"}" | awk '{print $NF}'; }

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
MPORT=$(free_port)
write_config "candidates:
  grace: 1s"
sed -i "s|  listen: \"\"|  listen: \"127.0.0.1:$MPORT\"|" "$T/hearth.yaml"
start_hearthd
check "hearthd READY" wait_ready 30

ev() { printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"%s","time":"%sT09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$4" "$1" "$5"; }
reg() { ev "$1" "reg-$1" household.registered 2026-03-01 '{"town":"温溪镇","village":"东岸村","cadre":{"id":"C1"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false},{"id":"m2","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false},{"id":"m3","labor":"none","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":true}],"status":"low_income","income_last_year":{"year":2025,"disposable":36000}}'; }
claim() { ev "$1" "claim-$1" medical.claim.settled 2026-03-02 '{"claim_id":"c1","member_id":"m1","kind":"inpatient","major_disease":false,"total":90000,"fund_paid":45000,"out_of_pocket":45000,"settled_on":"2026-03-02"}'; }
alert_of() { "$HEARTHCTL" --redis "$REDIS_URL" household "$1" --json | jq -r '.state.alert.id // .state.closed[-1].id'; }

# HQ1 and HQ2: raised by rigid_expenditure_illness; HQ3 too.
{ reg HQ1; claim HQ1; reg HQ2; claim HQ2; reg HQ3; claim HQ3; } | produce household.reports
check "three alerts raised" wait_for 30 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HGET hearth:rule_outcomes 'rigid_expenditure_illness|raised')\" = 3 ]"
A1=$(alert_of HQ1); A3=$(alert_of HQ3)
{
        # HQ1: help, then a verified income that clears it: with help.
        ev HQ1 m1 measure.applied 2026-03-03 "{\"alert_id\":\"$A1\",\"measure\":\"medical_assistance\",\"by\":\"C1\",\"applied_on\":\"2026-03-03\"}"
        ev HQ1 v1 civil.income.verified 2026-03-04 '{"year":2025,"disposable":50000}'
        # HQ2: the verified income alone: cleared by data.
        ev HQ2 v2 civil.income.verified 2026-03-04 '{"year":2025,"disposable":50000}'
        # HQ3: resolved without help, reported as a false alarm: refused.
        ev HQ3 r3 alert.resolved 2026-03-04 "{\"alert_id\":\"$A3\",\"by\":\"C1\",\"outcome\":\"false_alarm\"}"
} | produce household.reports
check "HQ1 eliminated with help" wait_for 30 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HGET hearth:rule_outcomes 'rigid_expenditure_illness|eliminated_with_help')\" = 1 ]"
check "HQ2 cleared by data" wait_for 30 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HGET hearth:rule_outcomes 'rigid_expenditure_illness|cleared_by_data')\" = 1 ]"
check "HQ3's resolution refused and reported a false alarm" wait_for 30 bash -c \
        "[ \"\$(redis-cli -p $REDIS_PORT HGET hearth:rule_outcomes 'rigid_expenditure_illness|false_alarm')\" = 1 ] && [ \"\$(redis-cli -p $REDIS_PORT HGET hearth:rule_outcomes 'rigid_expenditure_illness|resolution_refused')\" = 1 ]"
ev HQ1 s1 satisfaction.rated 2026-03-05 "{\"alert_id\":\"$A1\",\"score\":1}" | produce household.reports
check "a low score on HQ1 reopens it" wait_for 30 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HGET hearth:rule_outcomes 'rigid_expenditure_illness|reopened')\" = 1 ]"
# The same events again (same source + id): nothing counts twice.
{ claim HQ1; ev HQ3 r3 alert.resolved 2026-03-04 "{\"alert_id\":\"$A3\",\"by\":\"C1\",\"outcome\":\"false_alarm\"}"; } |
        produce household.reports
sleep 3
check "hearth_rule_outcomes_total{rule=rigid_expenditure_illness}: raised 3, eliminated_with_help 1, cleared_by_data 1, resolution_refused 1, false_alarm 1, reopened 1 (redelivery counted once)" \
        test "$(outcome rigid_expenditure_illness raised) $(outcome rigid_expenditure_illness eliminated_with_help) $(outcome rigid_expenditure_illness cleared_by_data) $(outcome rigid_expenditure_illness resolution_refused) $(outcome rigid_expenditure_illness false_alarm) $(outcome rigid_expenditure_illness reopened)" = "3 1 1 1 1 1"
http "$MPORT" /metrics | grep hearth_rule_outcomes_total | sed 's/^/#   /'
out=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by rule --json)
check "report --by rule --json: the same figures, two eliminations, a median" jq -e \
        '.[] | select(.rule == "rigid_expenditure_illness") | .raised == 3 and .eliminated_with_help == 1 and .cleared_by_data == 1 and .resolution_refused == 1 and .false_alarm == 1 and .reopened == 1 and .eliminated == 2 and (.median_seconds | type) == "number"' <<<"$out"
check "report --by rule lists every rule of the rule set" \
        test "$(jq length <<<"$out")" = "$(grep -c '^  - id:' "$ROOT"/rules/*.yaml | awk -F: '{s += $2} END {print s}')"
out=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by rule)
check "report --by rule: a table" bash -c "grep -qE '^rigid_expenditure_illness +3 +1 +1 +1 +1 +1' <<<\"\$0\"" "$out"
grep -E '^(rule|rigid)' <<<"$out" | sed 's/^/#   /'
"$HEARTHCTL" --config "$T/hearth.yaml" report 2>/dev/null; rc=$?
check "report without --by rule exits 2" test "$rc" = 2
stop_hearthd
check "hearthd exits 0" test "$HEARTHD_RC" = 0
finish
