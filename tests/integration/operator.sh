# The operator's tool against a live run: `hearthctl replay` prints the
# same codes and transitions as the daemon for the same events (one
# evaluator, two front ends); `benefits` lists the happiness list with
# yearly totals in text, JSON and HTML; `stats` shows open alerts and the
# supervision counters; help and exit codes as Unix tools have them.
source "$(dirname "$0")/../lib.sh"
SCEN=$ROOT/tests/fixtures/demo/scenarios.txt

"$HEARTHCTL" --help >/dev/null; rc=$?
check "hearthctl --help exits 0" test "$rc" = 0
"$HEARTHCTL" frobnicate 2>/dev/null; rc=$?
check "unknown verb exits 2" test "$rc" = 2
"$HEARTHCTL" household 2>/dev/null; rc=$?
check "missing argument exits 2" test "$rc" = 2

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config "visits:
  interval: 365d
candidates:
  grace: 2s"
start_hearthd
check "hearthd READY" wait_ready 30
# Partitions assigned before the first step: otherwise the first batch holds
# several steps, and a claim read before its household's registration (the
# topics differ) makes a candidate the replay does not see.
wait_for 30 grep -q "kafka: assigned" "$T/hearthd.log"
for step in $(cut -f1 "$SCEN" | grep -E '^[0-9]+$' | sort -un); do
        grep -P "^$step\t" "$SCEN" | while IFS=$'\t' read -r _ topic key json; do
                printf '%s\t%s\n' "$key" "$json" | produce "$topic"
        done
        sleep 1.5   # one step after the other, as in the demo
done
cut -f4 "$SCEN" | grep '^{' >"$T/events.jsonl"
# The daemon's transitions: household, type, code, rules.
trans() { jq -r '[.subject, .type, (.data.code // "green"), ((.data.reasons // []) | map(.rule) | join(","))] | @tsv'; }
check "the daemon raised its alerts" wait_for 30 bash -c "[ \$(kcat -b $BOOTSTRAP -C -t hearth.alerts -o beginning -e -q 2>/dev/null | wc -l) -ge 6 ]"
check "the unregistered household is reported to the county after the grace period" \
        wait_for 30 bash -c "kcat -b $BOOTSTRAP -C -t hearth.alerts -o beginning -e -q 2>/dev/null | grep -q household.candidate.identified"
sleep 2
consume hearth.alerts | cut -f3 | trans | grep -v 'reminder\|escalated\|visit.overdue' | sort >"$T/daemon.tsv"
"$HEARTHCTL" --config "$T/hearth.yaml" replay "$T/events.jsonl" --json >"$T/replay.jsonl"; rc=$?
check "replay exits 0" test "$rc" = 0
trans <"$T/replay.jsonl" | grep -v 'reminder\|escalated\|visit.overdue' | sort >"$T/replay.tsv"
check "replay prints the same transitions, codes and rules as the daemon" diff "$T/daemon.tsv" "$T/replay.tsv"
[ -s "$T/daemon.tsv" ] || not_ok "the daemon produced transitions to compare"
diag "$(wc -l <"$T/daemon.tsv") transitions compared"
out=$("$HEARTHCTL" --config "$T/hearth.yaml" replay "$T/events.jsonl")
for h in H3311210001 H3311210023 H3311210042 H3311210057; do
        want=$("$HEARTHCTL" --redis "$REDIS_URL" household $h --json | jq -r '.state.eval.code')
        check "final code of $h: replay says $want like the daemon" grep -qE "^  $h +$want" <<<"$out"
done

# benefits (REQ-13): the scenario's household 0001 got an insurance payment.
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits H3311210001 --year 2026); rc=$?
check "benefits text: exit 0, the insurance fund payment and the 2026 total" \
        bash -c "[ $rc = 0 ] && grep -q 'medical_insurance' <<<\"\$0\" && grep -q 'year total (2026-01-01 .. 2026-12-31): 83000 yuan' <<<\"\$0\"" "$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits H3311210001 --year 2026 --format json)
