#include "daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arena.h"
#include "clock.h"
#include "config.h"
#include "consumer.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "evaluate.h"
#include "event.h"
#include "fsutil.h"
#include "notify.h"
#include "pipeline.h"
#include "producer.h"
#include "redact.h"
#include "redis.h"
#include "rules.h"
#include "schema.h"
#include "store.h"
#include "supervise.h"

typedef struct {
        Config *cfg;
        Notify *notify;
        KafkaEmbedded *embedded;
        KafkaHealth health;
        Consumer *consumer;
        Producer *producer;
        Redis *redis;
        Store *store;
        AidStore *aid;
        SchemaSet *schemas;
        EventDecoder *decoder;
        Pipeline *pipeline;
        Metrics *metrics;
        bool kafka_ok;
        RuleSet *rules;       /* swapped whole on SIGHUP */
        Config *policy;       /* the config the rules were built with */
        ExprFloorLine *lines; /* policy.floor_lines for the expressions */
        size_t n_lines;
        uint8_t line_noted[128]; /* years whose missing floor line was logged */
        bool store_ready;        /* script loaded and epoch checked since the last connect */
        int sigfd;
        bool stop, reload;

        /* Redis reconnect back-off. */
        int64_t redis_down_since_ms; /* -1 when up */
        int64_t redis_next_try_ms;
        int64_t redis_backoff_ms;

        /* Figures for STATUS= and the summary line. */
        uint64_t consumed;
        uint64_t consumed_at_last_status;
        int64_t last_status_ms;
        int64_t last_run_ms[16]; /* of each periodic task */
        int64_t turn_started_us, turn_max_us;
        rd_kafka_message_t **msgs; /* the batch, kept while it is tried again */
        size_t n_batch;
        bool paused;
        bool resynced;            /* the consumer sought back: drop a kept batch */
        uint64_t metrics_dropped; /* series dropped by the bound, as last logged */
} Daemon;

#define RELAY_INTERVAL_MS 5000
#define POSITIONS_INTERVAL_MS 200
#define KAFKA_CHECK_INTERVAL_MS 5000
#define KAFKA_CHECK_WAIT_MS 250
/* Households whose due timers one turn handles. */
#define TIMERS_SLICE 200
/* Entries younger than this may be in flight at another instance (after a
 * rebalance): re-sending them would duplicate. A crashed instance's
 * entries go out at most this much later. */
#define RELAY_MIN_AGE_MS 10000

DEFINE_TRIVIAL_CLEANUP_FUNC(SchemaSet *, schema_set_free);

/* Loads and checks every schema; prints problems. */
static int load_schemas(const Config *cfg, SchemaSet **ret)
{
        char err[1024];
        int r = schema_set_load_dir(cfg->schemas_dir, ret, err, sizeof(err));
        if (r < 0) {
                log_error("%s", err);
                return r;
        }
        r = event_decoder_check(*ret, err, sizeof(err));
        if (r < 0) {
                log_error("%s: %s", cfg->schemas_dir, err);
                *ret = schema_set_free(*ret);
        }
        return r;
}

static int load_config(const DaemonArgs *args, Config **ret)
{
        _cleanup_(diag_freep) Diag *d = diag_new();
        if (!d)
                return -ENOMEM;
        int r = config_load(args->config_path, args->sets, args->n_sets, ret, d);
        if (r < 0) {
                diag_print(d, stderr, "<3>");
                log_error("%u error%s in %s", diag_count(d), diag_count(d) == 1 ? "" : "s",
                          args->config_path);
                return r;
        }
        /* sources.allow names input event types: a misspelt one would
         * silently allow every source. */
        for (size_t i = 0; i < (*ret)->n_sources_allow; i++)
                if (event_type_from_name((*ret)->sources_allow[i].key) < 0) {
                        log_error("%s: sources.allow: '%s' is not an input event type",
                                  args->config_path, (*ret)->sources_allow[i].key);
                        *ret = config_free(*ret);
                        return -EINVAL;
                }
        return 0;
}

/* Loads the rule set of cfg's rules.dir; prints every problem with
 * file:line:col. */
static int load_rules(const Config *cfg, RuleSet **ret)
{
        _cleanup_(diag_freep) Diag *d = diag_new();
        if (!d)
                return -ENOMEM;
        int r = rules_load_dir(cfg->rules_dir, cfg, ret, d);
        if (r < 0) {
                diag_print(d, stderr, "<3>");
                log_error("%u error%s in the rules of %s", diag_count(d),
                          diag_count(d) == 1 ? "" : "s", cfg->rules_dir);
        }
        return r;
}

