# Secrets stay secret: hearthd against a Redis with a password (requirepass,
# and an ACL user restricted to hearth's keys as README shows), given
# through redis.password_file, through a URL in the config and through
# --set; then the errors that print URLs (a wrong password, a bad URL,
# --check, a malformed --set, hearthctl). The passwords never appear in `ps`
# output, in the hearthd log or in anything hearthd --check and hearthctl
# print. Every grep takes its patterns from a file, so that no password is
# on the test's own command lines either.
source "$(dirname "$0")/../lib.sh"

PW="S3cretPW-$RANDOM$RANDOM-default"  # the default user's (requirepass)
APW="AclPW-$RANDOM$RANDOM-hearth"     # the ACL user hearth's
WRONG="Wr0ngPW-$RANDOM$RANDOM-nope"   # a wrong one
KPW="SaslPW-$RANDOM$RANDOM-kafka"     # a SASL password for librdkafka
printf '%s\n' "$PW" "$APW" "$WRONG" "$KPW" >"$T/secrets.pat"
umask 077
printf '%s\n' "$PW" >"$T/redis.password"
printf '%s\n' "$APW" >"$T/acl.password"
printf '%s\n' "$WRONG" >"$T/wrong.password"
printf '%s\n' "$KPW" >"$T/kafka.password"
umask 022

# leaks FILE...: the lines of the files that hold a secret (none: false).
leaks() { cat "$@" 2>/dev/null | grep -F -f "$T/secrets.pat"; }
# no_leak DESC FILE...: one TAP line; shows what leaked.
no_leak() {
        local d=$1; shift
        if leaks "$@" >"$T/leak.txt"; then not_ok "$d"; sed 's/^/#   leaked: /' "$T/leak.txt" | head -5; else ok "$d"; fi
}
# ps_snapshot: every process's command line, now.
ps_snapshot() { ps -eo pid,args >"$T/ps.txt"; }

# The README's ACL user: hearth's keys and the commands it sends, no more.
cat >"$T/redis.conf" <<EOF
requirepass $PW
user hearth on >$APW resetkeys ~hearth:* resetchannels -@all +@read +@write -@dangerous +eval +evalsha +script|load +ping +select
EOF
export REDISCLI_AUTH=$PW
REDIS_CONF=$T/redis.conf start_redis || { not_ok "redis starts with requirepass"; finish; }
start_broker 1 4 || { not_ok "test broker starts"; finish; }
check "redis refuses commands without the password" \
        bash -c "REDISCLI_AUTH= redis-cli -p $REDIS_PORT GET x 2>&1 | grep -q NOAUTH"

