# The supervision report (REQ-14) through the test broker and a real
# redis-server: events for three towns and three cadres (alerts raised,
# acknowledged, eliminated, escalated, a refused resolution, ratings, key
# monitoring, visits, candidates for registration, and one household whose
# data meets a rule hearthd did not run). The expected figures are computed
# here from the events this script sent, never from hearth's output, and
# compared with `hearthctl report --by town` in JSON and CSV.
source "$(dirname "$0")/../lib.sh"

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
# hearthd runs the shipped rules without their own response limits (the
# config's seconds apply) and without income.yaml: a household whose income
# is below the line raises nothing there, and the report's audit with the
# full rules must find it.
mkdir -p "$T/rules"
for f in "$ROOT"/rules/*.yaml; do
        [ "$(basename "$f")" = income.yaml ] && continue
        sed '/respond_within:/d' "$f" >"$T/rules/$(basename "$f")"
done
write_config "alerts:
  respond_within: {red: 25s, yellow: 25s}
  reminder_after: 10s
candidates:
  grace: 0s
timers:
  check_interval: 200ms"
MPORT=$(free_port)
sed -i "s|  listen: \"\"|  listen: \"127.0.0.1:$MPORT\"\n  towns: [温溪镇, 船寮镇]|" "$T/hearth.yaml"
start_hearthd --set "rules.dir=$T/rules"
check "hearthd READY" wait_ready 30
OUTCHECK="$ROOT/build/outcheck"

TODAY=$(TZ=Asia/Shanghai date +%Y-%m-%d)
YESTERDAY=$(TZ=Asia/Shanghai date -d yesterday +%Y-%m-%d)
ev() { # ev HOUSEHOLD ID TYPE DATA_JSON
        printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"%s","time":"%sT09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$TODAY" "$1" "$4"
}
reg() { # reg HOUSEHOLD TOWN CADRE [ILL] [INCOME]
        ev "$1" "reg-$1" household.registered "{\"town\":\"$2\",\"village\":\"V\",\"cadre\":{\"id\":\"$3\"},\"members\":[{\"id\":\"m1\",\"labor\":\"full\",\"disability_grade\":0,\"serious_illness\":${4:-false},\"incapacitated\":false,\"student\":false},{\"id\":\"m2\",\"labor\":\"full\",\"disability_grade\":0,\"serious_illness\":false,\"incapacitated\":false,\"student\":false}],\"status\":\"low_income\",\"income_last_year\":{\"year\":2025,\"disposable\":${5:-90000}}}"
}
need() { ev "$1" "n-$1" need.reported "{\"need_id\":\"N-$1\",\"channel\":\"self\",\"category\":\"education\",\"urgent\":false}"; }
claim() { ev "$1" "c-$1" medical.claim.settled "{\"claim_id\":\"c-$1\",\"member_id\":\"m1\",\"kind\":\"inpatient\",\"major_disease\":true,\"total\":40000,\"fund_paid\":10000,\"out_of_pocket\":30000,\"settled_on\":\"$TODAY\"}"; }
visit() { ev "$1" "v-$1-$2" visit.recorded "{\"cadre_id\":\"C1\",\"visited_on\":\"$2\",\"checks\":{\"food_clothing\":\"ok\",\"education\":\"ok\",\"medical\":\"ok\",\"housing\":\"ok\",\"drinking_water\":\"ok\"}}"; }
A=温溪镇 B=船寮镇 C=鹤城街道
{
        reg HR01 $A C1; reg HR02 $A C2; reg HR03 $B C2; reg HR04 $B C3 true
        reg HR05 $C C1; reg HR08 $C C3 false 5000
        ev HR01 d-HR01 disaster.loss.reported "{\"disaster\":\"typhoon\",\"occurred_on\":\"$TODAY\",\"house_damage\":\"collapsed\",\"property_loss\":80000,\"income_loss\":0,\"injured\":0,\"deaths\":0}"
        need HR02; need HR03
        visit HR05 "$YESTERDAY"; visit HR05 "$TODAY"; visit HR05 "$TODAY"
        claim HR06; claim HR07
} | produce household.reports
alerts() { consume hearth.alerts | cut -f3; }
aid() { alerts | jq -r --arg h "$1" 'select(.subject == $h and .type == "risk.alert.raised") | .data.alert_id' | head -1; }
export -f alerts aid consume
export BOOTSTRAP T
check "alerts raised for HR01, HR02, HR03" wait_for 30 bash -c '[ -n "$(aid HR01)" ] && [ -n "$(aid HR02)" ] && [ -n "$(aid HR03)" ]'
a1=$(aid HR01) a2=$(aid HR02) a3=$(aid HR03)
# Acknowledged at once (well within the 25 s limit); HR03 never is.
{
        ev HR01 ack-HR01 alert.acknowledged "{\"alert_id\":\"$a1\",\"by\":\"C1\"}"
        ev HR02 ack-HR02 alert.acknowledged "{\"alert_id\":\"$a2\",\"by\":\"C2\"}"
        ev HR02 da-HR02 department.answered "{\"alert_id\":\"$a2\",\"department\":\"county-education\",\"answer\":\"accepted\",\"by\":\"E1\"}"
} | produce household.reports
check "two candidates identified" wait_for 30 bash -c '[ $(alerts | grep -c candidate.identified) -ge 2 ]'
{
        ev HR01 m-HR01 measure.applied "{\"alert_id\":\"$a1\",\"measure\":\"housing_repair\",\"amount\":20000,\"by\":\"县住建局\",\"applied_on\":\"$TODAY\"}"
        ev HR01 res-HR01 alert.resolved "{\"alert_id\":\"$a1\",\"by\":\"C1\"}"
        ev HR02 nr-HR02 need.resolved "{\"need_id\":\"N-HR02\"}"
        ev HR03 res-HR03 alert.resolved "{\"alert_id\":\"$a3\",\"by\":\"C2\"}"
        reg HR06 $C C3
} | produce household.reports
check "HR01 and HR02 eliminated" wait_for 30 bash -c '[ $(alerts | grep -c risk.eliminated) -ge 2 ]'
{
        ev HR01 s-HR01 satisfaction.rated "{\"alert_id\":\"$a1\",\"score\":5}"
        ev HR02 s-HR02 satisfaction.rated "{\"alert_id\":\"$a2\",\"score\":4}"
} | produce household.reports
check "HR06's alert after its registration" wait_for 30 bash -c '[ -n "$(aid HR06)" ]'
ev HR06 ack-HR06 alert.acknowledged "{\"alert_id\":\"$(aid HR06)\",\"by\":\"C3\"}" | produce household.reports
check "HR03 escalated (never acknowledged)" wait_for 60 bash -c 'alerts | grep -q "risk.alert.escalated.*HR03"'
check "ratings applied" wait_for 30 bash -c "hh HR02 | jq -e '.state.closed[-1].satisfaction == 4' >/dev/null"
sleep 1

# The expected figures, from the events above: per town, households
# registered, alerts raised (peak colour) and their categories, how many
# were acknowledged, eliminated, escalated, refused, rated (and the mean),
# key monitoring (a seriously ill member), visits (distinct dates),
# candidates and the audit.
expected=$(jq -n -c --arg A $A --arg B $B --arg C $C '
  def g(n; h; r; y; red; cats; ack; el; esc; ref; sn; sm; mon; vd; ci; cr; mi):
    {name:n, households:h, raised:r, yellow:y, red:red, cats:cats, acked:ack, eliminated:el,
     escalations:esc, refused:ref, ratings:sn, mean:sm, monitored:mon, visits_done:vd,
     candidates:ci, candidates_registered:cr, missed:mi};
  [ g("-"; 0; 0; 0; 0; {}; 0; 0; 0; 0; 0; null; 0; 0; 1; 0; 0),
    g($A; 2; 2; 1; 1; {disaster:1, need:1}; 2; 2; 0; 0; 2; 4.5; 0; 0; 0; 0; 0),
    g($B; 2; 1; 1; 0; {need:1}; 0; 0; 1; 1; 0; null; 1; 0; 0; 0; 0),
    g($C; 3; 1; 0; 1; {illness:1}; 1; 0; 0; 0; 0; null; 0; 2; 1; 1; 1) ] | sort_by(.name)')
shape='[.groups[] | {name, households, raised:.alerts.raised, yellow:.alerts.yellow, red:.alerts.red,
         cats:.alerts.by_category, acked:.acknowledge_seconds.count, eliminated:.eliminate_seconds.count,
         escalations, refused, ratings:.satisfaction.count, mean:.satisfaction.mean, monitored,
         visits_done:.visits.done, candidates:.candidates.identified,
         candidates_registered:.candidates.registered, missed}] | sort_by(.name)'
json=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by town --from "$YESTERDAY" --to "$TODAY" --format json); rc=$?
check "report --by town --format json exits 0" test "$rc" = 0
got=$(jq -S -c "$shape" <<<"$json")
expected=$(jq -S -c . <<<"$expected")
check "per town: the figures computed from the events sent" test "$got" = "$expected"
[ "$got" = "$expected" ] || { diag "got      $got"; diag "expected $expected"; }
check "totals add up (4 alerts raised, 7 households, 2 candidates, 1 registered)" \
        jq -e '.total.alerts.raised == 4 and .total.households == 7 and .total.candidates.identified == 2 and .total.candidates.registered == 1' <<<"$json"
check "the audit lists HR08 (income below the line, no alert open)" \
        jq -e '.missed.count == 1 and .missed.households == ["HR08"]' <<<"$json"
check "time to acknowledge and to eliminate: median <= p90, both >= 0" \
        jq -e '[.groups[] | select(.name == "'$A'") | .acknowledge_seconds, .eliminate_seconds | .median >= 0 and .median <= .p90] | all' <<<"$json"
check "no visits due yet (every household registered today)" jq -e '.total.visits.due == 0' <<<"$json"

csv=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by town --from "$YESTERDAY" --to "$TODAY" --format csv)
# The CSV's columns by their header, as JSON, in the same shape.
csvjson=$(jq -R -s -c 'split("\n") | map(select(length > 0)) | (.[0] | split(",")) as $h
        | .[1:] | map(split(",")) | map([$h, .] | transpose | map({(.[0]): .[1]}) | add)' <<<"$csv")
gotcsv=$(jq -S -c --arg by town '[.[] | select(.town != "(total)") | {name:.town, households:(.households|tonumber),
        raised:(.alerts|tonumber), yellow:(.yellow|tonumber), red:(.red|tonumber), acked:(.acked|tonumber),
        eliminated:(.eliminated|tonumber), escalations:(.escalations|tonumber), refused:(.refused|tonumber),
        ratings:(.ratings|tonumber), monitored:(.monitored|tonumber), visits_done:(.visits_done|tonumber),
        candidates:(.candidates|tonumber), candidates_registered:(.candidates_registered|tonumber),
        missed:(.missed|tonumber)}] | sort_by(.name)' <<<"$csvjson")
wantcsv=$(jq -S -c '[.[] | del(.cats, .mean)]' <<<"$expected")
check "CSV: the same figures per town" test "$gotcsv" = "$wantcsv"
[ "$gotcsv" = "$wantcsv" ] || { diag "csv $gotcsv"; diag "want $wantcsv"; }
check "CSV: the total row and the mean rating of $A" \
        bash -c "grep -q '^(total),7,4,' <<<\"\$0\" && grep '^$A,' <<<\"\$0\" | grep -q ',4.50,'" "$csv"
html=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by town --format html)
check "HTML: a table in Chinese with HR08 in the audit" bash -c "grep -q '漏监测核查' <<<\"\$0\" && grep -q '<li>HR08</li>' <<<\"\$0\"" "$html"
text=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by cadre)
check "by cadre: C1, C2, C3 and the total" bash -c "grep -qx C1 <<<\"\$0\" && grep -qx C2 <<<\"\$0\" && grep -qx C3 <<<\"\$0\" && grep -qx '(total)' <<<\"\$0\"" "$text"
cj=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by cadre --format json)
check "by cadre: C2 has the two need alerts, one escalation" \
        jq -e '.groups[] | select(.name == "C2") | .alerts.raised == 2 and .escalations == 1' <<<"$cj"
dj=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by department --format json)
# Departments by the categories of the alerts sent above (the shipped
# default departments): HR01's disaster to the emergency office, the two
# education needs (HR02, HR03) to the education bureau, which answered
# HR02's, HR06's illness to medical security; no deadline (1 or 3 days)
# passed during the test.
dexp='[{"name":"county-education","routed":2,"answered":1,"overdue":0},{"name":"county-emergency","routed":1,"answered":0,"overdue":0},{"name":"county-medical-security","routed":1,"answered":0,"overdue":0}]'
dgot=$(jq -c '[.groups[] | {name, routed:.department_answers.routed, answered:.department_answers.answered, overdue:.department_answers.overdue}] | sort_by(.name)' <<<"$dj")
check "by department: rows as routed by the events' categories, one answer" test "$dgot" = "$dexp"
[ "$dgot" = "$dexp" ] || diag "got $dgot"
check "by department: total routed 4 of 4 alerts" \
        jq -e '.total.department_answers.routed == 4 and .total.alerts.raised == 4' <<<"$dj"
none=$("$HEARTHCTL" --config "$T/hearth.yaml" report --by town --from 2020-01-01 --to 2020-12-31 --format json)
check "a range before everything: no alert counted" jq -e '.total.alerts.raised == 0' <<<"$none"
"$HEARTHCTL" --config "$T/hearth.yaml" report --by village >/dev/null 2>&1
check "--by village exits 2" test $? = 2
"$HEARTHCTL" --config "$T/hearth.yaml" report --by town --from 2026-13-01 >/dev/null 2>&1
check "a bad --from exits 2" test $? = 2
"$HEARTHCTL" --config "$T/hearth.yaml" report --by rule --json >/dev/null
check "--by rule still works" test $? = 0
# The same figures as metrics by town, the town held to metrics.towns
# (鹤城街道 is not listed: it counts as "other"). HR05's third visit has the
# id of its second: one event.
metrics() { exec 5<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&5; cat <&5; }
m=$(metrics | grep '^hearth_town_')
mval() { awk -v k="$1" '$1 == k {print $2}' <<<"$m"; }
want_metrics="raised_red 温溪镇 1|raised_yellow 温溪镇 1|acknowledged 温溪镇 2|eliminated 温溪镇 2|rated 温溪镇 2|rating_points 温溪镇 9|raised_yellow 船寮镇 1|escalated 船寮镇 1|refused 船寮镇 1|monitoring_started 船寮镇 1|raised_red other 1|acknowledged other 1|visited other 2"
bad=""
IFS='|' read -ra rows <<<"$want_metrics"
for row in "${rows[@]}"; do
        read -r fig town n <<<"$row"
        v=$(mval "hearth_town_supervision_total{figure=\"$fig\",town=\"$town\"}")
        [ "$v" = "$n" ] || bad="$bad $fig/$town=${v:-none}(want $n)"
done
check "metrics by town: the figures of the events sent" test -z "$bad"
[ -z "$bad" ] && true || diag "metrics:$bad"
check "no series for an unlisted town" bash -c "! grep -q '鹤城街道' <<<\"\$0\"" "$m"
check "time to acknowledge by town: 2 in 温溪镇" \
        test "$(mval 'hearth_town_time_to_acknowledge_seconds_count{town="温溪镇"}')" = 2
check "every output validates against schemas/out" bash -c "consume hearth.alerts | '$OUTCHECK' '$ROOT/schemas' >'$T/outcheck.txt'"
dump "$T/outcheck.txt" 3
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$T/hearthd.log'"
finish
