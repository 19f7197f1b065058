# The CloudEvents Kafka binding through the test broker and a real
# redis-server: every input type in binary mode (ce_ headers, the value is
# data) gives the household state that the structured run gives; the same
# source+id sent in both modes on two topics is applied once; a binary
# message that breaks a binding rule is dead-lettered naming the header,
# with the input's own headers kept; every message on hearth.alerts and
# hearth.dlq carries content-type: application/cloudevents+json, also when
# the outbox relay re-sends after a crash; outputs name their dataschema.
source "$(dirname "$0")/../lib.sh"
F=$ROOT/tests/fixtures/events
BF=$F/binary
CT='content-type=application/cloudevents+json; charset=UTF-8'

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config
start_hearthd
check "hearthd READY" wait_ready 30

# event FIXTURE HOUSEHOLD: the structured fixture as one "key<TAB>json" line.
event() { printf '%s\t%s\n' "$2" "$(jq -c --arg h "$2" '.subject = $h | del(.partitionkey)' "$F/$1.json")"; }
# binary TOPIC FIXTURE HOUSEHOLD [HEADER...]: the binary-mode fixture for
# another household, with extra kcat -H headers.
binary() {
        local topic=$1 fx=$2 h=$3 line args=()
        shift 3
        while IFS= read -r line; do
                case $line in
                ce_subject=*) line="ce_subject=$h" ;;
                ce_partitionkey=*) continue ;;
                esac
                args+=(-H "$line")
        done <"$BF/$fx.headers"
        for line in "$@"; do args+=(-H "$line"); done
        kcat -b "$BOOTSTRAP" -P -t "$topic" -k "$h" -X topic.partitioner=murmur2_random \
                "${args[@]}" <"$BF/$fx.value" 2>>"$T/kcat.err"
}
# raw TOPIC KEY VALUE [HEADER...]: one message with exactly these headers.
raw() {
        local topic=$1 key=$2 value=$3 args=() hd
        shift 3
        for hd in "$@"; do args+=(-H "$hd"); done
        printf '%s\n' "$value" | kcat -b "$BOOTSTRAP" -P -t "$topic" -k "$key" \
                -X topic.partitioner=murmur2_random "${args[@]}" 2>>"$T/kcat.err"
}
jqq() { jq -e "$@" >/dev/null; }
hh() { "$HEARTHCTL" --redis "$REDIS_URL" household "$1" --json 2>>"$T/ctl.err"; }
hh_jq() { local out; out=$(hh "$1") && [ -n "$out" ] && jq -e "$2" <<<"$out" >/dev/null; }
wait_events() { wait_for 60 hh_jq "$1" ".state.events >= $2"; }
# The parts of a household's record that the events decide (not the times
# at which hearthd applied them).
view() {
        hh "$1" | jq -S '{registered: .state.registered, events: .state.events,
                profile: (.state.profile | del(.household_id)), incomes: .state.incomes,
                programs: .state.programs, months: .state.months, needs: .state.needs,
                incidents: .state.incidents, measures: .state.measures,
                last_visit: .state.last_visit, sums_12m: .sums_12m,
                ledger: [.ledger[]? | {kind, amount}]}'
}

TYPES="household.registered civil.assistance.changed civil.relief.paid civil.income.verified
medical.claim.settled disaster.loss.reported accident.reported need.reported expense.reported
visit.recorded measure.applied alert.acknowledged alert.resolved satisfaction.rated need.resolved"

# --- structured only, binary only, and both modes on two topics -------------
HS=HB0001 HB=HB0002 HM=HB0003
for t in $TYPES; do event "$t" $HS; done | produce household.reports
for t in $TYPES; do binary household.reports "$t" $HB; done
check "15 structured events applied to $HS" wait_events $HS 15
check "15 binary-mode events applied to $HB" wait_events $HB 15
# Each event twice with the same source+id: binary on civil-affairs.events,
# structured on household.reports.
for t in $TYPES; do binary civil-affairs.events "$t" $HM; done
for t in $TYPES; do event "$t" $HM; done | produce household.reports
check "15 events applied to $HM" wait_events $HM 15
sleep 3
check "each event sent in both modes is applied once ($HM: 15 events)" hh_jq $HM '.state.events == 15'
view $HS >"$T/view.s"
view $HB >"$T/view.b"
view $HM >"$T/view.m"
check "the compared record holds the events (15, incidents, ledger, needs)" \
        jqq '.events == 15 and .registered and (.incidents|length) >= 2 and (.ledger|length) >= 3 and .sums_12m.relief == 300000' "$T/view.s"
