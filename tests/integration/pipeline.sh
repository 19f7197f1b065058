# The event pipeline through the test broker and a real redis-server: every
# input type changes the household state as documented (read back with
# hearthctl household --json), duplicates count once (also after a
# restart), events before registration are kept and then applied, and
# malformed input of every kind is dead-lettered with a reason naming the
# field while the next event is still processed.
source "$(dirname "$0")/../lib.sh"
F=$ROOT/tests/fixtures/events

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config
start_hearthd
check "hearthd READY" wait_ready 30

# event FIXTURE HOUSEHOLD [ID]: the fixture as one "key<TAB>json" line for
# another household (and another CloudEvents id when given).
event() {
        local j
        j=$(jq -c --arg h "$2" '.subject = $h | del(.partitionkey)' "$F/$1.json")
        [ -n "${3:-}" ] && j=$(jq -c --arg i "$3" '.id = $i' <<<"$j")
        printf '%s\t%s\n' "$2" "$j"
}
hh() { "$HEARTHCTL" --redis "$REDIS_URL" household "$1" --json 2>>"$T/ctl.err"; }
# expect DESC HOUSEHOLD JQ: a jq -e test on the household's JSON (fails
# when hearthctl fails: jq -e passes on empty input).
hh_jq() { local out; out=$(hh "$1") && [ -n "$out" ] && jq -e "$2" <<<"$out" >/dev/null; }
expect() { check "$1" hh_jq "$2" "$3"; }
# wait_events HOUSEHOLD N: until N events are applied to it.
wait_events() { wait_for 60 hh_jq "$1" ".state.events >= $2"; }

# --- every input type on one household ---------------------------------
H=HT0001
{
        event household.registered $H
        event civil.assistance.changed $H
        event civil.relief.paid $H
        event civil.income.verified $H
        event medical.claim.settled $H
        event disaster.loss.reported $H
        event accident.reported $H
        event need.reported $H
        event expense.reported $H
        event visit.recorded $H
        event measure.applied $H
        event alert.acknowledged $H
        event alert.resolved $H
        event satisfaction.rated $H
} | produce household.reports
check "14 events applied to $H" wait_events $H 14
expect "household.registered: profile, members, last year's income in fen" $H \
        '.state.registered and .state.profile.town == "温溪镇" and (.state.profile.members|length) >= 1 and .state.profile.income_last_year.disposable == (.state.profile.income_last_year.disposable|floor)'
expect "civil.assistance.changed: programme granted with monthly amount 1096 yuan" $H \
        '.state.programs.minimum_living.state == "granted" and .state.programs.minimum_living.monthly == 109600'
expect "civil.relief.paid: 3000 yuan in the 12-month relief sum" $H '.sums_12m.relief == 300000'
expect "civil.income.verified: 2025 income 31250.6 yuan" $H '.state.incomes["2025"] == 3125060'
expect "medical.claim.settled: out of pocket 34320.2 and fund 52100.3 yuan" $H \
        '.sums_12m.medical == 3432020 and .sums_12m.fund_paid == 5210030'
expect "disaster.loss.reported: incident kept with house damage and losses" $H \
        '[.state.incidents[] | select(.kind == "disaster" and .house_damage == "moderate" and .income_loss == 1850000 and .property_loss == 4200000)] | length == 1'
expect "accident.reported: incident with labour lost and 36000 yuan income loss" $H \
        '[.state.incidents[] | select(.kind == "accident" and .labor_lost and .income_loss == 3600000)] | length == 1'
expect "need.reported: open need recorded" $H '.state.needs["N20260315-0042"].category == "education"'
expect "expense.reported: disability expense 2450.8 yuan" $H '.state.months["2026-03"].disability == 245080'
expect "visit.recorded: last visit with its checks" $H \
        '.state.last_visit.date == "2026-03-12" and .state.last_visit.checks.medical == "risk"'
