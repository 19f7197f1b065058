# A dead letter the producer refuses (here: larger than the producer's
# message.max.bytes) must not let the partition's position pass its
# message: before the fix the position moved on and the message was
# neither applied nor dead-lettered. Now the batch is kept and tried again;
# once the producer can take it (restarted with the limit lifted) the
# message is dead-lettered and the messages after it are applied.
source "$(dirname "$0")/../lib.sh"
start_broker 1 1 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config
cp "$T/hearth.yaml" "$T/hearth.normal.yaml"
sed -i 's/^    heartbeat.interval.ms: "500"$/&\n    message.max.bytes: "1000"/' "$T/hearth.yaml"
grep -q 'message.max.bytes: "1000"' "$T/hearth.yaml" || not_ok "test config has the producer limit"
ev() { printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"%s","time":"2026-03-10T09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$1" "$4"; }
big=$(head -c 3000 /dev/zero | tr '\0' x)
{
        printf 'HD1\t%s\n' "$big"
        ev HD1 r1 civil.relief.paid '{"kind":"subsidy","amount":10,"paid_on":"2026-03-01"}'
} | produce household.reports
pos() { rcli HGET "hearth:pos:{hearth-test}" household.reports/0; }
dlq_count() { kcat -b "$BOOTSTRAP" -C -t hearth.dlq -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l; }

start_hearthd
check "hearthd READY" wait_ready
check "the refused dead letter is logged and the batch kept" \
        wait_for 20 grep -q "dead letter of household.reports/0@0 not produced" "$T/hearthd.log"
sleep 2
p=$(pos)
diag "position while the dead letter cannot be produced: '${p:-none}'"
check "the position does not pass the message (none or 0)" test "${p:-0}" -le 0
check "no dead letter was written" test "$(dlq_count)" = 0
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
p=$(pos); check "the position still does not pass it after a clean stop" test "${p:-0}" -le 0

cp "$T/hearth.normal.yaml" "$T/hearth.yaml"
start_hearthd
check "restarted without the limit: the message is dead-lettered, not lost" \
        wait_for 30 bash -c "kcat -b $BOOTSTRAP -C -t hearth.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -q 'hearth.offset=0'"
check "the message after it is applied" \
        wait_for 20 bash -c "\"$HEARTHCTL\" --redis $REDIS_URL household HD1 --json | jq -e '(.state.pending | length) == 1' >/dev/null"
check "the position passes both" wait_for 10 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HGET 'hearth:pos:{hearth-test}' household.reports/0)\" = 2 ]"
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
check "one dead letter in all" test "$(dlq_count)" = 1
finish