/* Installs a rule set and the policy it was built with (takes both). */
static int rules_install(Daemon *d, RuleSet *rules, Config *policy)
{
        ExprFloorLine *lines = calloc(policy->n_floor_lines + 1, sizeof(ExprFloorLine));
        if (!lines) {
                rules_free(rules);
                config_free(policy);
                return -ENOMEM;
        }
        rules_floor_lines(policy, lines, policy->n_floor_lines);
        /* Swapped between two events: the pipeline calls back into d->rules
         * only from this thread. */
        rules_free(d->rules);
        if (d->policy != d->cfg)
                config_free(d->policy);
        free(d->lines);
        d->rules = rules;
        d->policy = policy;
        d->lines = lines;
        d->n_lines = policy->n_floor_lines;
        memset(d->line_noted, 0, sizeof(d->line_noted));
        return 0;
}

/* The pipeline's evaluator: the rules of this moment, as JSON reasons. */
static json_t *daemon_eval(const json_t *doc, int32_t today, void *userdata)
{
        Daemon *d = userdata;
        RulesResult res = {0};
        /* Without the reasons' texts (message, to_clear): daemon_explain()
         * writes them into the outputs that carry reasons, the only place
         * they are published. */
        json_t *e = evaluate_json_lean(d->rules, doc, today, d->lines, d->n_lines, &res);
        int year = date_year(today);
        bool exact = false;
        for (size_t i = 0; i < d->n_lines; i++)
                exact = exact || d->lines[i].year == year;
        if (e && !exact && year >= 2000 && year < 2000 + (int)sizeof(d->line_noted) &&
            !d->line_noted[year - 2000]) {
                d->line_noted[year - 2000] = 1;
                const ExprFloorLine *used = NULL;
                for (size_t i = 0; i < d->n_lines; i++)
                        if (d->lines[i].year < year && (!used || d->lines[i].year > used->year))
                                used = &d->lines[i];
                if (used)
                        log_notice("policy.floor_lines has no line for %d: %d's line of %" PRId64
                                   " yuan per person applies (set it when the province publishes "
                                   "it)",
                                   year, used->year, used->fen / 100);
        }
        for (size_t i = 0; d->metrics && i < res.n_reasons; i++) {
                char labels[256];
                if (metrics_labels(labels, sizeof(labels), "rule", res.reasons[i].rule, NULL) >= 0)
                        metrics_counter_add(d->metrics, "hearth_rule_firings_total", labels, 1);
        }
        for (size_t i = 0; i < res.n_errors; i++)
                log_debug("rule %s: %s: %s", res.errors[i].rule, res.errors[i].what,
                          expr_strerror(res.errors[i].error));
        rules_result_done(&res);
        return e;
}

/* StepExplainFn of daemon_eval()'s reasons: the rule set of the moment
 * (the same one: a reload swaps it between batches). */
static int daemon_explain(const json_t *doc, int32_t today, const char *const *rules, size_t n,
                          char **messages, char **texts, void *userdata)
{
        Daemon *d = userdata;
        return rules_explain_set(d->rules, doc, today, d->lines, d->n_lines, rules, n, messages,
                                 texts);
}

/* SIGHUP: builds the new rule set completely (with the config file's
 * policy as it is now), then swaps; on any error the old set keeps
 * running. */
static void daemon_reload(Daemon *d, const DaemonArgs *args)
{
        notify_reloading(d->notify);
        Config *policy = NULL;
        RuleSet *rules = NULL;
        if (load_config(args, &policy) < 0) {
                log_error("reload: config has errors; the old rules keep running");
        } else if (load_rules(policy, &rules) < 0) {
                log_error("reload: rules have errors; the old rules keep running");
                config_free(policy);
        } else {
                size_t n = rules_count(rules);
                if (rules_install(d, rules, policy) == 0) {
                        /* The other reloadable keys (--help-config): the
                         * log level, the lifecycle durations; the intervals
                         * are read from d->policy where they are used. */
                        int level = log_level_from_string(d->policy->log_level);
                        if (level >= 0)
                                log_set_max_level(level);
                        if (d->pipeline)
                                pipeline_set_policy(d->pipeline, d->policy);
                        log_notice("reload: %zu rules from %s", n, d->policy->rules_dir);
                }
        }
        notify_ready(d->notify);
}

/* True when path can be read by users other than its owner and group. */
static bool world_readable(const char *path)
{
        struct stat st;
        return path && stat(path, &st) == 0 && (st.st_mode & S_IROTH);
}

/* True when the file at path holds the text needle. */
static bool file_holds(const char *path, const char *needle)
{
        char *buf = NULL;
        size_t len = 0;
        if (fsutil_read_file(path, CONFIG_MAX_FILE_BYTES, &buf, &len, NULL) < 0)
                return false;
        bool ok = memmem(buf, len, needle, strlen(needle)) != NULL;
        explicit_bzero(buf, len);
        free(buf);
        return ok;
}

/* Warns about secrets every local user can read: a world-readable config
 * file holding a password (of redis.url or in kafka.properties), or a
 * world-readable password file. Names files and keys, never values. */
