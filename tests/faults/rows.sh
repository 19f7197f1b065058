# The rows of the fault matrix, one function each (tests/faults/README.md).
# bash tests/faults/rows.sh F3 runs one row and prints its ROW line;
# tests/faults/run.sh runs many and prints the table.
ROW=${1:?usage: rows.sh ROW}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QUICK=${FAULTS_QUICK:-}
# q QUICK FULL: a size for the quick or the full matrix.
q() { if [ -n "$QUICK" ]; then echo "$1"; else echo "$2"; fi; }

# F1 baseline: no fault, no duplicate at all.
row_F1() {
        setup 1 || return
        fconfig
        gen_load -H 200 -n "$(q 2000 8000)" -s 1 -b 2
        start_and_register
        local t0=$SECONDS
        produce_load
        quiesce 300
        say "processed in $((SECONDS - t0)) s"
        inst_stop 1
        [ "$IRC" = 0 ] || rfail "SIGTERM exit status $IRC"
        verify_row
}

# F2 kill -9 at random instants while the load streams in, restarted after
# 1 s; duplicate alerts at most the outbox entries left at the kills.
row_F2() {
        local kills k=0
        kills=$(q 5 20)
        setup 1 || return
        fconfig
        gen_load -H 200 -n "$(q 4000 16000)" -s 2 -b 2
        start_and_register
        produce_stream "$(q 40 170)" 50
        while [ $k -lt "$kills" ]; do
                wait_progress 30 || break
                sleep "$((RANDOM % 2)).$((RANDOM % 10))"
                inst_kill 1
                k=$((k + 1))
                note_outbox
                sleep 1
                inst_start 1
        done
        [ $k = "$kills" ] || rfail "only $k of $kills kills (no progress to interrupt)"
        rnote "$k kills"
        stream_wait
        quiesce 300
        inst_stop 1
        [ "$IRC" = 0 ] || rfail "final SIGTERM: exit status $IRC"
        ALLOW_DUPS=1
        verify_run
        check_dups_bound
        verify_report
}

# crash_cycle POINT: the running instance 1 is stopped (SIGTERM), started
# again with HEARTH_CRASH_POINT=POINT, must die by SIGKILL at that point,
# and is started again normally. The outbox at the crash is noted.
crash_cycle() {
        local point=$1
        wait_progress 30 || rnote "no progress before the $point cycle"
        sleep 1
        inst_stop 1
        [ "$IRC" = 0 ] || rfail "SIGTERM before the $point cycle: exit status $IRC"
        inst_start 1 HEARTH_CRASH_POINT="$point"
        if ! inst_wait_exit 1 60; then
                rfail "crash point $point not reached within 60 s"
                inst_kill 1
        elif [ "$IRC" != 137 ] || ! grep -q "crash point $point reached" "$T/hearthd.1.log"; then
                rfail "crash point $point: exit status $IRC, no crash line"
        fi
        note_outbox
        inst_start 1
}

# F3 kill -9 after the Redis commit and before the produce (crash points
# after_commit and before_produce): the outbox relay sends what the crash
# kept back; no alert is missing.
row_F3() {
        local cycles point c
        cycles=$(q 1 2)
        setup 1 || return
        fconfig
        gen_load -H 200 -n "$(q 3000 8000)" -s 3
        start_and_register
        produce_stream "$(q 30 60)" 30
        for point in after_commit before_produce; do
                for c in $(seq "$cycles"); do crash_cycle "$point"; done
        done
        rnote "$(grep -c 'crash point .* reached' "$T/hearthd.1.log") crash points reached"
        stream_wait
        quiesce 300
        inst_stop 1
        [ "$IRC" = 0 ] || rfail "final SIGTERM: exit status $IRC"
        ALLOW_DUPS=1
        verify_run
        check_dups_bound
        verify_report
}

# F8 Redis killed (kill -9) under load and restarted from its AOF after 5 s:
# hearthd reconnects within 5 s of Redis being back and never exits.
row_F8() {
        local times i n0 t0 dt
        times=$(q 1 2)
        setup 1 || return
        fconfig
        gen_load -H 200 -n "$(q 3000 10000)" -s 8
        start_and_register
        produce_stream "$(q 25 50)" 25
        for i in $(seq "$times"); do
                wait_progress 30
                sleep 2
                n0=$(grep -c "redis: connected to" "$T/hearthd.1.log")
                fredis_kill9
                say "redis killed"
                sleep 5
                fredis_start || return
                t0=$(date +%s%N)
                if wait_for 30 bash -c "[ \$(grep -c 'redis: connected to' '$T/hearthd.1.log') -gt $n0 ]"; then
                        dt=$(( ($(date +%s%N) - t0) / 1000000 ))
                        rnote "reconnected ${dt} ms after redis was back"
                        [ "$dt" -le 5000 ] || rfail "reconnect took ${dt} ms (> 5 s)"
                else
                        rfail "no reconnect within 30 s"
                fi
                inst_alive 1 || rfail "hearthd exited during the Redis restart"
        done
        stream_wait
        quiesce 300
        inst_alive 1 || rfail "hearthd exited"
        inst_stop 1
        [ "$IRC" = 0 ] || rfail "final SIGTERM: exit status $IRC"
        verify_row
}

# F16 all brokers down for 10 s under load: consumption resumes within 20 s
# of the brokers being back; money difference 0.
row_F16() {
        local p0 t0 dt
        setup 1 || return
        fconfig
        gen_load -H 200 -n "$(q 3000 10000)" -s 16
        start_and_register
        produce_stream "$(q 30 50)" 25
        wait_progress 30
        sleep 3
        broker_cmd "down all"
        say "brokers down"
        sleep 10
        p0=$(positions)
        broker_cmd "up all"
        t0=$SECONDS
        if wait_for 20 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HVALS 'hearth:pos:{$GROUP}' | awk '{s += \$1} END {print s + 0}')\" -gt $p0 ]"; then
                rnote "consumption resumed $((SECONDS - t0)) s after the brokers came back"
        else
                rfail "no progress within 20 s after the brokers came back"
        fi
        stream_wait
        quiesce 300
        inst_alive 1 || rfail "hearthd exited"
        inst_stop 1
        [ "$IRC" = 0 ] || rfail "final SIGTERM: exit status $IRC"
        verify_row
}

fn=row_$ROW
if ! declare -F "$fn" >/dev/null; then
        echo "ROW $ROW - - - - - - - FAIL 0"
        echo "NOTES $ROW no such row"
        exit 1
fi
"$fn"
