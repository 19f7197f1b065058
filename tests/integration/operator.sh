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
  interval: 365d"
start_hearthd
check "hearthd READY" wait_ready 30
# READY comes at subscription; the group's first assignment comes ~3 s later
# (the mock's initial rebalance delay). Events of two steps sent before it
# arrive in one batch across topics, and a claim applied before its
# household's registration made a candidate the replay never sees.
wait_for 30 grep -q "kafka: assigned" "$T/hearthd.log"
# Every step of the scenarios, as the replay below reads all of them.
for step in $(grep -oP '^[0-9]+(?=\t)' "$SCEN" | sort -nu); do
        grep -P "^$step\t" "$SCEN" | while IFS=$'\t' read -r _ topic key json; do
                printf '%s\t%s\n' "$key" "$json" | produce "$topic"
        done
        sleep 1.5   # one step after the other, as in the demo
done
cut -f4 "$SCEN" | grep '^{' >"$T/events.jsonl"
# The daemon's transitions: household, type, code, rules.
trans() { jq -r '[.subject, .type, (.data.code // "green"), ((.data.reasons // []) | map(.rule) | join(","))] | @tsv'; }
check "the daemon raised its alerts" wait_for 30 bash -c "[ \$(kcat -b $BOOTSTRAP -C -t hearth.alerts -o beginning -e -q 2>/dev/null | wc -l) -ge 6 ]"
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
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits H3311210001); rc=$?
check "benefits text: exit 0, the insurance fund payment and the 2026 total" \
        bash -c "[ $rc = 0 ] && grep -q 'medical_insurance' <<<\"\$0\" && grep -q 'total 2026: 83000 yuan' <<<\"\$0\"" "$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits H3311210001 --format json)
check "benefits json: amounts in yuan and totals by year" \
        jq -e '.benefits[0].amount == 83000 and .totals_by_year["2026"] == 83000' <<<"$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits H3311210001 --format html)
check "benefits html: a printable page" bash -c "grep -q '<table>' <<<\"\$0\" && grep -q '幸福清单' <<<\"\$0\"" "$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits H3311210001 --year 2025 --format json)
check "benefits --year 2025: nothing that year" jq -e '(.benefits | length) == 0' <<<"$out"
"$HEARTHCTL" --redis "$REDIS_URL" benefits HNOPE >/dev/null 2>&1; rc=$?
check "benefits of an unknown household exits 3" test "$rc" = 3

out=$("$HEARTHCTL" --redis "$REDIS_URL" stats --json); rc=$?
check "stats: two red alerts open (hospital bill, typhoon), one yellow (income below the line)" jq -e '.open_alerts.red == 2 and .open_alerts.yellow == 1' <<<"$out"
check "stats: raised and eliminated counted" jq -e '.counters["risk.alert.raised:red"] == 2 and .counters["risk.eliminated:yellow"] == 2' <<<"$out"
out=$("$HEARTHCTL" --redis "$REDIS_URL" household H3311210001)
check "household text names the code and reasons" bash -c "grep -q 'code: red' <<<\"\$0\" && grep -q 'rigid_expenditure_illness' <<<\"\$0\"" "$out"
stop_hearthd
finish
