# What the three shell harnesses share (tests/lib.sh, tests/faults/lib.sh
# through it, tests/bench/run.sh): background processes remembered in
# _PIDS and ended on exit, polling, free ports, and redis-server as every
# harness runs it (AOF everysec, noeviction, no RDB snapshots).
_PIDS=()

# reap_all SECS: SIGTERM to every remembered process, then up to SECS for
# each to exit before SIGKILL; all reaped.
reap_all() {
        local p
        for p in "${_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for p in "${_PIDS[@]}"; do
                for _ in $(seq $(($1 * 10))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
}
# forget PID: the process has ended; the cleanup must not signal its number.
forget() {
        local p keep=()
        for p in "${_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
        _PIDS=("${keep[@]}")
}
# stop_pid PID: SIGTERM, up to 15 s, then SIGKILL; forgets the PID.
stop_pid() {
        kill -TERM "$1" 2>/dev/null
        for _ in $(seq 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        forget "$1"
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
        local secs=$1; shift
        local end=$((SECONDS + secs))
        until "$@"; do
                [ $SECONDS -ge $end ] && return 1
                sleep 0.1
        done
}

free_port() {
        local p
        for _ in $(seq 100); do
                # below the kernel's ephemeral range (32768-60999), where the
                # local ports of outgoing connections would collide
                p=$((10000 + RANDOM % 22000))
                if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
        done
        return 1
}

# cluster_port TAKEN...: a free loopback port P below 20000 whose cluster
# bus port (P + 10000) is free as well (both below the kernel's ephemeral
# range), not among TAKEN.
cluster_port() {
        local p
        for _ in $(seq 200); do
                p=$((10000 + RANDOM % 10000))
                [[ " $* " = *" $p "* ]] && continue
                (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
                (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null && continue
                echo "$p"
                return 0
        done
        return 1
}

# redis_spawn DIR ARGS...: redis-server in the background with its data in
# DIR/redis and its log appended to DIR/redis.log; ARGS give the address
# (--port N --bind 127.0.0.1, or --port 0 --unixsocket PATH) and anything
# more. REDIS_CONF names a redis.conf read first (requirepass, ACL users:
# no password on the command line). REDIS_PID, remembered in _PIDS.
redis_spawn() {
        local d=$1; shift
        mkdir -p "$d/redis"
        redis-server ${REDIS_CONF:+"$REDIS_CONF"} "$@" --dir "$d/redis" --save "" \
                --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
                --daemonize no --logfile "$d/redis.log" &
        REDIS_PID=$!
        _PIDS+=("$REDIS_PID")
}