static void warn_exposed_secrets(const Config *cfg)
{
        if (world_readable(cfg->path)) {
                const char *what = NULL;
                RedisUrl u;
                if (redis_url_parse(cfg->redis_url, &u) == 0) {
                        /* With a password file, "name@" is the user. */
                        if (u.password && *u.password && !(u.bare && cfg->redis_password.value) &&
                            file_holds(cfg->path, u.password))
                                what = "redis.url";
                        redis_url_done(&u);
                }
                for (size_t i = 0; !what && i < cfg->n_kafka_properties; i++)
                        if (redact_key_is_secret(cfg->kafka_properties[i].key) &&
                            *cfg->kafka_properties[i].value &&
                            file_holds(cfg->path, cfg->kafka_properties[i].value))
                                what = "kafka.properties";
                if (what)
                        log_warning("%s holds a password (%s) and every user can read it: "
                                    "chmod 0640, or use redis.password_file / "
                                    "kafka.sasl_password_file",
                                    cfg->path, what);
        }
        const ConfigSecret *files[] = {&cfg->redis_password, &cfg->kafka_sasl_password};
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (world_readable(files[i]->path))
                        log_warning("%s: every user can read this password file: chmod 0600 "
                                    "(or 0640 for a group)",
                                    files[i]->path);
}

int daemon_check(const DaemonArgs *args)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        int r = load_config(args, &cfg);
        if (r < 0)
                return r;
        char err[512];
        if (!streq(cfg->kafka_brokers, "embedded")) {
                Redis *redis = redis_new(cfg->redis_url, cfg->redis_password.value, 1000, 1000, err,
                                         sizeof(err));
                if (!redis) {
                        log_error("%s: redis.url: %s", args->config_path, err);
                        return -EINVAL;
                }
                r = cfg->redis_cluster[0]
                        ? redis_set_cluster(redis, cfg->redis_cluster, err, sizeof(err))
                        : 0;
                redis_free(redis);
                if (r < 0) {
                        log_error("%s: %s", args->config_path, err);
                        return r;
                }
        }
        /* librdkafka checks kafka.properties when it builds a client. */
        rd_kafka_conf_t *kconf =
            kafka_conf_new(cfg, "127.0.0.1:9092", "hearthd-check", NULL, err, sizeof(err));
        if (!kconf) {
                log_error("%s: %s", args->config_path, err);
                return -EINVAL;
        }
        rd_kafka_conf_destroy(kconf);
        warn_exposed_secrets(cfg);
        _cleanup_(schema_set_freep) SchemaSet *schemas = NULL;
        int rs = load_schemas(cfg, &schemas);
        _cleanup_(rules_freep) RuleSet *rules = NULL;
        r = load_rules(cfg, &rules);
        if (r < 0 || rs < 0)
                return r < 0 ? r : rs;
        printf("configuration OK: %zu rules, %zu schemas\n", rules_count(rules),
               schema_set_count(schemas));
        /* Years up to this one without a line of their own (REQ-2): said
         * here and once per year in the daemon's log. */
        char gaps[512];
        int year = date_year((int32_t)(clock_wall_ms() / (24LL * 3600 * 1000)));
        int n = config_floor_line_gaps(cfg, year, gaps, sizeof(gaps));
        if (n > 0)
                printf("note: policy.floor_lines has no line for %s: the latest earlier line "
                       "applies; add each year's line when the province publishes it\n",
                       gaps);
        return 0;
}

static int signals_open(void)
{
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGPIPE);
        /* Signals only ever arrive through the signalfd, read by the loop. */
        if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
                return -errno;
        int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static void signals_read(Daemon *d)
{
        struct signalfd_siginfo si;
        while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGTERM:
                case SIGINT:
                        if (!d->stop)
                                log_notice("received %s, draining and stopping",
                                           si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                        d->stop = true;
                        break;
                case SIGHUP:
                        d->reload = true;
                        break;
                default:
                        break;
                }
        }
}

/* Tries to (re)connect to Redis when the back-off allows. Returns 0 when
 * connected, -EAGAIN while retrying, -ETIMEDOUT when the retry budget is
 * spent (fatal). */
