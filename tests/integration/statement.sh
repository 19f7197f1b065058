# The benefits statement (幸福清单, REQ-13) through the test broker and a real
# redis-server: a household with a contact_phone, a minimum-living grant
# over several months, relief payments and a medical claim. The statement of
# the last month is published once on hearth.alerts with the expected items
# and totals (computed here from the events sent) and validates against
# schemas/out; `hearthctl benefits --format json` prints the same data; after
# kill -9 and Redis losing the statement's commit (the period is run again)
# the re-emitted statement has the same id and the same bytes; a household
# without a contact_phone gets none.
source "$(dirname "$0")/../lib.sh"

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config "benefits:
  period: monthly
  delay: 0s
timers:
  check_interval: 200ms"
OUTCHECK="$ROOT/build/outcheck" # make all

# The period: the month before this one (China Standard Time), its year Y
# and month number M; the grant runs from January 1 of Y.
P=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-15) -1 month" +%Y-%m)
Y=${P%-*}
M=$((10#${P#*-}))
LAST=$(TZ=Asia/Shanghai date -d "$P-01 +1 month -1 day" +%Y-%m-%d)
NEXT=$(TZ=Asia/Shanghai date -d "$P-01 +1 month" +%Y-%m-%d)
diag "period $P ($P-01 .. $LAST)"

ev() { # ev HOUSEHOLD ID TYPE DATA_JSON
        printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"%s","time":"%sT09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$P-01" "$1" "$4"
}
reg() { # reg HOUSEHOLD [PHONE]
        local phone=""
        [ -n "${2:-}" ] && phone=",\"contact_phone\":\"$2\""
        ev "$1" "reg-$1" household.registered "{\"town\":\"温溪镇\",\"village\":\"东岸村\",\"cadre\":{\"id\":\"C1\"},\"members\":[{\"id\":\"m1\",\"labor\":\"full\",\"disability_grade\":0,\"serious_illness\":false,\"incapacitated\":false,\"student\":false}],\"status\":\"minimum_living\",\"income_last_year\":{\"year\":$((Y - 1)),\"disposable\":90000}$phone}"
}
events() { # events HOUSEHOLD: the benefits of the scenario
        ev "$1" "g-$1" civil.assistance.changed "{\"program\":\"minimum_living\",\"action\":\"granted\",\"monthly_amount\":850,\"effective\":\"$Y-01-01\"}"
        ev "$1" "r1-$1" civil.relief.paid "{\"kind\":\"temporary_relief\",\"amount\":2000,\"paid_on\":\"$P-12\",\"payer\":\"青田县民政局\"}"
        ev "$1" "r2-$1" civil.relief.paid "{\"kind\":\"condolence\",\"amount\":300,\"paid_on\":\"$Y-01-10\"}"
        ev "$1" "r3-$1" civil.relief.paid "{\"kind\":\"subsidy\",\"amount\":99,\"paid_on\":\"$NEXT\"}"
        ev "$1" "c1-$1" medical.claim.settled "{\"claim_id\":\"c1\",\"member_id\":\"m1\",\"kind\":\"outpatient\",\"major_disease\":false,\"total\":13000.5,\"fund_paid\":12480.5,\"out_of_pocket\":520,\"settled_on\":\"$P-20\"}"
}
H=HS0001
H0=HS0002
{ reg $H 13905781234; reg $H0; events $H; events $H0; } | produce civil-affairs.events

# The expected statement, from the events above alone: one allowance item
# per month of Y up to P (January from the 1st), the relief and the claim of
# P; the condolence money of January in P only when P is January.
expected=$(jq -n -c --arg p "$P" --arg last "$LAST" --argjson m "$M" --arg y "$Y" '
        [ {kind:"minimum_living", label:"最低生活保障金", amount:850, date:($p + "-01")},
          (if $m == 1 then {kind:"condolence", label:"慰问金", amount:300, date:($y + "-01-10")} else empty end),
          {kind:"temporary_relief", label:"临时救助", amount:2000, date:($p + "-12"), payer:"青田县民政局"},
          {kind:"medical_insurance", label:"医保基金支付", amount:12480.5, date:($p + "-20")} ] as $items
        | {household_id:"HS0001", contact_phone:"13905781234", period:{from:($p + "-01"), to:$last},
           items:$items, period_total:($items | map(.amount) | add),
           year_total:(850 * $m + 300 + 2000 + 12480.5)}')

start_hearthd
check "hearthd READY" wait_ready 30
statements() { consume hearth.alerts | cut -f3 | jq -c --arg h "$1" 'select(.type == "benefits.statement" and .subject == $h)'; }
nstatements() { statements "$1" | grep -c .; }
export -f statements nstatements consume
export BOOTSTRAP T
check "the statement of $P is published" wait_for 30 bash -c "[ \$(nstatements $H) -ge 1 ]"
sleep 2
first=$(statements $H | head -1)
check "once" test "$(nstatements $H)" = 1
check "its id is s-<hash>:$P and its time the end of the period" \
        jq -e --arg p "$P" --arg n "$NEXT" '(.id | test("^s-[0-9a-f]{16}:" + $p + "$")) and .time == ($n + "T00:00:00+08:00") and .source == "hearth" and .subject == "HS0001" and .dataschema == "https://hearth.invalid/schemas/out/benefits.statement.json"' <<<"$first"
got=$(jq -c -S .data <<<"$first")
want=$(jq -c -S . <<<"$expected")
check "the items and totals computed from the events sent" test "$got" = "$want"
[ "$got" = "$want" ] || { diag "got  $got"; diag "want $want"; }
check "it validates against schemas/out/benefits.statement.json" bash -c "'$OUTCHECK' '$ROOT/schemas' <<<'$first' >/dev/null"
check "every output on hearth.alerts validates against schemas/out" \
        bash -c "consume hearth.alerts | '$OUTCHECK' '$ROOT/schemas' >'$T/outcheck.txt'"
dump "$T/outcheck.txt" 3
check "no statement for the household without a contact_phone" test "$(nstatements $H0)" = 0
key=$(consume hearth.alerts | awk -F'\t' -v h=$H 'index($3, "benefits.statement") && $1 == h' | grep -c .)
check "keyed by the household id" test "$key" = 1

json=$("$HEARTHCTL" --config "$T/hearth.yaml" benefits $H --period "$P" --format json); rc=$?
check "hearthctl benefits --format json exits 0" test "$rc" = 0
check "... and prints the published data" test "$(jq -c -S . <<<"$json")" = "$got"
check "... byte for byte" test "$json" = "$(jq -c .data <<<"$first")"
dflt=$("$HEARTHCTL" --config "$T/hearth.yaml" benefits $H --format json)
check "without --period: the latest period that ended ($P)" test "$dflt" = "$json"
text=$("$HEARTHCTL" --config "$T/hearth.yaml" benefits $H --period "$P")
check "text: the labels and the period total" \
        bash -c "grep -q '最低生活保障金' <<<\"\$0\" && grep -q 'period total: $(jq -r .period_total <<<"$expected") yuan' <<<\"\$0\"" "$text"
html=$("$HEARTHCTL" --config "$T/hearth.yaml" benefits $H --period "$P" --format html)
check "html: a printable page in Chinese with every item" \
        bash -c "grep -q '<html lang=\"zh-CN\">' <<<\"\$0\" && grep -q '本期合计' <<<\"\$0\" && [ \$(grep -c '<tr><td>' <<<\"\$0\") = $(jq '.items | length' <<<"$expected") ]" "$html"
"$HEARTHCTL" --config "$T/hearth.yaml" benefits $H --period 2026-13 >/dev/null 2>&1
check "a bad --period exits 2" test $? = 2

# --- kill -9, Redis loses the statement's commit, restart: the period runs again.
kill -KILL "$HEARTHD_PID"; wait "$HEARTHD_PID" 2>/dev/null
doc=$(hh "$H" | jq '.state')
check "the schedule moved past $P" jq -e --arg p "$P" '.statement.last == $p' <<<"$doc"
# As after a power loss of Redis with AOF everysec: the household's state
# before that commit (the schedule back at P, no outbox entry).
rewound=$(jq -c --arg p "$P" '.statement.period = $p | .statement.due_ms = 1 | del(.statement.last)' <<<"$doc")
"$ROOT/build/recset" "$REDIS_URL" hearth "$H" <<<"$rewound" || echo "# recset failed"
rcli DEL "hearth:{$H}:outbox" >/dev/null
# A payment of this month arrives meanwhile: not in the closed period.
ev $H r4-$H civil.relief.paid "{\"kind\":\"temporary_relief\",\"amount\":500,\"paid_on\":\"$NEXT\"}" | produce civil-affairs.events
start_hearthd
check "restarted" wait_ready 30
check "the statement of $P is published again" wait_for 30 bash -c "[ \$(nstatements $H) -ge 2 ]"
sleep 2
check "same id, same bytes (data and time)" test "$(statements $H | sort -u | grep -c .)" = 1
check "two copies, one id" test "$(statements $H | jq -r .id | sort -u | grep -c .)" = 1
json2=$("$HEARTHCTL" --config "$T/hearth.yaml" benefits $H --period "$P" --format json)
check "hearthctl still prints the published data" test "$json2" = "$json"
check "the schedule is past $P again" \
        bash -c "hh '$H' | jq -e --arg p '$P' '.state.statement.last == \$p' >/dev/null"
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$T/hearthd.log'"
finish