expect "measure.applied: measure recorded with its amount" $H \
        '.state.measures[0].measure == "medical_assistance" and .state.measures[0].amount == 1500000'
expect "ledger: relief, allowance, measure and insurance fund payment" $H \
        '[.ledger[].kind] | sort == ["medical_assistance","medical_insurance","minimum_living","temporary_relief"]'
expect "timeline lists the acknowledgement, resolution and rating" $H \
        '[.timeline[].type] | (index("alert.acknowledged") and index("alert.resolved") and index("satisfaction.rated")) != null'
event need.resolved $H | produce household.reports
check "need.resolved applied" wait_events $H 15
expect "need.resolved: the need is closed" $H '.state.needs | has("N20260315-0042") | not'
event household.removed $H | produce civil-affairs.events
check "household.removed applied" wait_events $H 16
expect "household.removed: the household left monitoring" $H '.state.removed == true'

# --- events before registration are kept, then counted -----------------
H2=HT0002
{ event civil.relief.paid $H2; event medical.claim.settled $H2; } | produce household.reports
check "early events are stored for the unregistered household" \
        wait_for 30 hh_jq $H2 '(.state.pending|length) == 2'
expect "nothing counted before registration" $H2 '(.sums_12m.relief // 0) == 0 and .state.events == 0'
event household.registered $H2 | produce civil-affairs.events
check "registration applies the kept events" wait_events $H2 3
expect "kept events counted once registered" $H2 \
        '.sums_12m.relief == 300000 and .sums_12m.medical == 3432020 and (.state.pending // [] | length) == 0'

# --- the same event three times counts once, also after a restart -------
H3=HT0003
event household.registered $H3 | produce civil-affairs.events
{ event civil.relief.paid $H3 dup-1; event civil.relief.paid $H3 dup-1; } | produce household.reports
event civil.relief.paid $H3 dup-1 | produce civil-affairs.events   # another topic
event civil.relief.paid $H3 other-1 | produce household.reports
check "registration and relief applied" wait_events $H3 3
sleep 2
expect "same source+id delivered 3 times (2 topics) counts once" $H3 '.sums_12m.relief == 600000 and .state.events == 3'
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
event civil.relief.paid $H3 dup-1 | produce disaster.events
start_hearthd
wait_for 30 bash -c "grep -c 'hearthd ready' '$T/hearthd.log' | grep -q 2"
event civil.relief.paid $H3 after-restart | produce household.reports
check "event after restart applied" wait_events $H3 4
expect "the same event after a restart counts once" $H3 '.sums_12m.relief == 900000 and .state.events == 4'