check "binary mode gives the household state of the structured run" cmp -s "$T/view.s" "$T/view.b"
check "both modes on two topics give the state of the structured run" cmp -s "$T/view.s" "$T/view.m"
[ "$_FAILED" = 0 ] || { diff "$T/view.s" "$T/view.b" | head -20 | sed 's/^/# /'; diff "$T/view.s" "$T/view.m" | head -20 | sed 's/^/# /'; }
check "money exact in binary mode (relief 3000, out of pocket 34320.2 yuan)" \
        hh_jq $HB '.sums_12m.relief == 300000 and .sums_12m.medical == 3432020'

# The same relief payment, interleaved: binary first on one topic, then
# structured on another, then binary again.
HR=HB0004
event household.registered $HR | produce civil-affairs.events
check "$HR registered" wait_events $HR 1
binary disaster.events civil.relief.paid $HR
event civil.relief.paid $HR | produce household.reports
binary medical-insurance.events civil.relief.paid $HR
check "relief applied" wait_events $HR 2
sleep 3
check "one relief payment from three copies in two modes on three topics" \
        hh_jq $HR '.state.events == 2 and .sums_12m.relief == 300000'

# --- binary messages that break the binding: dead letters naming headers ---
HD=HB0005
event household.registered $HD | produce civil-affairs.events
check "$HD registered" wait_events $HD 1
need='{"need_id":"N1","channel":"self","category":"water","urgent":false}'
base=(ce_specversion=1.0 ce_source=app/zheliban ce_type=need.reported "ce_subject=$HD"
        ce_time=2026-03-15T20:41:13+08:00 content-type=application/json)
good() { raw household.reports $HD "$need" "${base[@]}" "ce_id=good-$1"; }
raw household.reports $HD "$need" "${base[@]}" traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
good 1
raw household.reports $HD "$need" "${base[@]}" ce_id=bad-2 ce_id=bad-2b
good 2
bad_utf8=$'app/\xff'
raw household.reports $HD "$need" "${base[@]/ce_source=app\/zheliban/ce_source=$bad_utf8}" ce_id=bad-3
good 3
raw household.reports $HD "$need" "${base[@]/ce_type=need.reported/ce_type=need.unknown}" ce_id=bad-4
good 4
raw household.reports $HD "$need" "${base[@]/content-type=application\/json/content-type=text/plain}" ce_id=bad-5
good 5
raw household.reports $HD '{"need_id":"N1","channel":"fax","category":"water","urgent":false}' "${base[@]}" ce_id=bad-6
good 6
raw household.reports $HD "$need" "${base[@]}" ce_id=bad-7 CE_TRACEPARENT=x
good 7
raw household.reports $HD "$need" content-type=application/json   # neither mode
good 8
raw household.reports $HD '[1,2]' "${base[@]}" ce_id=bad-9
good 9
check "every good event after a bad one is applied (9 needs)" wait_events $HD 10
sleep 1
check "exactly the good ones applied" hh_jq $HD '.state.events == 10'
dlq_expect 9
check "DLQ: missing ce_id named"               dlq_has 'hearth.error=header ce_id: missing'
check "DLQ: duplicate ce_id named"             dlq_has 'hearth.error=header ce_id: appears more than once'
check "DLQ: invalid UTF-8 in ce_source named"  dlq_has 'hearth.error=header ce_source: value is not valid UTF-8'
check "DLQ: unknown ce_type named"             dlq_has "hearth.error=header ce_type: unknown event type 'need.unknown'"
check "DLQ: content-type named"                dlq_has 'hearth.error=header content-type: must equal \"application/json\"'
check "DLQ: data field named"                  dlq_has 'hearth.error=data.channel: must be one of'
check "DLQ: upper-case attribute header named" dlq_has 'hearth.error=header CE_TRACEPARENT: not a CloudEvents attribute header'
check "DLQ: neither mode"                      dlq_has 'hearth.error=not a CloudEvent: the value has no specversion and the message has no ce_ headers'
check "DLQ: binary value not an object"        dlq_has 'hearth.error=value: the data of a binary-mode event must be a JSON object'
missing=$(grep 'header ce_id: missing' "$T/dlq.txt")
check "DLQ keeps the input's headers (ce_source, ce_time, traceparent)" \
        has "$missing" 'ce_source=app/zheliban,ce_type=need.reported,ce_subject=HB0005,ce_time=2026-03-15T20:41:13\+08:00,.*traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
check "DLQ: the input's content-type kept as hearth.content-type" has "$missing" 'hearth.content-type=application/json,'
check "DLQ: content-type, then hearth.error, topic, partition, offset" \
        has "$missing" "${CT//+/\\+},hearth.error=header ce_id: missing,hearth.topic=household.reports,hearth.partition=[0-9]+,hearth.offset=[0-9]+"$'\t'