static int redis_ensure(Daemon *d, int64_t now)
{
        if (redis_connected(d->redis))
                return 0;
        if (d->redis_down_since_ms < 0) {
                d->redis_down_since_ms = now;
                d->redis_next_try_ms = now;
                d->redis_backoff_ms = 100;
        }
        if (now < d->redis_next_try_ms)
                return -EAGAIN;
        int r = redis_connect(d->redis);
        if (r == 0) {
                if (now - d->redis_down_since_ms > 0)
                        log_notice("redis: connected to %s after %" PRId64 " ms",
                                   redis_target(d->redis), now - d->redis_down_since_ms);
                else
                        log_info("redis: connected to %s", redis_target(d->redis));
                d->redis_down_since_ms = -1;
                return 0;
        }
        if (now - d->redis_down_since_ms >= d->cfg->redis_retry_budget_ms) {
                log_error("redis: %s unreachable for %" PRId64 " ms (%s), giving up",
                          redis_target(d->redis), now - d->redis_down_since_ms,
                          redis_errstr(d->redis));
                return -ETIMEDOUT;
        }
        log_ratelimited(LOG_WARNING, "redis: %s: %s, retrying in %" PRId64 " ms",
                        redis_target(d->redis), redis_errstr(d->redis), d->redis_backoff_ms);
        d->redis_next_try_ms = now + d->redis_backoff_ms;
        d->redis_backoff_ms = d->redis_backoff_ms * 2 > 2000 ? 2000 : d->redis_backoff_ms * 2;
        return -EAGAIN;
}

/* STATUS= for systemctl status, and a periodic summary line in the log. */
static void status_update(Daemon *d, int64_t now, bool force)
{
        if (!force && now - d->last_status_ms < d->policy->status_interval_ms)
                return;
        const PipelineStats *st = d->pipeline ? pipeline_stats(d->pipeline) : NULL;
        uint64_t consumed = st ? st->consumed : 0;
        double secs = d->last_status_ms ? (double)(now - d->last_status_ms) / 1000.0 : 0;
        double rate = secs > 0 ? (double)(consumed - d->consumed_at_last_status) / secs : 0;
        int64_t lag = d->consumer ? consumer_lag(d->consumer) : -1;
        int64_t red = -1, yellow = -1;
        if (d->store && redis_connected(d->redis) && d->store_ready)
                store_open_counts(d->store, &red, &yellow);
        size_t pending = d->pipeline ? pipeline_in_flight(d->pipeline) : 0;
        if (d->metrics) {
                if (red >= 0) {
                        metrics_gauge_set(d->metrics, "hearth_open_alerts", "code=\"red\"",
                                          (double)red);
                        metrics_gauge_set(d->metrics, "hearth_open_alerts", "code=\"yellow\"",
                                          (double)yellow);
                }
                metrics_gauge_set(d->metrics, "hearth_outbox_pending", NULL, (double)pending);
                if (lag >= 0)
                        metrics_gauge_set(d->metrics, "hearth_consumer_lag", NULL, (double)lag);
                /* Said in the log too, not only by the counter: a series
                 * that never appears is easy to miss on a dashboard. */
                uint64_t dropped = metrics_dropped_total(d->metrics);
                if (dropped > d->metrics_dropped) {
                        log_warning("metrics: %" PRIu64 " label sets dropped by the per-family "
                                    "series bound so far (hearth_metrics_dropped_series_total"
                                    "{family}); list the towns in metrics.towns",
                                    dropped);
                        d->metrics_dropped = dropped;
                }
        }
        char status[256];
        snprintf(status, sizeof(status),
                 "%.1f events/s, lag %" PRId64 ", open alerts: %" PRId64 " red, %" PRId64
                 " yellow, outbox pending %zu",
                 rate, lag, red, yellow, pending);
        notify_status(d->notify, status);
        if (st && consumed != d->consumed_at_last_status)
                log_info("summary: %s; %" PRIu64 " consumed, %" PRIu64 " applied, %" PRIu64
                         " duplicates, %" PRIu64 " dead letters",
                         status, st->consumed, st->applied, st->duplicates, st->dead_letters);
        d->last_status_ms = now;
        d->consumed_at_last_status = consumed;
}

static void daemon_teardown(Daemon *d)
{
        d->consumer = consumer_free(d->consumer);
        d->producer = producer_free(d->producer, 0);
        d->pipeline = pipeline_free(d->pipeline);
        d->aid = aidstore_free(d->aid);
        d->metrics = metrics_free(d->metrics);
        d->decoder = event_decoder_free(d->decoder);
        d->schemas = schema_set_free(d->schemas);
        d->store = store_free(d->store);
        d->rules = rules_free(d->rules);
        if (d->policy != d->cfg)
                config_free(d->policy);
        d->policy = NULL;
        free(d->lines);
        d->lines = NULL;
        d->embedded = kafka_embedded_free(d->embedded);
        d->redis = redis_free(d->redis);
        d->notify = notify_free(d->notify);
        d->cfg = config_free(d->cfg);
        if (d->sigfd >= 0)
                close(d->sigfd);
        d->sigfd = -1;
}