# --- malformed input: dead letters with reasons, the next event flows ---
H4=HT0004
event household.registered $H4 | produce civil-affairs.events
good() { event civil.relief.paid $H4 "good-$1"; }
deep=$(printf '%.0s[' $(seq 100000))
big=$(head -c 300000 /dev/zero | tr '\0' 'x')
{
        printf '%s\t%s\n' $H4 'not json at all'; good 1
        printf '%s\t%s\n' $H4 '{"specversion":"1.0","id":"x"'; good 2               # truncated
        printf '%s\t%s\n' $H4 "$deep"; good 3                                        # depth 10^5
        printf '%s\t{"a":"%s"}\n' $H4 "$big"; good 4                                 # huge string
        printf '%s\t%s\n' $H4 '{"a":1,"a":2}'; good 5                                # duplicate keys
        printf '%s\t%s\n' $H4 '[1,2,3]'; good 6                                      # not an object
        event civil.relief.paid $H4 bad-7 | sed 's/"specversion":"1.0"/"specversion":"0.3"/'; good 7
        event civil.relief.paid $H4 bad-8 | sed 's/"amount":3000/"amount":12.345/'; good 8
        event civil.relief.paid $H4 bad-9 | sed 's/"amount":3000/"amount":-1/'; good 9
        event civil.relief.paid $H4 bad-10 | sed 's/"kind":"temporary_relief"/"kind":"gift"/'; good 10
        event civil.relief.paid $H4 bad-11 | sed 's/"amount":3000/"amount":1e300/'; good 11
        event civil.relief.paid $H4 bad-12 | sed 's/"type":"civil.relief.paid"/"type":"civil.relief.unknown"/'; good 12
        event civil.relief.paid "$H4" bad-13 | sed 's/"subject":"HT0004"/"subject":"HT 0004"/'; good 13
        printf 'OTHERKEY\t%s\n' "$(event civil.relief.paid $H4 bad-14 | cut -f2)"; good 14   # key != subject
        printf '%s\t%s\n' $H4 $'\xff\xfe{"bad utf8":"\xc3\x28"}'; good 15
        printf '%s\t{"specversion":"1.0","huge":[%s1]}\n' $H4 "$(printf '1,%.0s' $(seq 100000))"; good 16
} | produce household.reports
printf '\t%s\n' "$(event civil.relief.paid $H4 bad-16 | cut -f2)" | produce household.reports   # empty key
kcat -b "$BOOTSTRAP" -P -t household.reports -K $'\t' -Z <<<"$H4"$'\t' 2>>"$T/kcat.err"            # null value
good 17 | produce household.reports
check "every good event after a bad one is applied (17 relief payments)" wait_events $H4 18
sleep 1
expect "exactly the good events applied, money exact to the fen" $H4 '.sums_12m.relief == 5100000 and .state.events == 18'
dlq_expect 18
check "DLQ: not JSON"                       dlq_has 'hearth.error=not JSON'
check "DLQ: nesting depth named"            dlq_has 'hearth.error=not JSON: .*depth|nested deeper'
check "DLQ: too large message"              dlq_has 'hearth.error=value: message of [0-9]+ bytes exceeds'
check "DLQ: duplicate keys"                 dlq_has "hearth.error=not JSON: duplicate object key"
check "DLQ: bad envelope names specversion" dlq_has 'hearth.error=not a CloudEvent: specversion'
check "DLQ: 12.345 names data.amount"       dlq_has 'hearth.error=data.amount: amount has more than 2 decimals'
check "DLQ: -1 names data.amount"           dlq_has 'hearth.error=data.amount: must be >= 0'
check "DLQ: bad enum names data.kind"       dlq_has 'hearth.error=data.kind: must be one of'
check "DLQ: 1e300 too large"                dlq_has 'hearth.error=data.amount: (amount too large|must be <=)'
check "DLQ: unknown type named"             dlq_has "hearth.error=type: unknown event type 'civil.relief.unknown'"
check "DLQ: bad household id names subject" dlq_has 'hearth.error=not a CloudEvent: subject'
check "DLQ: key not the household id"       dlq_has 'hearth.error=key: the Kafka key must be the household id'
check "DLQ: bad UTF-8"                      dlq_has 'hearth.error=not JSON: (unable to decode byte|.*UTF-8)'
check "DLQ: huge array refused by the envelope" dlq_has "hearth.error=not a CloudEvent: missing required property 'id'"
check "DLQ: null value"                     dlq_has 'hearth.error=value: the message has no value'
check "DLQ: headers name topic, partition and offset" dlq_has 'hearth.topic=household.reports,hearth.partition=[0-9]+,hearth.offset=[0-9]+'
check "DLQ: value copied unchanged" grep -q $'\tnot json at all$' "$T/dlq.txt"
check "dead letters logged with topic/partition@offset" grep -qE 'dead letter: household.reports/[0-9]+@[0-9]+: not JSON' "$T/hearthd.log"
# Personal data of the fixtures (a cadre's name and phone, free text of a
# need and a visit) never reaches the log (operations issue, logs).
for pii in 陈丽华 13905780107 孩子下学期 户主出院后 医疗救助15000元已到位; do
        check "no personal data in the log: ${pii:0:6}..." bash -c "! grep -qF '$pii' '$T/hearthd.log'"
done
finish
