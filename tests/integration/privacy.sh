# Data lifetime and bounds (CONTRACT.md "Closing the loop", issue: privacy
# and bounded state), through the test broker and a real redis-server:
# - household.removed erases every personal value from Redis after
#   retention.removed (searched in every key, by value and in DUMP);
#   nothing about a removed household is kept (a later relief payment);
# - `hearthctl forget` erases at once and leaves an audit line;
# - feeding 10x a per-household bound (kept events of an unregistered
#   household, ledger entries, remembered source+id pairs) keeps Redis
#   memory flat and drops nothing silently (dead letters).
source "$(dirname "$0")/../lib.sh"

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
rcli CONFIG SET rdbcompression no >/dev/null
write_config "sources:
  allow:
    household.removed: \"civil-affairs/, county-admin/\"
retention:
  removed: 3s
pipeline:
  dedup_max: 1000
timers:
  check_interval: 200ms"
start_hearthd
check "hearthd READY" wait_ready 30

NAME=陈丽华测试 PHONE=13900001111 CONTACT=13800002222 TOWN=测试镇甲 VILLAGE=测试村乙
reg() { # reg ID
        printf '%s\t{"specversion":"1.0","id":"reg-%s","source":"civil-affairs/qingtian","type":"household.registered","time":"2026-01-05T09:00:00+08:00","subject":"%s","data":{"town":"%s","village":"%s","cadre":{"id":"C9","name":"%s","phone":"%s"},"contact_phone":"%s","members":[{"id":"%s-01","relation":"户主","birth_year":1961,"labor":"partial","disability_grade":1,"serious_illness":true,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":20000}}}\n' \
                "$1" "$1" "$1" "$TOWN" "$VILLAGE" "$NAME" "$PHONE" "$CONTACT" "$1"
}
ev() { # ev HOUSEHOLD ID TYPE DATA_JSON
        printf '%s\t{"specversion":"1.0","id":"%s","source":"civil-affairs/qingtian","type":"%s","time":"2026-03-10T09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$1" "$4"
}
relief() { ev "$1" "$2" civil.relief.paid "{\"kind\":\"temporary_relief\",\"amount\":${3:-100},\"paid_on\":\"2026-03-10\"}"; }
# every value of every key of the test's Redis, one per line
all_values() {
        local k
        for k in $(rcli --scan --pattern '*'); do
                # a household's record is compressed: read it decoded
                [[ $k =~ ^hearth:\{([^}]*)\}:h$ ]] && hh "${BASH_REMATCH[1]}"
                case $(rcli TYPE "$k") in
                string) rcli --raw GET "$k" ;;
                hash) rcli --raw HGETALL "$k" ;;
                list) rcli --raw LRANGE "$k" 0 -1 ;;
                set) rcli --raw SMEMBERS "$k" ;;
                zset) rcli --raw ZRANGE "$k" 0 -1 ;;
                esac
                rcli --raw DUMP "$k"
        done
}
# personal_left: which personal values are still in Redis. The town stays
# only in the supervision counts by town (REQ-14), never in a household's
# keys.
personal_left() {
        local v all
        all=$(all_values)
        for v in "$NAME" "$PHONE" "$CONTACT" "$VILLAGE" "${1:-HP1}-01"; do grep -qF -- "$v" <<<"$all" && echo "$v"; done
        rcli --scan --pattern "hearth:{${1:-HP1}}:*" | while read -r k; do
                rcli --raw DUMP "$k" | grep -qF -- "$TOWN" && echo "$TOWN in $k"
        done
        hh "${1:-HP1}" | grep -qF -- "$TOWN" && echo "$TOWN in the record of ${1:-HP1}"
}

# --- removal erases after the retention --------------------------------------
{ reg HP1; relief HP1 r1 250; ev HP1 n1 need.reported '{"need_id":"N1","channel":"hotline","category":"medical","urgent":false,"text":"住院"}'; } |
        produce civil-affairs.events
check "registered household stored" wait_for 20 bash -c "hh HP1 | grep -qF '$PHONE'"
check "its personal values are in Redis before the removal" test -n "$(personal_left)"
# sources.allow: the self-report app may not remove a household.
printf '%s\t{"specversion":"1.0","id":"zlb-rm","source":"app/zheliban","type":"household.removed","time":"2026-03-10T09:00:00+08:00","subject":"HP1","data":{}}\n' HP1 |
        produce household.reports
check "a removal from app/zheliban is a dead letter naming sources.allow" \
        wait_for 20 bash -c "kcat -b $BOOTSTRAP -C -t hearth.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -q \"may not send household.removed (sources.allow)\""
check "... and the household is still registered" bash -c "hh HP1 | jq -e '.state.removed == false' >/dev/null"
ev HP1 rm1 household.removed '{"reason":"moved"}' | produce civil-affairs.events
check "removal logged at notice level" wait_for 20 grep -q "<5>household.removed: household HP1 leaves monitoring" "$T/hearthd.log"
relief HP1 r2 777 | produce civil-affairs.events
check "erased after retention.removed (3s)" wait_for 20 grep -q "household HP1: personal data erased after retention.removed" "$T/hearthd.log"
sleep 1
left=$(personal_left)
check "no personal value of HP1 anywhere in Redis (every key, by value and DUMP)${left:+: found $left}" test -z "$left"
check "the ledger and timeline are gone" test "$(hh HP1 | jq '(.ledger | length) + (.timeline | length)')" = 0
check "dedup is kept: the removal's id is still remembered" test "$(hh HP1 | jq '.dedup_ids')" -ge 4
out=$("$HEARTHCTL" --redis "$REDIS_URL" household HP1 --json)
check "hearthctl: removed, erased, events still counted" \
        jq -e '.state.removed == true and (.state.erased_ms > 0) and .state.events >= 5 and (.state.profile == null)' <<<"$out"