check "DLQ: one content-type header" bash -c "[ \$(grep 'header ce_id: missing' '$T/dlq.txt' | cut -f2 | tr ',' '\n' | grep -c '^content-type=') = 1 ]"
check "DLQ: value copied unchanged" has "$missing" $'\t'"$need"'$'
check "dead letters logged naming the header" grep -qE 'dead letter: household.reports/[0-9]+@[0-9]+: header ce_id: missing' "$T/hearthd.log"

# --- outputs: structured mode, content-type and dataschema ------------------
# alerts_txt: every message on hearth.alerts as "headers<TAB>value".
alerts_txt() { kcat -b "$BOOTSTRAP" -C -t hearth.alerts -o beginning -e -q -f '%h\t%s\n' 2>/dev/null; }
# n_alerts HOUSEHOLD: how many alert events of the household.
n_alerts() { alerts_txt | cut -f2 | jq -c --arg h "$1" 'select(.subject == $h)' | grep -c .; }
export -f alerts_txt n_alerts
export BOOTSTRAP

# A collapsed house raises a red alert (binary mode in, structured out).
HA=HB0006
event household.registered $HA | produce civil-affairs.events
check "$HA registered" wait_events $HA 1
raw disaster.events $HA '{"disaster":"typhoon","occurred_on":"2026-03-01","house_damage":"collapsed","property_loss":80000,"income_loss":5000,"injured":0,"deaths":0}' \
        ce_specversion=1.0 ce_id=d-6 ce_source=emergency/qingtian ce_type=disaster.loss.reported "ce_subject=$HA" content-type=application/json
check "a binary-mode disaster turns the household's alert red" \
        wait_for 30 bash -c "alerts_txt | cut -f2 | jq -e -s --arg h $HA 'any(.[]; .subject == \$h and (.type | startswith(\"risk.alert.\")) and .data.code == \"red\" and any(.data.reasons[]?; .rule == \"disaster_severe\"))' >/dev/null"

# kill -9 between the Redis commit and the produce: the outbox relay sends.
HC=HB0007
event household.registered $HC | produce civil-affairs.events
check "$HC registered" wait_events $HC 1
sleep 2
before=$(n_alerts $HC)
stop_hearthd
export HEARTH_CRASH_POINT=before_produce
start_hearthd
unset HEARTH_CRASH_POINT
wait_for 30 bash -c "[ \$(grep -c 'hearthd ready' '$T/hearthd.log') -ge 2 ]"
sleep 2
raw disaster.events $HC '{"disaster":"flood","occurred_on":"2026-03-01","house_damage":"collapsed","property_loss":80000,"income_loss":5000,"injured":0,"deaths":0}' \
        ce_specversion=1.0 ce_id=d-7 ce_source=emergency/qingtian ce_type=disaster.loss.reported "ce_subject=$HC" content-type=application/json
wait_for 30 bash -c "! kill -0 $HEARTHD_PID 2>/dev/null"
check "the crash point killed hearthd after the commit" grep -q "crash point before_produce" "$T/hearthd.log"
check "nothing of $HC was produced before the crash" test "$(n_alerts $HC)" = "$before"
start_hearthd
check "after restart the relay sends $HC's alert" wait_for 30 bash -c "[ \$(n_alerts $HC) -gt $before ]"
sleep 2

alerts_txt >"$T/alerts.txt"
n=$(grep -c . "$T/alerts.txt")
diag "$n messages on hearth.alerts"
check "alerts were produced" test "$n" -gt 3
check "every message on hearth.alerts carries $CT" \
        test "$(cut -f1 "$T/alerts.txt" | grep -cxF "$CT")" = "$n"
check "the relayed alert carries it too" \
        bash -c "grep -F '\"subject\":\"$HC\"' '$T/alerts.txt' | tail -1 | cut -f1 | grep -qxF '$CT'"
dataschemas_ok() {
        cut -f2 "$T/alerts.txt" |
                jq -e -s 'all(.dataschema == "https://hearth.invalid/schemas/out/" + .type + ".json")' >/dev/null
}
check "every output's dataschema is its schema's \$id" dataschemas_ok
schema_ids_match() {
        local t
        for t in $(cut -f2 "$T/alerts.txt" | jq -r .type | sort -u); do
                [ "$(jq -r '."$id"' "$ROOT/schemas/out/$t.json")" = \
                        "https://hearth.invalid/schemas/out/$t.json" ] || return 1
        done
}
check "... and schemas/out/<type>.json has that \$id" schema_ids_match
consume hearth.dlq >"$T/dlq.txt"
n=$(grep -c . "$T/dlq.txt")
check "every message on hearth.dlq carries $CT ($n)" \
        test "$(cut -f2 "$T/dlq.txt" | tr ',' '\n' | grep -cxF "$CT")" = "$n"
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
finish