/* Waits for Redis at start-up, serving signals meanwhile. */
static int startup_wait_redis(Daemon *d)
{
        for (;;) {
                int64_t now = clock_mono_ms();
                int r = redis_ensure(d, now);
                if (r != -EAGAIN)
                        return r;
                signals_read(d);
                if (d->stop)
                        return -ECANCELED;
                notify_watchdog(d->notify, now);
                struct pollfd p = {.fd = d->sigfd, .events = POLLIN};
                int64_t wait = d->redis_next_try_ms - now;
                poll(&p, 1, (int)(wait < 0 ? 0 : wait > 1000 ? 1000 : wait));
        }
}

/* Makes sure Redis is connected and the store prepared (script loaded,
 * epoch checked) after every reconnect. 0 when usable, -EAGAIN while
 * retrying, -ETIMEDOUT or -ESTALE when fatal. */
static int store_ensure(Daemon *d, int64_t now)
{
        if (!redis_connected(d->redis))
                d->store_ready = false;
        int r = redis_ensure(d, now);
        if (r < 0)
                return r;
        if (d->store_ready)
                return 0;
        r = store_prepare(d->store);
        if (r == -ESTALE) {
                log_error("redis: %s; stopping rather than raising alerts from an empty state",
                          store_errstr(d->store));
                return r;
        }
        if (r == -EPROTO) {
                log_error("redis: %s", store_errstr(d->store));
                return -ESTALE;
        }
        if (r < 0) {
                log_warning("redis: %s, reconnecting", store_errstr(d->store));
                redis_disconnect(d->redis);
                return -EAGAIN;
        }
        /* After a reconnect: Redis may have lost its last writes. Until
         * its positions are read back (and the consumer sought to them),
         * nothing is processed: a kept batch retried past writes Redis
         * lost would skip the events in between for good. */
        if (d->consumer) {
                int rs = pipeline_resync(d->pipeline);
                if (rs < 0) {
                        log_warning("redis: positions not read back after the reconnect (%s), "
                                    "reconnecting",
                                    rs == -ENOMEM ? "out of memory" : store_errstr(d->store));
                        redis_disconnect(d->redis);
                        return -EAGAIN;
                }
                if (rs == 1)
                        d->resynced = true;
        }
        d->store_ready = true;
        return 0;
}

/* Periodic work, each at its interval (0: every turn), while Redis is up
 * and the store ready (or always, for those that do not need it). */
typedef struct {
        const char *name;
        int64_t (*interval)(const Daemon *d);
        void (*run)(Daemon *d, int64_t now);
        bool needs_store;
} Periodic;

static int64_t every_turn(const Daemon *d)
{
        (void)d;
        return 0;
}
static int64_t positions_interval(const Daemon *d)
{
        (void)d;
        return POSITIONS_INTERVAL_MS;
}
static int64_t relay_interval(const Daemon *d)
{
        (void)d;
        return RELAY_INTERVAL_MS;
}
static int64_t kafka_check_interval(const Daemon *d)
{
        (void)d;
        return KAFKA_CHECK_INTERVAL_MS;
}
/* Reloadable: read from the config of the last (re)load. */
static int64_t timers_interval(const Daemon *d)
{
        return d->policy->timer_check_interval_ms;
}
static int64_t status_interval(const Daemon *d)
{
        return d->policy->status_interval_ms;
}

static void run_positions(Daemon *d, int64_t now)
{
        (void)now;
        if (pipeline_flush_positions(d->pipeline) < 0)
                log_ratelimited(LOG_WARNING, "redis: cannot record positions (%s), retrying",
                                store_errstr(d->store));
}

static void run_deliveries(Daemon *d, int64_t now)
{
        (void)now;
        if (pipeline_drain_deliveries(d->pipeline) < 0)
                log_ratelimited(LOG_WARNING,
                                "redis: delivered outbox entries not deleted yet (%s), retrying",
                                store_errstr(d->store));
}

static void run_relay(Daemon *d, int64_t now)
{
        (void)now;
        if (pipeline_relay(d->pipeline, clock_wall_ms(), RELAY_MIN_AGE_MS) < 0)
                log_warning("redis: outbox relay failed (%s), retrying", store_errstr(d->store));
}

/* Due reminders, escalations and overdue visits; a backlog after downtime
 * is worked off a slice per turn. */
static void run_timers(Daemon *d, int64_t now)
{
        (void)now;
        if (pipeline_timers(d->pipeline, clock_wall_ms(), TIMERS_SLICE) < 0)
                log_warning("redis: timers not checked (%s), retrying", store_errstr(d->store));
}

/* Backpressure: too much undelivered output pauses consumption. */
static void run_backpressure(Daemon *d, int64_t now)
{
        (void)now;
        bool full = (int64_t)pipeline_in_flight(d->pipeline) + producer_outq_len(d->producer) >
                    d->cfg->outbox_max_pending;
        if (full != d->paused && consumer_pause(d->consumer, full) == 0) {
                d->paused = full;
                log_notice("%s consumption: %zu outputs in flight", full ? "pausing" : "resuming",
                           pipeline_in_flight(d->pipeline));
        }
}

