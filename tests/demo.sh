#!/bin/bash
# make demo: the test broker, a local redis-server and hearthd on loopback,
# then scenarios taken from the policy, each alert shown as a cadre would see
# it. Everything runs in a temp dir; the end or Ctrl-C stops all of it.
# DEMO_STAY=1 keeps the broker, Redis and hearthd running after the scenarios
# (until Ctrl-C), so that kcat can publish and subscribe from another shell
# (README, "For producers"): the bootstrap line is in build/demo.bootstrap.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d /tmp/hearth-demo.XXXXXX)
PIDS=()
BODY=
SCEN=$ROOT/tests/fixtures/demo/scenarios.txt
if [ -t 1 ]; then
        bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' yellow=$'\e[33m' red=$'\e[31m' off=$'\e[0m'
else
        bold= dim= green= yellow= red= off=
fi

cleanup() {
        trap - INT TERM
        # The scenarios run in a background job: stop what it started too.
        [ -n "${BODY:-}" ] && pkill -TERM -P "$BODY" 2>/dev/null
        for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        rm -rf "$D"
        rm -f "$ROOT/build/demo.bootstrap"
}
trap cleanup EXIT
trap 'echo; echo "${bold}demo interrupted, stopping everything...${off}"; exit 130' INT TERM

say() { echo; echo "${bold}==> $*${off}"; }
port() { for _ in $(seq 100); do p=$((10000 + RANDOM % 22000)); (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }; done; }
waitfor() { local n=$1; shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done; return 1; }

say "starting the test broker (librdkafka mock cluster: the real Kafka protocol on loopback)"
"$ROOT/build/testbroker" -b 1 -p 4 \
        -t civil-affairs.events,medical-insurance.events,disaster.events,household.reports,hearth.alerts,hearth.dlq \
        -P "$D/bootstrap" </dev/null >"$D/broker.out" 2>"$D/broker.err" &
PIDS+=($!)
waitfor 100 test -s "$D/bootstrap" || { echo "test broker did not start"; exit 1; }
BOOT=$(cat "$D/bootstrap")
echo "    bootstrap: $BOOT (also in build/demo.bootstrap)"
mkdir -p "$ROOT/build" && echo "$BOOT" >"$ROOT/build/demo.bootstrap"

RPORT=$(port)
say "starting redis-server on 127.0.0.1:$RPORT (AOF everysec, noeviction)"
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$D" --save "" --appendonly yes \
        --maxmemory-policy noeviction --logfile "$D/redis.log" &
PIDS+=($!)
waitfor 100 bash -c "[ \"\$(redis-cli -p $RPORT PING 2>/dev/null)\" = PONG ]"

# The example config's departments, the emergency office's answer limit
# cut from 1 day to 20 s so that the demo shows it missed (限时答复).
DEMO_DEPARTMENTS="[{id: county-medical-security, name: 县医疗保障局, categories: [illness, medical], answer_within: 3d},
  {id: county-education, name: 县教育局, categories: [education], answer_within: 3d},
  {id: county-housing, name: 县住房和城乡建设局, categories: [housing], answer_within: 3d},
  {id: county-emergency, name: 县应急管理局, categories: [disaster, accident], answer_within: 20s},
  {id: county-civil-affairs, name: 县民政局, categories: [income_drop, guarantee, food_clothing, other], answer_within: 3d},
  {id: county-hrss, name: 县人力资源和社会保障局, categories: [employment], answer_within: 3d},
  {id: county-water, name: 县水利局, categories: [water], answer_within: 3d},
  {id: county-disabled-persons, name: 县残疾人联合会, categories: [disability], answer_within: 3d},
  {id: county-agriculture, name: 县农业农村局, categories: [produce_purchase], answer_within: 3d}]"
say "starting hearthd with deploy/hearth.example.yaml (rules from rules/)"
"$ROOT/build/notifylisten" "$D/notify.sock" >"$D/notify.log" &
PIDS+=($!)
waitfor 50 test -S "$D/notify.sock"
NOTIFY_SOCKET="$D/notify.sock" "$ROOT/hearthd" --config "$ROOT/deploy/hearth.example.yaml" \
        --set "kafka.brokers=$BOOT" --set "redis.url=redis://127.0.0.1:$RPORT/0" \
        --set kafka.properties.fetch.wait.max.ms=10 --set kafka.properties.session.timeout.ms=6000 \
        --set metrics.listen= --set policy.language="${DEMO_LANG:-zh}" --set visits.interval=365d \
        --set "departments=$DEMO_DEPARTMENTS" 2>"$D/hearthd.log" &
HPID=$!
PIDS+=($HPID)
if waitfor 300 grep -q READY=1 "$D/notify.log"; then
        echo "    ${green}${bold}hearthd is READY${off} (sd_notify READY=1: Redis answered, consumer subscribed)"
else
        echo "${red}hearthd did not reach READY${off}"; cat "$D/hearthd.log"; exit 1
fi

# One consumer follows the alert topic for the whole demo, as a
# notification service would.
kcat -b "$BOOT" -C -t hearth.alerts -o beginning -q -u -X fetch.wait.max.ms=10 \
        >"$D/alerts.jsonl" 2>/dev/null &
PIDS+=($!)
alerts() { cat "$D/alerts.jsonl"; }
count() { grep -c . "$D/alerts.jsonl"; }

# Shows one alert CloudEvent as a cadre would read it.
show() {
        jq -r --arg red "$red" --arg yellow "$yellow" --arg green "$green" --arg bold "$bold" \
              --arg dim "$dim" --arg off "$off" '
          def col(c): if c == "red" then $red elif c == "yellow" then $yellow else $green end;
          .data as $d |
          ($d.code // (if .type == "aid.match.proposed" then "aid"
                       elif .type == "risk.eliminated" then "green"
                       elif .type == "household.candidate.identified" then "red"
                       elif (.type | startswith("household.monitoring")) then "monitor"
                       else "yellow" end)) as $c |
          "  " + col($c) + $bold + "● " + ($c | ascii_upcase) + $off + "  " + $bold + .type + $off
            + "  household " + $d.household_id
            + (if $d.town then "  " + $d.town + " " + ($d.village // "") else "" end)
            + (if $d.cadre.name then "  → cadre " + $d.cadre.name else "" end),
          ( $d.reasons // [] | .[] | "      " + col(.severity) + "[" + .category + "]" + $off
              + " " + .message + $dim + "  (" + .rule + ")" + $off,
              (if .to_clear then "        " + $dim + "to clear: " + $off + .to_clear else empty end) ),
          ( if $d.respond_by then "      respond by " + $d.respond_by else empty end ),
          ( $d.departments // [] | .[] | "      → department " + (.name // .id) + " (" + .id
              + "), answer by " + .answer_by + " (限时答复)" ),
          ( if .type == "risk.alert.escalated" then "      " + $bold + "overdue: "
              + (if $d.overdue_party == "department" then "department " + $d.department
                 else "cadre " + ($d.cadre.name // $d.cadre.id) end)
              + $off + " by " + ($d.overdue_by|tostring) + " s → escalated to " + $d.town else empty end ),
          ( if .type == "aid.match.proposed" then "      offer " + $d.offer_id + " of " + $d.provider.name
              + " (" + $d.category + ")" + (if $d.need_id then " for need " + $d.need_id else "" end)
              + " → department " + $d.department + "  match " + $d.match_id,
              "      " + $dim + "why: " + $d.why + $off else empty end ),
          ( if $d.route then "      not registered: routed to the " + $d.route + " (应纳尽纳), first event "
              + $d.first_event.type + " " + $d.first_event.id else empty end ),
          ( if .type == "risk.eliminated" then "      back to green after " + ($d.open_for|tostring)
              + " s; was " + $d.previous_code + "; measures: " + ([$d.measures[]?.measure] | join(", ")
              | if . == "" then "none recorded" else . end) else empty end ),
          "      " + $dim + "alert " + ($d.alert_id // "-") + "  event id " + .id + $off'
}

shown=0
step() {
        local n=$1 title=$2
        say "$title"
        grep -P "^$n\t" "$SCEN" | while IFS=$'\t' read -r _ topic key json; do
                echo "    ${dim}$(jq -r '.type + " from " + .source' <<<"$json") → $topic${off}"
                printf '%s\t%s\n' "$key" "$json" | kcat -b "$BOOT" -P -t "$topic" -K $'\t' 2>/dev/null
        done
        # Wait until the alerts stop coming (or 10 s), then show the new ones.
        local last=-1 stable=0 c
        for _ in $(seq 100); do
                c=$(count)
                if [ "$c" = "$last" ] && [ "$c" -gt "$shown" ]; then stable=$((stable + 1)); else stable=0; fi
                [ $stable -ge 10 ] && break
                last=$c
                sleep 0.1
        done
        c=$(count)
        if [ "$c" -gt "$shown" ]; then
                alerts | tail -n +"$((shown + 1))" | while read -r ce; do show <<<"$ce"; done
        else
                echo "    (no alert: nothing in the rules fires)"
        fi
        shown=$c
}

# The scenarios run as a background job that the shell waits for: `wait`
# returns at once on Ctrl-C, whereas a foreground kcat that exits cleanly on
# SIGINT would make bash carry on with the next scenario.
scenarios() {
step 1 "Civil affairs registers five households (household.registered); one has an incapacitated member (key monitoring)"
step 2 "A hospital bill wipes out a year's income: 45,000 yuan out of pocket, last year's income 36,000"
step 3 "A typhoon destroys a house (emergency management: house collapsed)"
step 4 "A household asks for help itself in the 浙里办 app (school fees)"
step 41 "A charity offers school sponsorship in 鹤城街道 (aid.offer.registered, REQ-12): matched to the school-fees need, routed to the education office"
step 5 "A cadre's monthly visit finds unsafe drinking water (浙政钉)"
step 6 "Help arrives: school aid granted, tap water connected → back to green (风险消除)"
step 7 "Civil affairs verifies last year's income: 32,000 yuan for 4 people, 8,000 each, below the 10,000 floor line"
step 8 "A 60,000-yuan major-disease bill for a household nobody has registered yet (应纳尽纳)"

say "The emergency office never answered the typhoon alert (demo limit 20 s; deploy 1 day): escalated, overdue_party department"
waitfor 400 grep -q '"overdue_party":"department"' "$D/alerts.jsonl"
alerts | jq -c 'select(.data.overdue_party == "department")' | while read -r ce; do show <<<"$ce"; done
shown=$(count)

say "The typhoon household's cadre answers alert.resolved with outcome false_alarm, no help recorded: refused, the alert stays open"
alert=$("$ROOT/hearthctl" --redis "redis://127.0.0.1:$RPORT/0" household H3311210023 --json | jq -r .state.alert.id)
printf 'H3311210023\t{"specversion":"1.0","id":"demo-res-0023","source":"app/zhezhengding","type":"alert.resolved","time":"2026-07-29T10:00:00+08:00","subject":"H3311210023","data":{"alert_id":"%s","by":"C331121-0023","outcome":"false_alarm"}}\n' "$alert" |
        kcat -b "$BOOT" -P -t household.reports -K $'\t' 2>/dev/null
waitfor 100 grep -q "alert.resolved refused" "$D/hearthd.log"
grep -o "alert.resolved refused: household H3311210023.*" "$D/hearthd.log" | head -1 | sed 's/^/    hearthd: /'

say "How each rule's alerts ended: hearthctl report --by rule (rule quality)"
"$ROOT/hearthctl" --config "$ROOT/deploy/hearth.example.yaml" --redis "redis://127.0.0.1:$RPORT/0" \
        report --by rule | sed 's/^/    /'

say "幸福清单 (REQ-13): a household with a contact phone; last month's statement as the SMS service receives it"
# Last month (China Standard Time): the example config sends a month's
# statement one day after it ends, so it is due at once.
P=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-15) -2 month" +%Y-%m)
[ "$(TZ=Asia/Shanghai date +%d)" -ge 2 ] && P=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-15) -1 month" +%Y-%m)
Y=${P%-*}
ce() { printf '%s\t{"specversion":"1.0","id":"%s","source":"civil-affairs/qingtian","type":"%s","time":"%s-01T09:00:00+08:00","subject":"H3311210066","data":%s}\n' H3311210066 "$1" "$2" "$P" "$3"; }
{
        ce demo-reg-0066 household.registered '{"town":"船寮镇","village":"高市村","cadre":{"id":"C331121-0066","name":"林建国"},"members":[{"id":"m1","labor":"partial","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"minimum_living","income_last_year":{"year":2025,"disposable":9000},"contact_phone":"13905780066"}'
        ce demo-dibao-0066 civil.assistance.changed "{\"program\":\"minimum_living\",\"action\":\"granted\",\"monthly_amount\":1015,\"effective\":\"$Y-01-01\"}"
        ce demo-relief-0066 civil.relief.paid "{\"kind\":\"temporary_relief\",\"amount\":3000,\"paid_on\":\"$P-08\",\"payer\":\"船寮镇人民政府\"}"
        ce demo-condolence-0066 civil.relief.paid "{\"kind\":\"condolence\",\"amount\":500,\"paid_on\":\"$P-20\",\"payer\":\"青田县民政局\"}"
} | kcat -b "$BOOT" -P -t civil-affairs.events -K $'\t' 2>/dev/null
printf 'H3311210066\t{"specversion":"1.0","id":"demo-claim-0066","source":"medical-insurance/qingtian","type":"medical.claim.settled","time":"%s-15T09:00:00+08:00","subject":"H3311210066","data":{"claim_id":"MZ-0066","member_id":"m1","kind":"chronic","major_disease":false,"total":2600,"fund_paid":2080.5,"out_of_pocket":519.5,"settled_on":"%s-15"}}\n' "$P" "$P" |
        kcat -b "$BOOT" -P -t medical-insurance.events -K $'\t' 2>/dev/null
if waitfor 150 grep -q '"type":"benefits.statement"' "$D/alerts.jsonl"; then
        st=$(grep '"type":"benefits.statement"' "$D/alerts.jsonl" | head -1)
        echo "    ${dim}benefits.statement on hearth.alerts, id $(jq -r .id <<<"$st"), key H3311210066:${off}"
        jq -c .data <<<"$st" | sed 's/^/    /'
        echo "    ${dim}the SMS it becomes (短信定期推送):${off}"
        jq -r '.data | "    【幸福清单】您家" + .period.from[0:4] + "年" + .period.from[5:7] + "月共获得帮扶"
                + (.period_total|tostring) + "元：" + ([.items[] | .label + (.amount|tostring) + "元"] | join("，"))
                + "。今年累计" + (.year_total|tostring) + "元。如有疑问请联系帮扶干部或拨打12317。"' <<<"$st"
        echo "    ${dim}the same statement any time: hearthctl benefits H3311210066 --period $P (text; --format html prints the paper copy)${off}"
        "$ROOT/hearthctl" --config "$ROOT/deploy/hearth.example.yaml" --redis "redis://127.0.0.1:$RPORT/0" \
                benefits H3311210066 --period "$P" | sed 's/^/    /'
else
        echo "    ${red}no benefits.statement arrived${off}"
fi
shown=$(count)

say "Supervision by township (REQ-14): hearthctl report --by town, and the missed-monitoring audit"
"$ROOT/hearthctl" --config "$ROOT/deploy/hearth.example.yaml" --redis "redis://127.0.0.1:$RPORT/0" \
        report --by town --format csv | column -s, -t | sed 's/^/    /'
"$ROOT/hearthctl" --config "$ROOT/deploy/hearth.example.yaml" --redis "redis://127.0.0.1:$RPORT/0" \
        report --by town | grep -A3 '^missed monitoring' | sed 's/^/    /'

say "What would a stricter reading of 明显超过 change? hearthctl preview of rigid_ratio 0.8 over the county"
echo "    ${dim}20,000 more households of 5 towns (build/hload: the household step and the commit script, as hearthd writes them)${off}"
"$ROOT/build/hload" -H 20000 -j 2 -c "$ROOT/deploy/hearth.example.yaml" -r "redis://127.0.0.1:$RPORT/0" 2>&1 |
        sed 's/^/    /'
cp -r "$ROOT/rules" "$D/candidate"
sed -i 's/^  rigid_ratio: 1$/  rigid_ratio: 0.8/' "$D/candidate/expenditure.yaml"
"$ROOT/hearthctl" --config "$ROOT/deploy/hearth.example.yaml" --redis "redis://127.0.0.1:$RPORT/0" \
        preview --rules "$D/candidate" | sed 's/^/    /'

say "every household in hearthctl (the record behind the alerts)"
for h in H3311210001 H3311210042 H3311210077; do
        "$ROOT/hearthctl" --redis "redis://127.0.0.1:$RPORT/0" household "$h" | sed 's/^/    /' | head -12
done
}
scenarios &
BODY=$!
wait "$BODY"
BODY=
if [ -n "${DEMO_STAY:-}" ]; then
        say "DEMO_STAY: the broker, Redis and hearthd keep running; Ctrl-C stops them"
        echo "    in another shell:  B=\$(cat build/demo.bootstrap)"
        echo "    then the kcat commands of README.md, \"For producers\" and \"For subscribers\""
        echo "    redis: redis://127.0.0.1:$RPORT/0  (hearthctl --redis ...)"
        echo "    new alerts appear below as they come"
        tail --pid="$HPID" -n 0 -f "$D/alerts.jsonl" | while read -r ce; do show <<<"$ce"; done &
        wait "$HPID"
fi
say "stopping (SIGTERM): hearthd drains, records its positions and exits"
kill -TERM "$HPID" 2>/dev/null; wait "$HPID"; rc=$?
grep "hearthd stopped" "$D/hearthd.log" | sed "s/^/    hearthd: /"
echo "    hearthd exit status: $rc"
exit "$rc"