check "benefits json: amounts in yuan, period and year totals" \
        jq -e '.items[0].amount == 83000 and .items[0].label == "医保基金支付" and .period_total == 83000 and .year_total == 83000' <<<"$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits H3311210001 --year 2026 --format html)
check "benefits html: a printable page" bash -c "grep -q '<table>' <<<\"\$0\" && grep -q '幸福清单' <<<\"\$0\"" "$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits H3311210001 --year 2025 --format json)
check "benefits --year 2025: nothing that year" jq -e '(.items | length) == 0 and .year_total == 0' <<<"$out"
"$HEARTHCTL" --redis "$REDIS_URL" benefits HNOPE >/dev/null 2>&1; rc=$?
check "benefits of an unknown household exits 3" test "$rc" = 3

out=$("$HEARTHCTL" --redis "$REDIS_URL" stats --json); rc=$?
check "stats: two red alerts open (hospital bill, typhoon), one yellow (income drop of 0077)" \
        jq -e '.open_alerts.red == 2 and .open_alerts.yellow == 1' <<<"$out"
check "stats: raised and eliminated counted" jq -e '.counters["risk.alert.raised:red"] == 2 and .counters["risk.eliminated:yellow"] == 2' <<<"$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" household H3311210001)
check "household text names the code and reasons" bash -c "grep -q 'code: red' <<<\"\$0\" && grep -q 'rigid_expenditure_illness' <<<\"\$0\"" "$out"
# hearthd stores no texts for its reasons (it writes them into the outputs
# that carry them): hearthctl writes them again from the rules.
check "household text: each reason's message and what clears it, from the rules" \
        bash -c "grep -q 'rigid_expenditure_illness, illness\]: 近12个月刚性支出' <<<\"\$0\" &&
                 grep -q '^      to clear: 近12个月刚性支出.*须降至' <<<\"\$0\"" "$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" household H3311210001 --json)
check "household --json: the stored reasons with both texts" \
        jq -e '[.state.eval.reasons[] | (.message | type) == "string" and (.to_clear | type) == "string"] | all' <<<"$out"

# Control characters from input are shown escaped on a terminal, never
# sent raw (ESC [2J would clear the operator's screen); JSON stays JSON.
reg=$(sed -n 3p "$SCEN" | cut -f4 | jq -c '.id = "esc-reg" | .subject = "HESC1" |
        .data.town = "\u001b[2J\u001b[31m温溪镇\n伪造行" | .data.village = "东岸村\u0007"')
printf 'HESC1\t%s\n' "$reg" | produce civil-affairs.events
wait_for 20 bash -c "'$HEARTHCTL' --redis '$REDIS_URL' household HESC1 >/dev/null 2>&1"
"$HEARTHCTL" --redis "$REDIS_URL" household HESC1 >"$T/esc.txt"
check "household text: the town's controls shown as \\x1b, \\x0a, \\x07" \
        grep -qF 'town/village: \x1b[2J\x1b[31m温溪镇\x0a伪造行 / 东岸村\x07,' "$T/esc.txt"
check "household text: no raw ESC or BEL, no forged line" \
        bash -c "! grep -q \$'[\x1b\x07]' '$T/esc.txt' && ! grep -q '^伪造行' '$T/esc.txt'"
"$HEARTHCTL" --redis "$REDIS_URL" household HESC1 --json >"$T/esc.json"
check "household --json: still JSON, the town with its \\u001b" \
        jq -e '.state.profile.town == "\u001b[2J\u001b[31m温溪镇\n伪造行"' "$T/esc.json"
# A file name is input too: replay's dead-letter lines quote it.
bad="$T/e"$'\x1b'"[2J.jsonl"
jq -c '.type = "bogus.type"' <<<"$reg" >"$bad"
"$HEARTHCTL" --config "$T/hearth.yaml" replay "$bad" >"$T/esc.replay"
check "replay text: the file name's ESC shown as \\x1b" \
        bash -c "grep -qF 'e\x1b[2J.jsonl:1: dead letter' '$T/esc.replay' && ! grep -q \$'\x1b' '$T/esc.replay'"
stop_hearthd
finish