static void run_ping(Daemon *d, int64_t now)
{
        (void)now;
        if (redis_ping(d->redis) < 0)
                log_warning("redis: %s lost: %s, reconnecting", redis_target(d->redis),
                            redis_errstr(d->redis));
}

/* Kafka's reachability for /healthz and hearth_up: a metadata request
 * (bounded: the loop never waits on it for long). */
static void run_kafka_check(Daemon *d, int64_t now)
{
        (void)now;
        if (d->metrics && d->producer)
                d->kafka_ok =
                    producer_reachable(d->producer, KAFKA_CHECK_WAIT_MS) && !d->health.fatal;
}

static void run_health(Daemon *d, int64_t now)
{
        (void)now;
        if (!d->metrics)
                return;
        bool redis_ok = redis_connected(d->redis) && d->store_ready;
        metrics_set_health(d->metrics, d->kafka_ok, redis_ok);
        metrics_gauge_set(d->metrics, "hearth_up", NULL, d->kafka_ok && redis_ok ? 1 : 0);
        metrics_gauge_set(d->metrics, "hearth_loop_turn_max_seconds", NULL,
                          (double)d->turn_max_us / 1e6);
}

static void run_status(Daemon *d, int64_t now)
{
        status_update(d, now, false);
}

static const Periodic periodic[] = {
    {"deliveries", every_turn, run_deliveries, true},
    {"positions", positions_interval, run_positions, true},
    {"relay", relay_interval, run_relay, true},
    {"timers", timers_interval, run_timers, true},
    {"backpressure", every_turn, run_backpressure, false},
    {"ping", status_interval, run_ping, true},
    {"kafka_check", kafka_check_interval, run_kafka_check, false},
    {"health", every_turn, run_health, false},
    {"status", every_turn, run_status, false},
};

_Static_assert(ELEMENTSOF(periodic) <= ELEMENTSOF(((Daemon *)0)->last_run_ms),
               "Daemon.last_run_ms holds every periodic task");

static void periodic_run(Daemon *d, bool store_up)
{
        for (size_t i = 0; i < ELEMENTSOF(periodic); i++) {
                int64_t now = clock_mono_ms();
                if (periodic[i].needs_store && !store_up)
                        continue;
                if (now - d->last_run_ms[i] < periodic[i].interval(d))
                        continue;
                periodic[i].run(d, now);
                d->last_run_ms[i] = now;
        }
}

/* Builds everything up to the Kafka clients; 0, or a negative errno with
 * the reason logged. */
static int daemon_build(Daemon *d, const DaemonArgs *args)
{
        char err[512];
        RuleSet *rules = NULL;
        Config *policy = NULL;
        int r = load_rules(d->cfg, &rules);
        if (r == 0)
                r = load_config(args, &policy);
        if (r < 0) {
                rules_free(rules);
                return r;
        }
        if ((r = rules_install(d, rules, policy)) < 0)
                return r;
        log_info("%zu rules loaded from %s", rules_count(d->rules), d->cfg->rules_dir);
        r = d->sigfd = signals_open();
        if (r < 0) {
                log_error_errno(r, "cannot set up signals: %s", strerror(-r));
                return r;
        }
        d->notify = notify_new();
        warn_exposed_secrets(d->cfg);
        d->redis = redis_new(d->cfg->redis_url, d->cfg->redis_password.value,
                             d->cfg->redis_connect_timeout_ms, d->cfg->redis_command_timeout_ms,
                             err, sizeof(err));
        if (!d->redis) {
                log_error("redis.url: %s", err);
                return -EINVAL;
        }
        if (d->cfg->redis_cluster[0] &&
            redis_set_cluster(d->redis, d->cfg->redis_cluster, err, sizeof(err)) < 0) {
                log_error("%s", err);
                return -EINVAL;
        }
        d->store =
            store_new(d->redis, d->cfg->redis_prefix, d->cfg->kafka_group, d->cfg->dedup_window_ms);
        if (d->store) {
                store_set_limits(d->store, d->cfg->dedup_max, 0);
                store_set_wait(d->store, (int)d->cfg->redis_wait_replicas,
                               d->cfg->redis_wait_timeout_ms);
        }
        d->decoder = event_decoder_new(d->schemas, (size_t)d->cfg->max_message_bytes);
        if (d->store)
                d->pipeline = pipeline_new(d->cfg, d->store, d->decoder);
        if (d->store)
                d->aid = aidstore_new(d->redis, d->store, d->cfg->redis_prefix, d->cfg->departments,
                                      d->cfg->n_departments);
        if (d->pipeline) {
                pipeline_set_evaluator(d->pipeline, daemon_eval, daemon_explain, d);
                pipeline_set_policy(d->pipeline, d->policy);
                pipeline_set_aid(d->pipeline, d->aid);
        }
        d->metrics = metrics_new();
        if (!d->metrics || metrics_declare_hearth(d->metrics) < 0 ||
            metrics_label_values(d->metrics, "hearth_alerts_total", "town", d->cfg->metrics_towns,
                                 d->cfg->n_metrics_towns, "other") < 0 ||
            supervise_declare(d->metrics, d->cfg->metrics_towns, d->cfg->n_metrics_towns) < 0)
                return -ENOMEM;
        if (d->pipeline)
                pipeline_set_metrics(d->pipeline, d->metrics);
        if (*d->cfg->metrics_listen) {
                r = metrics_serve(d->metrics, d->cfg->metrics_listen, err, sizeof(err));
                if (r < 0) {
                        log_error("metrics.listen: %s", err);
                        return r;
                }
                log_info("metrics on http://%s/metrics and /healthz", d->cfg->metrics_listen);
        }
        d->msgs = calloc((size_t)d->cfg->batch_max, sizeof(*d->msgs));
        if (!d->notify || !d->store || !d->decoder || !d->pipeline || !d->msgs)
                return -ENOMEM;
        return 0;
}