# --- hearthctl forget ---------------------------------------------------------
reg HP2 | produce civil-affairs.events
check "HP2 stored" wait_for 20 bash -c "hh HP2 | grep -qF '$CONTACT'"
sleep 1
out=$("$HEARTHCTL" --redis "$REDIS_URL" forget HP2); rc=$?
check "hearthctl forget exits 0" test "$rc" = 0
left=$(personal_left HP2)
check "after forget no personal value is left${left:+: found $left}" test -z "$left"
check "an audit line without personal data" bash -c "redis-cli -p $REDIS_PORT --raw LRANGE hearth:audit 0 -1 | grep -q '\"action\":\"forget\",\"household\":\"HP2\"'"
check "... naming nobody's phone or name" bash -c "! redis-cli -p $REDIS_PORT --raw LRANGE hearth:audit 0 -1 | grep -qF '$PHONE'"
"$HEARTHCTL" --redis "$REDIS_URL" forget HNOBODY >/dev/null 2>&1; rc=$?
check "forget of an unknown household exits 3" test "$rc" = 3

# --- bounds: 10x each per-household limit ------------------------------------
mem() { rcli INFO memory | awk -F: '/^used_memory:/ {print $2 + 0}'; }
positions() { rcli HVALS 'hearth:pos:{hearth-test}' | awk '{s += $1} END {print s + 0}'; }
# Kept events of an unregistered household: 200 at most, then dead letters.
for i in $(seq 1 200); do ev HB1 "p$i" expense.reported '{"category":"other","amount":1,"incurred_on":"2026-03-10"}'; done | produce household.reports
check "200 kept events for an unregistered household" \
        wait_for 60 bash -c "[ \"\$(hh HB1 | jq '.state.pending | length')\" = 200 ]"
m1=$(mem)
for i in $(seq 201 2000); do ev HB1 "p$i" expense.reported '{"category":"other","amount":1,"incurred_on":"2026-03-10"}'; done | produce household.reports
check "10x the limit: 1800 dead letters naming the limit" \
        wait_for 120 bash -c "[ \$(kcat -b $BOOTSTRAP -C -t hearth.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c 'reached their limit') -ge 1800 ]"
m2=$(mem)
diag "unregistered household: used_memory $m1 -> $m2 bytes after 10x its limit"
check "Redis memory flat past the pending bound (+$((m2 - m1)) bytes < 512 KiB)" test $((m2 - m1)) -lt 524288

# Ledger (1000 entries kept) and dedup (pipeline.dedup_max 1000 here).
reg HB2 | produce civil-affairs.events
for i in $(seq 1 1000); do relief HB2 "l$i" 1; done | produce civil-affairs.events
check "1000 ledger entries" wait_for 120 bash -c "[ \"\$(hh HB2 | jq '.ledger | length')\" = 1000 ]"
sleep 2
m1=$(mem); t0=$SECONDS
for i in $(seq 1001 10000); do relief HB2 "l$i" 1; done | produce civil-affairs.events
check "10x the ledger limit applied" \
        wait_for 300 bash -c "hh HB2 | jq -e '.state.benefit_totals[\"2026\"] == 1000000' >/dev/null"
diag "9000 relief events for one household in $((SECONDS - t0)) s"
sleep 2
m2=$(mem)
check "the ledger stays at 1000 entries" test "$(hh HB2 | jq '.ledger | length')" = 1000
# One payment at a time: a commit of one event keeps its entries in the
# record's body beyond the history's bounds (record.h) until a later
# commit writes the history again; of two such commits in a row at least
# one does so, and a read must still show the bounds: the newest 1000
# ledger and 50 timeline entries.
for i in 10001 10002; do
        relief HB2 "l$i" 1 | produce civil-affairs.events
        wait_for 30 bash -c "hh HB2 | jq -e '.state.benefit_totals[\"2026\"] == $((i * 100))' >/dev/null"
        led=$(hh HB2 | jq -c '[(.ledger | length), (.ledger | last | .event), (.timeline | length), (.timeline[0].event)]')
        check "after payment $i alone: 1000 ledger and 50 timeline entries, the newest kept ($led)" \
                jq -e --arg id "l$i" '.[0] == 1000 and .[1] == $id and .[2] == 50 and .[3] == $id' <<<"$led"
done
check "the dedup ids stay at pipeline.dedup_max" test "$(hh HB2 | jq '.dedup_ids')" -le 1000
out=$("$HEARTHCTL" --redis "$REDIS_URL" benefits HB2 --year 2026 --json)
check "the statement's yearly total counts every payment (10002 yuan)" jq -e '.year_total == 10002' <<<"$out"
diag "ledger household: used_memory $m1 -> $m2 bytes after 10x its limits"
check "Redis memory flat past the ledger and dedup bounds (+$((m2 - m1)) bytes < 512 KiB)" test $((m2 - m1)) -lt 524288

stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
check "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$T/hearthd.log'"
finish
