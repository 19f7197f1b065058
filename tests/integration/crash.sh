# kill -9 of hearthd at random moments while 20,000 events stream in (5%
# re-sent duplicates), restarted each time: afterwards every household's
# totals equal the generator's independent ground truth to the fen, and
# every event counts exactly once. CRASH_EVENTS and CRASH_KILLS scale it.
source "$(dirname "$0")/../lib.sh"
EVENTS=${CRASH_EVENTS:-20000}
KILLS=${CRASH_KILLS:-6}
HOUSEHOLDS=200

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config "pipeline:
  batch_max: 200"
"$ROOT/build/gen" -H $HOUSEHOLDS -n "$EVENTS" -d 50 -s 7 -o "$T/gen" || { not_ok "generator"; finish; }
total=$(( $(cat "$T"/gen/registrations.txt "$T"/gen/*.events.txt "$T"/gen/household.reports.txt | wc -l) ))
diag "$(tr '\n' ' ' <"$T/gen/summary.txt") messages=$total"

produce civil-affairs.events <"$T/gen/registrations.txt"
start_hearthd
check "hearthd READY" wait_ready 30
# Stream the load in the background while hearthd is killed and restarted.
( for t in civil-affairs.events medical-insurance.events household.reports disaster.events; do
        produce "$t" <"$T/gen/$t.txt" &
  done; wait ) &
PRODUCER=$!
_PIDS+=("$PRODUCER")

kills=0
for i in $(seq "$KILLS"); do
        sleep "$(( RANDOM % 3 + 1 )).$(( RANDOM % 10 ))"
        kill -KILL "$HEARTHD_PID" 2>/dev/null && kills=$((kills + 1))
        wait "$HEARTHD_PID" 2>/dev/null
        sleep 1
        start_hearthd
done
wait "$PRODUCER"
diag "$kills kills"

positions() { rcli HVALS "hearth:pos:{hearth-test}" | awk '{s += $1} END {print s + 0}'; }
check "every message processed after $kills kills (positions reach $total)" \
        wait_for 240 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HVALS 'hearth:pos:{hearth-test}' | awk '{s += \$1} END {print s + 0}')\" = $total ]"
diag "positions sum $(positions) of $total"

# Compare every household with the ground truth.
: >"$T/diff.txt"
while IFS=$'\t' read -r h relief medical fund edu dis events; do
        got=$("$HEARTHCTL" --redis "$REDIS_URL" household "$h" --json 2>/dev/null |
                jq -r '[.sums_12m.relief, .sums_12m.medical, .sums_12m.fund_paid, .sums_12m.education, .sums_12m.disability, .state.events] | @tsv')
        want=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$relief" "$medical" "$fund" "$edu" "$dis" "$events")
        [ "$got" = "$want" ] || echo "$h want $want got $got" >>"$T/diff.txt"
done <"$T/gen/truth.tsv"
check "all $HOUSEHOLDS households equal the ground truth to the fen" test ! -s "$T/diff.txt"
[ -s "$T/diff.txt" ] && dump "$T/diff.txt" 10
money_diff=$(awk '{ split($3, a, "\t") } END { print NR }' "$T/diff.txt")
diag "households differing: $money_diff"
check "no dead letters (the load is all valid)" bash -c "[ -z \"\$(kcat -b $BOOTSTRAP -C -t hearth.dlq -o beginning -e -q 2>/dev/null)\" ]"
stop_hearthd 20
check "final SIGTERM exit 0" test "$HEARTHD_RC" = 0
check "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T/hearthd.log'"
finish