/* The Kafka clients, once Redis is ready; 0 or a negative errno. */
static int daemon_connect(Daemon *d, const char *bootstrap)
{
        char err[512];
        d->producer = producer_new(d->cfg, bootstrap, &d->health, pipeline_on_delivery, d->pipeline,
                                   err, sizeof(err));
        if (!d->producer) {
                log_error("%s", err);
                return -EINVAL;
        }
        ConsumerHooks hooks = {pipeline_on_assigned, pipeline_on_revoked, d->pipeline};
        d->consumer = consumer_new(d->cfg, bootstrap, &d->health, &hooks, err, sizeof(err));
        if (!d->consumer) {
                log_error("%s", err);
                return -EINVAL;
        }
        pipeline_set_clients(d->pipeline, d->producer, d->consumer);
        int r = consumer_subscribe(d->consumer, err, sizeof(err));
        if (r < 0) {
                log_error("kafka: %s", err);
                return r;
        }
        return 0;
}

/* Start-up: config, schemas, rules, Redis, the Kafka clients, READY=1.
 * 0, 1 when stopped by a signal while waiting, or a negative errno. */
static int daemon_start(Daemon *d, const DaemonArgs *args)
{
        char err[512];
        int r = load_config(args, &d->cfg);
        if (r < 0)
                return r;
        int level = log_level_from_string(d->cfg->log_level);
        if (level >= 0)
                log_set_max_level(level);
        if ((r = load_schemas(d->cfg, &d->schemas)) < 0 || (r = daemon_build(d, args)) < 0)
                return r;
        const char *bootstrap = d->cfg->kafka_brokers;
        if (streq(bootstrap, "embedded")) {
                d->embedded = kafka_embedded_new(d->cfg, err, sizeof(err));
                if (!d->embedded) {
                        log_error("%s", err);
                        return -EIO;
                }
                bootstrap = kafka_embedded_bootstraps(d->embedded);
                log_notice("kafka: embedded test broker at %s (demo only, nothing is kept)",
                           bootstrap);
        }
        r = startup_wait_redis(d);
        if (r == 0)
                while ((r = store_ensure(d, clock_mono_ms())) == -EAGAIN)
                        r = startup_wait_redis(d);
        if (r == -ECANCELED)
                return 1;
        if (r < 0 || (r = daemon_connect(d, bootstrap)) < 0)
                return r;
        log_notice("hearthd ready: kafka %s group %s, %zu input topics, redis %s", bootstrap,
                   d->cfg->kafka_group, d->cfg->n_kafka_inputs, redis_target(d->redis));
        notify_ready(d->notify);
        /* Outbox entries left by a previous run go out first (those old
         * enough not to be in flight elsewhere; the rest within seconds). */
        if (pipeline_relay(d->pipeline, clock_wall_ms(), RELAY_MIN_AGE_MS) < 0)
                log_warning("redis: outbox relay failed (%s), retrying", store_errstr(d->store));
        int64_t now = clock_mono_ms();
        for (size_t i = 0; i < ELEMENTSOF(periodic); i++)
                d->last_run_ms[i] = now;
        return 0;
}

static void batch_drop(Daemon *d)
{
        for (size_t i = 0; i < d->n_batch; i++)
                rd_kafka_message_destroy(d->msgs[i]);
        d->n_batch = 0;
}

/* Polls a batch (unless one is kept) and processes it. A batch that met a
 * failure is kept and tried again: nothing is polled meanwhile, so nothing
 * is lost. 0, or a fatal negative errno. */
