# Departments answer in time (部门限时答复, REQ-9) through the test broker and
# a real redis-server: alerts carry the departments their reasons route to
# with answer_by = raise time + answer_within; a department added by a
# change answers from that change; a department that misses its deadline is
# escalated once (overdue_party department), across a restart; a cadre's
# escalation says overdue_party cadre; a help_planned answer lets
# alert.resolved eliminate the risk, listed as help; the closed alert keeps
# the departments' answers; every output validates against schemas/out.
source "$(dirname "$0")/../lib.sh"
OUTCHECK=${OUTCHECK:-$ROOT/build/outcheck}

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
# The shipped rules without their own response limits: the config's apply.
mkdir -p "$T/rules"
for f in "$ROOT"/rules/*.yaml; do sed '/respond_within:/d' "$f" >"$T/rules/$(basename "$f")"; done
write_config "alerts:
  respond_within: {red: 6s, yellow: 1h}
  reminder_after: 1h
visits:
  interval: 1h
timers:
  check_interval: 200ms
departments:
  - {id: dept-medical, name: 县医疗保障局, categories: [illness, medical], answer_within: 4s}
  - {id: dept-emergency, name: 县应急管理局, categories: [disaster, accident], answer_within: 4s}
  - {id: dept-education, name: 县教育局, categories: [education], answer_within: 5s}
  - {id: dept-civil, name: 县民政局, categories: [income_drop, guarantee, other], answer_within: 1h}"
sed -i "s|dir: $ROOT/rules|dir: $T/rules|" "$T/hearth.yaml"
start_hearthd
check "hearthd READY" wait_ready 30

reg() {
        printf '%s\t{"specversion":"1.0","id":"reg-%s","source":"test","type":"household.registered","time":"2026-01-05T09:00:00+08:00","subject":"%s","data":{"town":"温溪镇","village":"东岸村","cadre":{"id":"C1","name":"陈丽华"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":90000}}}\n' \
                "$1" "$1" "$1"
}
ev() { # ev HOUSEHOLD ID TYPE DATA_JSON
        printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"%s","time":"2026-03-10T09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$1" "$4"
}
disaster() { ev "$1" "$2" disaster.loss.reported '{"disaster":"typhoon","occurred_on":"2026-03-01","house_damage":"collapsed","property_loss":80000,"income_loss":5000,"injured":0,"deaths":0}'; }
claim() { ev "$1" "$2" medical.claim.settled "{\"claim_id\":\"$2\",\"member_id\":\"m1\",\"kind\":\"inpatient\",\"major_disease\":true,\"total\":$3,\"fund_paid\":0,\"out_of_pocket\":$3,\"settled_on\":\"2026-03-02\"}"; }
need() { ev "$1" "$2" need.reported "{\"need_id\":\"$3\",\"channel\":\"self\",\"category\":\"$4\",\"urgent\":false}"; }
answer() { # answer HOUSEHOLD ID ALERT DEPARTMENT ANSWER
        ev "$1" "$2" department.answered "{\"alert_id\":\"$3\",\"department\":\"$4\",\"answer\":\"$5\",\"by\":\"D-007\",\"note\":\"已受理\"}"
}
alerts() { consume hearth.alerts | cut -f3; }
of() { alerts | jq -c --arg h "$1" --arg t "${2:-}" 'select(.subject == $h and ($t == "" or .type == $t))'; }
count_of() { of "$@" | grep -c .; }
wait_count() { local want=$1; shift; wait_for 30 bash -c "[ \$(count_of $*) -ge $want ]"; }
# secs RFC3339: seconds since the epoch.
secs() { date -d "$1" +%s; }
doc() { hh "$1" | jq '.state'; }
export -f of count_of alerts consume
export BOOTSTRAP T

# --- a department that misses its deadline is escalated once ---------------
H1=HD0001
{ reg $H1; disaster $H1 d1; } | produce household.reports
check "disaster: risk.alert.raised" wait_count 1 $H1 risk.alert.raised
raised=$(of $H1 risk.alert.raised | head -1)
aid1=$(jq -r .data.alert_id <<<"$raised")
check "raised carries departments: the emergency office for the disaster reasons, with its name" \
        jq -e '[.data.departments[].id] == ["dept-emergency"] and .data.departments[0].name == "县应急管理局"' <<<"$raised"
at=$(jq -r .data.raised_at <<<"$raised")
by=$(jq -r '.data.departments[0].answer_by' <<<"$raised")
check "answer_by = raised_at + answer_within (4 s)" test $(($(secs "$by") - $(secs "$at"))) = 4
# esc_by HOUSEHOLD PARTY: an escalation of that party was published.
esc_by() { of "$1" risk.alert.escalated | jq -s -e --arg p "$2" 'any(.[]; .data.overdue_party == $p)' >/dev/null; }
check "the department misses its deadline: risk.alert.escalated, overdue_party department" \
        wait_for 30 esc_by $H1 department
desc=$(of $H1 risk.alert.escalated | jq -c 'select(.data.overdue_party == "department")' | head -1)
check "... naming the department, the alert and the time overdue" \
        jq -e --arg a "$aid1" '.data.department == "dept-emergency" and .data.alert_id == $a and .data.overdue_by >= 0 and .data.town == "温溪镇"' <<<"$desc"
check "the cadre's own escalation (red, 6 s, unacknowledged) says overdue_party cadre, no department" \
        bash -c "sleep 3; of $H1 risk.alert.escalated | jq -s -e 'any(.[]; .data.overdue_party == \"cadre\" and (has(\"department\") | not))' >/dev/null"
answer $H1 late1 "$aid1" dept-emergency accepted | produce household.reports
check "a late answer is recorded beside the escalation (doc.alert.departments)" \
        wait_for 20 bash -c "hh $H1 | jq -e '.state.alert.departments[0] | .answer == \"accepted\" and .by == \"D-007\" and (.answered_at|length) > 0 and (.escalated_at|length) > 0 and (.answer_by|length) > 0' >/dev/null"
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
start_hearthd
check "restarted" wait_ready 30
sleep 3
check "one escalation per alert and department, one for the cadre, across the restart" \
        bash -c "[ \$(of $H1 risk.alert.escalated | jq -c 'select(.data.overdue_party == \"department\")' | grep -c .) = 1 ] && [ \$(of $H1 risk.alert.escalated | jq -c 'select(.data.overdue_party == \"cadre\")' | grep -c .) = 1 ]"

# --- a department added by a change answers from that change ---------------
sleep 1
claim $H1 c1 30000 | produce medical-insurance.events
check "major-disease claim: risk.alert.changed" wait_count 1 $H1 risk.alert.changed
changed=$(of $H1 risk.alert.changed | head -1)
check "changed: the emergency office keeps its deadline, the medical security office is added" \
        jq -e --arg by "$by" '[.data.departments[].id] == ["dept-emergency","dept-medical"] and .data.departments[0].answer_by == $by' <<<"$changed"
by2=$(jq -r '.data.departments[1].answer_by' <<<"$changed")
check "the added department's answer_by is the change's time + 4 s" \
        test $(($(secs "$by2") - $(secs "$(jq -r .time <<<"$changed")"))) = 4
check "... and later than the first department's" test "$(secs "$by2")" -gt "$(secs "$by")"

# --- help_planned in time: no escalation, and it counts as help ------------
H2=HD0002
{ reg $H2; need $H2 n2 N2 education; } | produce household.reports
check "need.reported (education): yellow alert" wait_count 1 $H2 risk.alert.raised
r2=$(of $H2 risk.alert.raised | head -1)
aid2=$(jq -r .data.alert_id <<<"$r2")
check "an open need goes to the department of its category (education)" \
        jq -e '[.data.departments[].id] == ["dept-education"]' <<<"$r2"
answer $H2 a2 "$aid2" dept-education help_planned | produce household.reports
sleep 7
check "answered in time: no escalation of that department" test "$(count_of $H2 risk.alert.escalated)" = 0
ev $H2 res2 alert.resolved "{\"alert_id\":\"$aid2\",\"by\":\"C1\"}" | produce household.reports
check "help_planned, then alert.resolved: risk.eliminated" wait_count 1 $H2 risk.eliminated
check "the department's help_planned is the help listed" \
        bash -c "of $H2 risk.eliminated | jq -e '.data.measures == [{\"measure\":\"help_planned\",\"by\":\"dept-education\",\"applied_on\":\"2026-03-10\",\"via\":\"department.answered\",\"answered_by\":\"D-007\"}]' >/dev/null"
check "the closed alert keeps its departments with the answer" \
        bash -c "hh $H2 | jq -e '.state.closed[-1].departments[0] | .id == \"dept-education\" and .answer == \"help_planned\" and (.escalated_at == null)' >/dev/null"

# --- an answer other than help_planned is no help --------------------------
H3=HD0003
{ reg $H3; need $H3 n3 N3 other; } | produce household.reports
check "need.reported (other): yellow alert" wait_count 1 $H3 risk.alert.raised
check "... to the civil affairs office (category other)" \
        bash -c "of $H3 risk.alert.raised | jq -e '[.data.departments[].id] == [\"dept-civil\"]' >/dev/null"
aid3=$(of $H3 risk.alert.raised | head -1 | jq -r .data.alert_id)
{ answer $H3 a3 "$aid3" dept-civil not_eligible; ev $H3 res3 alert.resolved "{\"alert_id\":\"$aid3\",\"by\":\"C1\"}"; } | produce household.reports
check "not_eligible then alert.resolved: refused (no help), not eliminated" \
        wait_for 30 grep -q "alert.resolved refused: household $H3 alert $aid3" "$T/hearthd.log"
check "... no risk.eliminated" test "$(count_of $H3 risk.eliminated)" = 0

# --- a malformed answer is a dead letter -----------------------------------
answer $H3 bad3 "$aid3" dept-civil maybe | produce household.reports
check "answer 'maybe': dead letter naming data.answer" \
        wait_for 20 bash -c "consume hearth.dlq | grep -q 'hearth.error=data.answer'"

check "every output validates against schemas/out" bash -c "alerts | '$OUTCHECK' '$ROOT/schemas' >'$T/outcheck.txt'"
dump "$T/outcheck.txt" 5
stop_hearthd
check "final SIGTERM exit 0" test "$HEARTHD_RC" = 0
finish
