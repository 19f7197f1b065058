# Prometheus metrics and /healthz during a live run: counters move with the
# events sent, alerts and dead letters are counted, /healthz reports Redis
# going away and coming back.
source "$(dirname "$0")/../lib.sh"

# http PORT PATH: prints "STATUS<newline>BODY" using bash's /dev/tcp.
http() {
        exec 5<>"/dev/tcp/127.0.0.1/$1" || return 1
        printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&5
        local resp
        resp=$(cat <&5)
        exec 5>&-
        sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' <<<"$resp"
        sed '1,/^\r$/d' <<<"$resp"
}
metric() { http "$MPORT" /metrics | grep -E "^$1" | awk '{s += $NF} END {print s + 0}'; }

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
MPORT=$(free_port)
write_config
sed -i "s|  listen: \"\"|  listen: \"127.0.0.1:$MPORT\"|" "$T/hearth.yaml"
start_hearthd
check "hearthd READY" wait_ready 30
check "/metrics answers 200" bash -c "[ \"\$(http() { exec 5<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&5; head -1 <&5; }; http)\" != '' ]"
out=$(http "$MPORT" /metrics)
check "/metrics: status 200 and hearth_up declared" bash -c "grep -q '^200' <<<\"\$0\" && grep -q '# TYPE hearth_up gauge' <<<\"\$0\"" "$out"
before=$(metric 'hearth_events_total')

ev() { printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"%s","time":"2026-03-10T09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$1" "$4"; }
{
        ev HM1 r1 household.registered '{"town":"温溪镇","village":"东岸村","cadre":{"id":"C1"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":90000}}'
        for i in 1 2 3 4; do ev HM1 "p$i" civil.relief.paid '{"kind":"subsidy","amount":100,"paid_on":"2026-03-01"}'; done
        ev HM1 n1 need.reported '{"need_id":"N1","channel":"self","category":"housing","urgent":true}'
        printf 'HM1\tnot json\n'
} | produce household.reports
check "hearth_events_total moves by the 6 events sent" \
        wait_for 30 bash -c "[ \$(http() { exec 5<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&5; cat <&5; }; http | grep -E '^hearth_events_total' | awk '{s += \$NF} END {print s + 0}') -ge $((before + 6)) ]"
sleep 2
out=$(http "$MPORT" /metrics)
check "events counted by topic and type" grep -q 'hearth_events_total{topic="household.reports",type="civil.relief.paid"} 4' <<<"$out"
check "the dead letter counted by reason class" grep -q 'hearth_dead_letters_total{reason="not_json"} 1' <<<"$out"
check "the raised alert counted by type, code and town" grep -q 'hearth_alerts_total{code="yellow",town="温溪镇",type="risk.alert.raised"} 1' <<<"$out"
check "rule firings counted (urgent_need: the need is urgent)" grep -qE 'hearth_rule_firings_total\{rule="urgent_need"\} [1-9]' <<<"$out"
check "processing latency histogram observed" grep -qE '^hearth_event_processing_seconds_count [1-9]' <<<"$out"
check "Redis round-trip histogram observed" grep -qE '^hearth_redis_roundtrip_seconds_count [1-9]' <<<"$out"
check "open yellow alerts gauge is 1" wait_for 10 bash -c "http() { exec 5<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&5; cat <&5; }; http | grep -q 'hearth_open_alerts{code=\"yellow\"} 1'"
hz=$(http "$MPORT" /healthz)
check "/healthz 200 while Kafka and Redis are up" grep -q '^200' <<<"$hz"
stop_redis
check "/healthz turns 503 when redis-server is stopped" \
        wait_for 20 bash -c "exec 5<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /healthz HTTP/1.0\r\n\r\n' >&5; head -1 <&5 | grep -q 503"
hz=$(http "$MPORT" /healthz)
check "/healthz names redis as down" grep -q '"redis":"down"' <<<"$hz"
start_redis
check "/healthz back to 200 when Redis returns" \
        wait_for 30 bash -c "exec 5<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /healthz HTTP/1.0\r\n\r\n' >&5; head -1 <&5 | grep -q 200"
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
finish