static int daemon_batch(Daemon *d)
{
        if (d->resynced) {
                /* Read again from Redis's positions: a kept batch would
                 * apply later events before earlier ones. */
                batch_drop(d);
                d->resynced = false;
        }
        if (!d->n_batch)
                d->n_batch = consumer_poll(d->consumer, d->msgs, (size_t)d->cfg->batch_max,
                                           (int)d->cfg->poll_ms, (int)d->cfg->batch_linger_ms);
        if (!d->n_batch)
                return 0;
        int r = pipeline_process_guarded(d->pipeline, d->msgs, d->n_batch, clock_wall_ms());
        if (r == -ESTALE) {
                log_error("redis: hearth's state is gone (epoch key missing); stopping rather "
                          "than raising alerts from an empty state");
                return r;
        }
        if (r == -EAGAIN) {
                /* The producer's queue is full: serve it (bounded), then
                 * the batch is tried again. */
                producer_poll(d->producer, 100);
                return 0;
        }
        if (r < 0) {
                log_warning("redis: batch of %zu not committed (%s), retrying after reconnect",
                            d->n_batch, r == -ENOMEM ? "out of memory" : store_errstr(d->store));
                if (r != -EIO && r != -ENOMEM)
                        redis_disconnect(d->redis);
                return 0;
        }
        batch_drop(d);
        return 0;
}

/* One turn of the loop: signals, Redis, one batch, the periodic work. 0 to
 * go on, 1 to stop, or a fatal negative errno. */
static int daemon_turn(Daemon *d, const DaemonArgs *args)
{
        int64_t now = clock_mono_ms();
        notify_watchdog(d->notify, now);
        signals_read(d);
        if (d->stop)
                return 1;
        if (d->reload) {
                d->reload = false;
                daemon_reload(d, args);
        }
        if (pipeline_state_lost(d->pipeline))
                return -ESTALE;
        if (d->health.fatal) {
                log_error("kafka: fatal error: %s; exiting for a restart", d->health.fatal_reason);
                return -EIO;
        }
        producer_poll(d->producer, 0);
        int r = store_ensure(d, now);
        if (r == -ETIMEDOUT || r == -ESTALE)
                return r;
        if (r == -EAGAIN) {
                periodic_run(d, false);
                struct pollfd p = {.fd = d->sigfd, .events = POLLIN};
                poll(&p, 1, (int)d->cfg->poll_ms);
                return 0;
        }
        if ((r = daemon_batch(d)) < 0)
                return r;
        producer_poll(d->producer, 0);
        periodic_run(d, redis_connected(d->redis) && d->store_ready);
        return 0;
}

/* Shutdown mirrors start-up: stop fetching, say so, finish what is in
 * flight, flush the producer, record positions, leave the group. */
static void daemon_stop(Daemon *d)
{
        notify_stopping(d->notify);
        if (d->producer && producer_flush(d->producer, 10000) < 0)
                log_warning("kafka: outputs still undelivered at shutdown; the outbox keeps "
                            "them for the next start");
        bool redis_up = d->pipeline && redis_connected(d->redis);
        if (redis_up && pipeline_drain_deliveries(d->pipeline) < 0)
                log_warning("redis: delivered outbox entries not deleted at shutdown; the next "
                            "start sends them again with the same ids");
        if (redis_up && pipeline_flush_positions(d->pipeline) < 0)
                log_warning("redis: cannot record final positions; the next start re-reads a "
                            "little (harmless)");
        if (d->consumer && consumer_commit(d->consumer) < 0)
                log_warning("kafka: final offset commit failed; Redis positions stay the truth");
        if (d->pipeline) {
                const PipelineStats *st = pipeline_stats(d->pipeline);
                log_notice("hearthd stopped: %" PRIu64 " consumed, %" PRIu64 " applied, %" PRIu64
                           " duplicates, %" PRIu64 " dead letters; %" PRIu64
                           " households committed; longest loop turn %" PRId64
                           " ms; batch arena peak %zu KiB",
                           st->consumed, st->applied, st->duplicates, st->dead_letters, st->commits,
                           d->turn_max_us / 1000, arena_peak() / 1024);
        }
}

int daemon_run(const DaemonArgs *args)
{
        Daemon d = {.sigfd = -1, .redis_down_since_ms = -1};
        int r = daemon_start(&d, args);
        if (r == 0) {
                while ((r = daemon_turn(&d, args)) == 0) {
                        int64_t took = clock_mono_us() - d.turn_started_us;
                        if (d.turn_started_us && took > d.turn_max_us)
                                d.turn_max_us = took;
                        d.turn_started_us = clock_mono_us();
                }
                if (r == 1)
                        r = 0;
                daemon_stop(&d);
        } else if (r == 1)
                r = 0;
        batch_drop(&d);
        free(d.msgs);
        /* The consumer leaves the group before the producer goes. */
        d.consumer = consumer_free(d.consumer);
        daemon_teardown(&d);
        return r;
}
