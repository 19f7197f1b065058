# hearthctl preview: 10,000 households written to Redis by the household
# step and the commit script (build/hload, as hearthd writes them), a
# candidate rule set with a lowered threshold (rigid_ratio 1 -> 0.8), and
# the preview's counts per town against what two full replays of the same
# events (the shipped rules, the candidate rules) compute. The preview runs
# as a Redis user that may only SCAN, GET and PING, under MONITOR: it
# writes nothing.
source "$(dirname "$0")/../lib.sh"
HLOAD=${HLOAD:-$ROOT/build/hload}
N=10000

start_redis || { not_ok "redis starts"; finish; }
cat >"$T/hearth.yaml" <<YAML
redis:
  url: "$REDIS_URL"
rules:
  dir: $ROOT/rules
schemas:
  dir: $ROOT/schemas
YAML
"$HLOAD" -H $N -c "$T/hearth.yaml" -r "$REDIS_URL" -o "$T/events.tsv" -t "$T/towns.tsv" -j 2 \
        2>"$T/hload.log"; rc=$?
check "hload writes $N households through the household step and the commit script" \
        test "$rc" = 0 -a "$(rcli --scan --pattern 'hearth:{*}:h' | wc -l)" = $N
dump "$T/hload.log" 2
cp -r "$ROOT/rules" "$T/cand"
sed -i 's/^  rigid_ratio: 1$/  rigid_ratio: 0.8/' "$T/cand/expenditure.yaml"
check "the candidate lowers rigid_ratio to 0.8" grep -q '^  rigid_ratio: 0.8$' "$T/cand/expenditure.yaml"

# A user that can only read: any write would fail with NOPERM.
rcli ACL SETUSER preview on '>pw' '~*' '-@all' '+scan' '+get' '+ping' >/dev/null
out=$(redis-cli -p "$REDIS_PORT" --user preview --pass pw --no-auth-warning SET x 1 2>&1)
check "the read-only user cannot write" has "$out" NOPERM
keys_before=$(rcli DBSIZE)
digest_before=$(rcli DEBUG DIGEST)
redis-cli -p "$REDIS_PORT" MONITOR >"$T/monitor.log" 2>&1 &
MON=$!
_PIDS+=("$MON")
sleep 0.3
RO_URL="redis://preview:pw@127.0.0.1:$REDIS_PORT/0"
"$HEARTHCTL" --config "$T/hearth.yaml" --redis "$RO_URL" preview --rules "$T/cand" --format json \
        >"$T/preview.json" 2>"$T/preview.err"; rc=$?
sleep 0.3
kill "$MON" 2>/dev/null
check "preview exits 0 as the read-only user" test "$rc" = 0
dump "$T/preview.err" 5
check "preview read every household: $N, none stale, none skipped" \
        jq -e ".households == $N and .stale == 0 and .skipped == 0 and .total.households == $N" \
        "$T/preview.json"
cmds=$(grep -oE '^[0-9.]+ \[[^]]*\] "[A-Za-z]+"' "$T/monitor.log" | grep -oE '"[A-Za-z]+"$' | tr -d '"' |
        tr a-z A-Z | sort | uniq -c | tr '\n' ' ')
diag "commands Redis saw during the preview: $cmds"
check "Redis saw only SCAN, GET, PING and AUTH during the preview" \
        bash -c "! grep -oE '^[0-9.]+ \[[^]]*\] \"[A-Za-z]+\"' '$T/monitor.log' | grep -viE '\"(scan|get|ping|auth)\"$' | grep -q ."
check "Redis saw the preview's SCAN and GET" \
        bash -c "grep -qi '\"scan\"' '$T/monitor.log' && grep -qi '\"get\"' '$T/monitor.log'"
check "Redis holds the same keys and data after the preview" \
        test "$(rcli DBSIZE)" = "$keys_before" -a "$(rcli DEBUG DIGEST)" = "$digest_before"

# Full replays of the same events under both rule sets.
final_codes() { sed -n '/^final codes:/,$p' | awk 'NF >= 2 && $1 != "final" && $2 ~ /^(green|yellow|red)$/ {print $1 "\t" $2}' | sort; }
"$HEARTHCTL" --config "$T/hearth.yaml" replay "$T/events.tsv" | final_codes >"$T/a.tsv"
"$HEARTHCTL" --config "$T/hearth.yaml" --set rules.dir="$T/cand" replay "$T/events.tsv" |
        final_codes >"$T/b.tsv"
check "both replays give every household a code" \
        test "$(wc -l <"$T/a.tsv")" = $N -a "$(wc -l <"$T/b.tsv")" = $N
sort "$T/towns.tsv" | cut -f1,2 >"$T/towns.sorted"
join -t $'\t' "$T/a.tsv" "$T/b.tsv" | join -t $'\t' - "$T/towns.sorted" |
        awk -F'\t' '$2 != $3 {c[$4 " " $2 "->" $3]++} END {for (k in c) print k, c[k]}' |
        sort >"$T/replay.moves"
jq -r '.groups[] | .name as $t | .moves[] | "\($t) \(.from)->\(.to) \(.households)"' \
        "$T/preview.json" | sort >"$T/preview.moves"
diag "$(awk '{s += $3} END {print s}' "$T/replay.moves") households change colour in the replays"
check "there are changes to compare" test -s "$T/replay.moves"
check "the preview's changes per town equal the replays'" diff "$T/replay.moves" "$T/preview.moves"
diff "$T/replay.moves" "$T/preview.moves" | head -5 | sed 's/^/#   /'
join -t $'\t' "$T/a.tsv" "$T/b.tsv" | awk -F'\t' '$2 != $3 {print $1}' >"$T/moved"
check "every example household is one the replays move" bash -c \
        "jq -r '.groups[].moves[].examples[]' '$T/preview.json' | grep -vxFf '$T/moved' | { ! grep -q .; }"
check "the lowered threshold moves households into red through rigid_expenditure_illness" \
        jq -e '[.total.moves[] | select(.to == "red") | .causes["+rigid_expenditure_illness"]] | add > 0' \
        "$T/preview.json"

out=$("$HEARTHCTL" --config "$T/hearth.yaml" preview --rules "$T/cand" --by village --format csv)
check "csv by village: a header and rows of town/village" \
        bash -c "head -1 <<<\"\$0\" | grep -qx 'group,from,to,households,causes,examples' && grep -q '^温溪镇/东岸村,' <<<\"\$0\"" "$out"
by_village=$(grep -v '^all,' <<<"$out" | tail -n +2 | awk -F, '{s += $4} END {print s}')
by_town=$(jq '[.groups[].moves[].households] | add' "$T/preview.json")
check "the villages' changes add up to the towns' ($by_town)" test "$by_village" = "$by_town"
out=$("$HEARTHCTL" --config "$T/hearth.yaml" preview --rules "$T/cand")
check "text: per town, the total and the rate in households/s" \
        bash -c "grep -q '^温溪镇: ' <<<\"\$0\" && grep -q '^all: $N households' <<<\"\$0\" && grep -qE '[0-9]+ households/s' <<<\"\$0\"" "$out"
diag "$(tail -1 <<<"$out")"
"$HEARTHCTL" --config "$T/hearth.yaml" preview 2>/dev/null; rc=$?
check "preview without --rules exits 2" test "$rc" = 2
"$HEARTHCTL" --config "$T/hearth.yaml" preview --rules "$T/nope" 2>/dev/null; rc=$?
check "preview of a missing rules folder exits 1" test "$rc" = 1
finish
