# Hot reload (SIGHUP): a changed threshold applies to the next event; a
# broken rule file is reported with file:line:col and changes nothing (the
# old rules keep running); RELOADING=1 then READY=1 around it. Also runs
# `hearthctl test-rules rules/` as an operator would before a reload.
source "$(dirname "$0")/../lib.sh"

out=$("$HEARTHCTL" test-rules "$ROOT/rules" 2>&1); rc=$?
check "hearthctl test-rules rules/ passes (exit $rc)" test "$rc" = 0
check "hearthctl test-rules reports its count" has "$out" "rule tests in [0-9]+ files: [0-9]+ passed, 0 failed"

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
mkdir -p "$T/rules"
cp "$ROOT"/rules/*.yaml "$T/rules/"
write_config "policy:
  thresholds:
    major_out_of_pocket: 20000"
sed -i "s|dir: $ROOT/rules|dir: $T/rules|" "$T/hearth.yaml"
start_hearthd
check "hearthd READY" wait_ready 30

reg() {
        printf '%s\t{"specversion":"1.0","id":"reg-%s","source":"test","type":"household.registered","time":"2026-01-05T09:00:00+08:00","subject":"%s","data":{"town":"温溪镇","village":"东岸村","cadre":{"id":"C1"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":900000}}}\n' "$1" "$1" "$1"
}
claim() {
        printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"medical.claim.settled","time":"2026-03-02T08:00:00+08:00","subject":"%s","data":{"claim_id":"%s","member_id":"m1","kind":"inpatient","major_disease":true,"total":%s,"fund_paid":0,"out_of_pocket":%s,"settled_on":"2026-03-02"}}\n' "$1" "$2" "$1" "$2" "$3" "$3"
}
raised() { consume hearth.alerts | cut -f3 | jq -c --arg h "$1" 'select(.subject == $h and .type == "risk.alert.raised")' | grep -c .; }
export -f raised consume
export BOOTSTRAP T

{ reg HR1; claim HR1 c1 15000; } | produce medical-insurance.events
wait_for 30 bash -c "\"$HEARTHCTL\" --redis $REDIS_URL household HR1 --json 2>/dev/null | jq -e '.state.events == 2' >/dev/null"
sleep 1
check "threshold 20000: a 15000 yuan major-disease claim raises nothing" test "$(raised HR1)" = 0

# Lower the threshold in the config file and reload.
sed -i 's/major_out_of_pocket: 20000/major_out_of_pocket: 10000/' "$T/hearth.yaml"
: >"$T/notify.before"; cp "$T/notify.log" "$T/notify.before"
kill -HUP "$HEARTHD_PID"
check "reload logged with the rule count" wait_for 20 grep -q "reload: [0-9]* rules" "$T/hearthd.log"
check "RELOADING=1 then READY=1 sent" bash -c "diff <(cat '$T/notify.before') '$T/notify.log' | grep -q RELOADING=1 && diff <(cat '$T/notify.before') '$T/notify.log' | grep -A5 RELOADING | grep -q READY=1"
{ reg HR2; claim HR2 c2 15000; } | produce medical-insurance.events
check "threshold 10000 after reload: the next 15000 yuan claim raises a red alert" \
        wait_for 30 bash -c "[ \$(raised HR2) = 1 ]"

# A broken rule file: every mistake reported, the old rules keep running.
cat >"$T/rules/zz-broken.yaml" <<'YAML'
rules:
  - id: broken_one
    category: illness
    severity: purple
    when: medical_12m > > 1
    message: {zh: "x", en: "x"}
  - id: broken_two
    category: nonsense
    severity: red
    when: unknown_variable > 1
    message: {zh: "{nope}", en: "y"}
YAML
kill -HUP "$HEARTHD_PID"
check "broken reload: errors logged" wait_for 20 grep -q "reload: rules have errors; the old rules keep running" "$T/hearthd.log"
check "broken reload: severity error at zz-broken.yaml:4:15" grep -q "zz-broken.yaml:4:15:" "$T/hearthd.log"
check "broken reload: expression error located in zz-broken.yaml:5" grep -qE "zz-broken.yaml:5:[0-9]+:" "$T/hearthd.log"
check "broken reload: unknown variable located in zz-broken.yaml:10" grep -qE "zz-broken.yaml:10:[0-9]+:.*unknown_variable" "$T/hearthd.log"
check "broken reload: category error at zz-broken.yaml:8" grep -qE "zz-broken.yaml:8:[0-9]+:" "$T/hearthd.log"
{ reg HR3; claim HR3 c3 15000; } | produce medical-insurance.events
check "after the broken reload the old rules (threshold 10000) still apply" \
        wait_for 30 bash -c "[ \$(raised HR3) = 1 ]"
out=$("$HEARTHD" --check --config "$T/hearth.yaml" 2>&1); rc=$?
check "hearthd --check on the broken rules: exit 1 with file:line:col" bash -c "[ $rc = 1 ] && grep -q 'zz-broken.yaml:4:15:' <<<\"\$0\"" "$out"

# The other keys --help-config calls reloadable take effect too: the log
# level (the reload's own notice is then not printed) and the status
# interval (STATUS= every second before, none after).
rm -f "$T/rules/zz-broken.yaml"
sed -i 's/^  level: debug$/  level: warning/; s/^  status_interval: 1s$/  status_interval: 1h/' "$T/hearth.yaml"
before=$(grep -c "STATUS=" "$T/notify.log")
sleep 3
during=$(( $(grep -c "STATUS=" "$T/notify.log") - before ))
check "status every second before the reload ($during in 3 s)" test "$during" -ge 2
lines=$(wc -l <"$T/hearthd.log")
readies=$(grep -c "READY=1" "$T/notify.log")
kill -HUP "$HEARTHD_PID"
check "reload done (READY=1 again)" wait_for 20 bash -c "[ \$(grep -c READY=1 '$T/notify.log') -gt $readies ]"
before=$(grep -c "STATUS=" "$T/notify.log")
sleep 4
after=$(( $(grep -c "STATUS=" "$T/notify.log") - before ))
check "log.status_interval reloaded: no STATUS= in 4 s at 1h ($after)" test "$after" -le 1
check "log.level reloaded: the reload's notice is not printed at level warning" \
        bash -c "! tail -n +$((lines + 1)) '$T/hearthd.log' | grep -q 'reload: [0-9]* rules'"
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
finish