# config [URL] [PASSWORD_FILE]: $T/hearth.yaml with that redis.url and, when
# given, redis.password_file in the file itself (relative: the config's
# folder), mode 0640.
config() {
        REDIS_URL=${1:-redis://127.0.0.1:$REDIS_PORT/0} write_config "${3:-}"
        [ -n "${2:-}" ] && sed -i "s|^  url: .*|&\n  password_file: $2|" "$T/hearth.yaml"
        chmod 0640 "$T/hearth.yaml"
}
# run_ready DESC [ARGS...]: starts hearthd, expects READY, snapshots ps.
run_ready() {
        local d=$1; shift
        : >"$T/notify.log"
        start_hearthd "$@"
        if wait_ready 30; then ok "$d"; else not_ok "$d"; dump "$T/hearthd.log"; fi
        ps_snapshot
}
# alive PID: running (a zombie is not).
alive() { [ -r "/proc/$1/status" ] && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }
# run_fails DESC [ARGS...]: hearthd must exit non-zero within 30 s.
run_fails() {
        local d=$1; shift
        start_hearthd "$@"
        wait_for 30 eval "! alive $HEARTHD_PID"
        stop_hearthd 5
        check "$d (exit $HEARTHD_RC)" test "$HEARTHD_RC" != 0
}

# 1. The password from redis.password_file (the default user).
config "" redis.password
run_ready "READY with the password from redis.password_file"
check "ps shows hearthd's command line" grep -q "hearthd --config" "$T/ps.txt"
no_leak "password_file: no password in ps" "$T/ps.txt"
stop_hearthd
check "password_file: clean stop" test "$HEARTHD_RC" = 0

# 2. The password in redis.url, in a config only root and its group read.
config "redis://:$PW@127.0.0.1:$REDIS_PORT/0"
run_ready "READY with the password in redis.url"
no_leak "URL in the config: no password in ps" "$T/ps.txt"
stop_hearthd
check "no warning for a 0640 config" bash -c "! grep -q 'every user can read' '$T/hearthd.log'"
chmod 0644 "$T/hearth.yaml"
"$HEARTHD" --check --config "$T/hearth.yaml" >"$T/check.out" 2>&1; rc=$?
check "--check of a world-readable config with a password: exit 0 and a warning naming redis.url" \
        bash -c "[ $rc = 0 ] && grep -q 'holds a password (redis.url) and every user can read it' '$T/check.out'"
no_leak "--check: no password in its output" "$T/check.out"

# 3. The password on the command line (--set): hidden from ps at once.
config
run_ready "READY with --set redis.url=redis://:PW@..." --set "redis.url=redis://:$PW@127.0.0.1:$REDIS_PORT/0"
check "ps shows the --set URL with the password starred" grep -qE "redis\.url=redis://:\*+@127\.0\.0\.1" "$T/ps.txt"
no_leak "--set: no password in ps" "$T/ps.txt"
stop_hearthd

# 4. Wrong passwords: AUTH fails, hearthd retries, gives up, names no secret.
config "" wrong.password
sed -i "s|^  password_file: .*|&\n  retry_budget: 2s|" "$T/hearth.yaml"
run_fails "a wrong password in redis.password_file: exit non-zero"
check "the log says AUTH failed" grep -q "AUTH: WRONGPASS" "$T/hearthd.log"
config "redis://:$WRONG@127.0.0.1:$REDIS_PORT/0"
sed -i "s|^  url: .*|&\n  retry_budget: 2s|" "$T/hearth.yaml"
run_fails "a wrong password in redis.url: exit non-zero"
"$HEARTHCTL" --config "$T/hearth.yaml" stats >"$T/ctl.out" 2>&1; rc=$?
check "hearthctl with the wrong password: exit 1, AUTH named" \
        bash -c "[ $rc = 1 ] && grep -q 'AUTH: WRONGPASS' '$T/ctl.out'"
no_leak "hearthctl error: no password" "$T/ctl.out"

# 5. Bad URLs and config errors print URLs redacted.
config "rediss://:$PW@127.0.0.1:$REDIS_PORT/0"
run_fails "rediss:// (no TLS in hiredis 0.14): exit non-zero"
check "the bad URL is printed with its password starred" grep -qF "rediss://:***@127.0.0.1" "$T/hearthd.log"
"$HEARTHD" --check --config "$T/hearth.yaml" >"$T/check.out" 2>&1; rc=$?
check "--check of the rediss:// URL: exit 1, URL starred" \
        bash -c "[ $rc = 1 ] && grep -qF 'rediss://:***@127.0.0.1' '$T/check.out'"
config "redis://:$PW@127.0.0.1:$REDIS_PORT/0" redis.password
"$HEARTHD" --check --config "$T/hearth.yaml" >>"$T/check.out" 2>&1; rc=$?
check "--check: a password in redis.url and redis.password_file: exit 1, keep one" \
        bash -c "[ $rc = 1 ] && grep -q 'keep one' '$T/check.out'"
config
"$HEARTHD" --check --config "$T/hearth.yaml" --set "redis.url:redis://:$PW@h/0" \
        --set "kafka.properties.sasl.password:$KPW" >>"$T/check.out" 2>&1; rc=$?
check "--check of malformed --set: exit 1" test "$rc" = 1
config "" missing.password
"$HEARTHD" --check --config "$T/hearth.yaml" >>"$T/check.out" 2>&1; rc=$?
check "--check: a missing password file named with file:line:col" \
        bash -c "[ $rc = 1 ] && grep -qE 'hearth.yaml:[0-9]+:[0-9]+: redis.password_file: .*/missing.password: No such file' '$T/check.out'"
no_leak "--check errors: no password" "$T/check.out"
"$HEARTHD" --help-config >"$T/help.out"
no_leak "--help-config: no password" "$T/help.out"

# 6. kafka.sasl_password_file: the file's line is librdkafka's sasl.password
# (the test broker speaks PLAINTEXT: librdkafka keeps it unused; its own
# config dump, debug=conf, prints sensitive properties as [redacted]).
config "" redis.password
sed -i "s|^  group: .*|&\n  sasl_password_file: kafka.password|" "$T/hearth.yaml"
"$HEARTHD" --check --config "$T/hearth.yaml" >"$T/check.out" 2>&1; rc=$?
check "--check with kafka.sasl_password_file: exit 0" test "$rc" = 0
run_ready "READY with kafka.sasl_password_file"
stop_hearthd
sed -i "s|^    heartbeat.interval.ms: .*|&\n    sasl.password: \"$KPW\"|" "$T/hearth.yaml"
"$HEARTHD" --check --config "$T/hearth.yaml" >>"$T/check.out" 2>&1; rc=$?
check "--check: sasl.password in a file and in kafka.properties: exit 1, keep one" \
        bash -c "[ $rc = 1 ] && grep -q 'kafka.sasl_password_file and kafka.properties.sasl.password are both set' '$T/check.out'"
no_leak "kafka: no SASL password in --check output" "$T/check.out"

# 7. The ACL user of README (redis://hearth@host + its password file):
# events go through the commit script, hearthctl reads, nothing is refused.
config "redis://hearth@127.0.0.1:$REDIS_PORT/0" acl.password
run_ready "READY as the ACL user hearth (redis://hearth@host, password file)"
for f in "$ROOT"/tests/fixtures/events/*.json; do
        printf '%s\t%s\n' "$(jq -r .subject "$f")" "$(jq -c . "$f")"
done | produce household.reports
check "events applied as the ACL user" \
        wait_for 30 bash -c "grep -qE 'summary: .* [1-9][0-9]* applied' '$T/hearthd.log'"
no_leak "ACL user: no password in ps" "$T/ps.txt"
"$HEARTHCTL" --config "$T/hearth.yaml" stats >"$T/ctl.out" 2>&1; rc=$?
check "hearthctl stats as the ACL user (password file from the config)" test "$rc" = 0
"$HEARTHCTL" --config "$T/hearth.yaml" --redis "redis://hearth@127.0.0.1:$REDIS_PORT/0" stats \
        >>"$T/ctl.out" 2>&1; rc=$?
check "hearthctl --redis URL without password: redis.password_file applies" test "$rc" = 0
stop_hearthd
check "ACL user: clean stop" test "$HEARTHD_RC" = 0
check "ACL user: Redis refused nothing (no NOPERM)" bash -c "! grep -q NOPERM '$T/hearthd.log'"
printf 'AUTH hearth %s\nFLUSHALL\nSET other:key 1\nKEYS *\n' "$APW" | redis-cli -p "$REDIS_PORT" \
        >"$T/acl.out" 2>&1
check "the ACL user cannot FLUSHALL, write outside hearth:* or list keys" \
        bash -c "[ \$(grep -c NOPERM '$T/acl.out') = 3 ]"
no_leak "hearthctl output: no password" "$T/ctl.out"

# Everything hearthd logged in this test.
check "the log saw AUTH errors and starred URLs (it was exercised)" \
        bash -c "grep -q WRONGPASS '$T/hearthd.log' && grep -qF ':***@' '$T/hearthd.log'"
no_leak "hearthd log: no password, right or wrong, Redis or Kafka" "$T/hearthd.log"
finish
