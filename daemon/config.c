#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "departments.h"
#include "fsutil.h"
#include "redact.h"
#include "ytree.h"

typedef enum {
        T_STRING,
        T_PATH,
        T_INT,
        T_DURATION,
        T_STRLIST,
        T_PAIRS,
        T_FLOORLINES,
        T_FIXED2,
        T_ENUM,
        T_SECRET_FILE,
        T_DEPARTMENTS,
} KeyType;

typedef struct {
        const char *key;
        KeyType type;
        size_t off;          /* field in Config */
        size_t count_off;    /* list and pair counts */
        const char *def;     /* default, as YAML text (NULL: required) */
        int64_t min, max;    /* T_INT, T_DURATION (ms), T_FIXED2 (×100) */
        const char *choices; /* T_ENUM: "a|b|c" */
        bool reloadable;
        const char *doc;
} KeyDef;

#define F(field) offsetof(Config, field)
#define NOCOUNT 0
#define DAY (24LL * 3600 * 1000)

/* The one table of keys. Defaults go through the same parser and validator
 * as values from the file. */
static const KeyDef keys[] = {
    {"kafka.brokers", T_STRING, F(kafka_brokers), NOCOUNT, "\"127.0.0.1:9092\"", 0, 0, NULL, false,
     "bootstrap servers, or `embedded` for an in-process test broker (demo only)"},
    {"kafka.group", T_STRING, F(kafka_group), NOCOUNT, "hearth", 0, 0, NULL, false,
     "consumer group id"},
    {"kafka.topics.inputs", T_STRLIST, F(kafka_inputs), F(n_kafka_inputs),
     "[civil-affairs.events, medical-insurance.events, disaster.events, household.reports]", 1, 64,
     NULL, false, "input topics"},
    {"kafka.topics.alerts", T_STRING, F(kafka_alerts), NOCOUNT, "hearth.alerts", 0, 0, NULL, false,
     "output topic of alert events"},
    {"kafka.topics.dead_letter", T_STRING, F(kafka_dead_letter), NOCOUNT, "hearth.dlq", 0, 0, NULL,
     false, "dead-letter topic"},
    {"kafka.properties", T_PAIRS, F(kafka_properties), F(n_kafka_properties), "{}", 0, 0, NULL,
     false, "librdkafka properties passed through to consumer and producer (SASL, TLS...)"},
    {"kafka.sasl_password_file", T_SECRET_FILE, F(kafka_sasl_password), NOCOUNT, "\"\"", 0, 0, NULL,
     false,
     "file whose first line is librdkafka's sasl.password (instead of "
     "kafka.properties.sasl.password); empty: none"},

    {"redis.url", T_STRING, F(redis_url), NOCOUNT, "\"redis://127.0.0.1:6379/0\"", 0, 0, NULL,
     false, "redis://[[user]:password@]host:port/db or unix:///path/to/redis.sock[?db=N]"},
    {"redis.password_file", T_SECRET_FILE, F(redis_password), NOCOUNT, "\"\"", 0, 0, NULL, false,
     "file whose first line is the Redis password (AUTH), instead of one in redis.url; "
     "redis://USER@host then names the ACL user; empty: none"},
    {"redis.prefix", T_STRING, F(redis_prefix), NOCOUNT, "hearth", 0, 0, NULL, false,
     "prefix of every Redis key"},
    {"redis.connect_timeout", T_DURATION, F(redis_connect_timeout_ms), NOCOUNT, "1s", 10, 600000,
     NULL, false, "connect timeout (the loop waits this long at most on a connect)"},
    {"redis.command_timeout", T_DURATION, F(redis_command_timeout_ms), NOCOUNT, "1s", 10, 600000,
     NULL, false,
     "command timeout: the longest the loop waits on Redis (a batch's pipelined commit takes "
     "milliseconds; a timeout reconnects and tries the batch again, nothing is lost)"},
    {"redis.cluster", T_STRING, F(redis_cluster), NOCOUNT, "\"\"", 0, 0, NULL, false,
     "seed nodes host:port[,host:port...] of a Redis Cluster (redis.url is one more seed and "
     "the credentials, db 0); empty: one Redis at redis.url"},
    {"redis.wait_replicas", T_INT, F(redis_wait_replicas), NOCOUNT, "1", 0, 16, NULL, false,
     "cluster mode: replicas that must hold every write (WAIT) before the positions move; a "
     "failover then loses nothing the positions cover. 0: do not wait"},
    {"redis.wait_timeout", T_DURATION, F(redis_wait_timeout_ms), NOCOUNT, "1s", 10, 600000, NULL,
     false,
     "cluster mode: how long one WAIT may take before the positions stay where they are "
     "(tried again at the next flush)"},
    {"redis.retry_budget", T_DURATION, F(redis_retry_budget_ms), NOCOUNT, "120s", 1000, DAY, NULL,
     false, "how long Redis may stay unreachable before hearthd exits non-zero"},

    {"rules.dir", T_PATH, F(rules_dir), NOCOUNT, "rules", 0, 0, NULL, true,
     "folder of rule files (*.yaml)"},
    {"schemas.dir", T_PATH, F(schemas_dir), NOCOUNT, "schemas", 0, 0, NULL, false,
     "folder of JSON Schema files"},

    {"policy.floor_lines", T_FLOORLINES, F(floor_lines), F(n_floor_lines), "{2022: 10000}", 0, 0,
     NULL, true, "per-capita income floor line (yuan) per year (REQ-2)"},
    {"policy.monitor_factor", T_FIXED2, F(monitor_factor), NOCOUNT, "1.2", 100, 1000, NULL, true,
     "key monitoring when per-capita income is below floor line x factor"},
    {"policy.thresholds", T_PAIRS, F(thresholds), F(n_thresholds), "{}", 0, 0, NULL, true,
     "named figures the rules use (yuan or plain numbers), overriding rules' defaults"},
    {"sources.allow", T_PAIRS, F(sources_allow), F(n_sources_allow), "{}", 0, 0, NULL, false,
     "optional allow-list: event type -> comma-separated source prefixes that may send it "
     "(e.g. household.removed: \"civil-affairs/\"); other sources' events of that type are "
     "dead-lettered. Types not listed: any source"},
    {"departments", T_DEPARTMENTS, F(departments), F(n_departments), DEPARTMENTS_DEFAULT, 0, 0,
     NULL, false,
     "the county departments that answer alerts in time (部门限时答复, REQ-9) and receive social "
     "aid matches (REQ-12): a list of {id, name, categories, answer_within}; an alert reason "
     "or a need goes to every department listing its category (README: Departments)"},
    {"policy.language", T_ENUM, F(language), NOCOUNT, "zh", 0, 0, "zh|en", true,
     "language of alert messages"},

    {"alerts.respond_within.red", T_DURATION, F(respond_within_red_ms), NOCOUNT, "24h", 1000,
     365 * DAY, NULL, true, "default response limit of red alerts"},
    {"alerts.respond_within.yellow", T_DURATION, F(respond_within_yellow_ms), NOCOUNT, "72h", 1000,
     365 * DAY, NULL, true, "default response limit of yellow alerts"},
    {"alerts.respond_within.urgent", T_DURATION, F(respond_within_urgent_ms), NOCOUNT, "4h", 1000,
     365 * DAY, NULL, true,
     "response limit of rules marked `respond_within: urgent` (needs reported as urgent)"},
    {"candidates.grace", T_DURATION, F(candidate_grace_ms), NOCOUNT, "10s", 0, DAY, NULL, false,
     "an unregistered household's hardship is reported to the county "
     "(household.candidate.identified) when it still holds this long after it was seen: its "
     "registration may be on its way on another topic"},
    {"retention.removed", T_DURATION, F(retention_removed_ms), NOCOUNT, "30d", 0, 3650 * DAY, NULL,
     false,
     "how long a removed household's personal data is kept (CONTRACT.md); 0 erases it at once"},
    {"benefits.period", T_ENUM, F(benefits_period), NOCOUNT, "monthly", 0, 0, "monthly|quarterly",
     false,
     "period of the benefits statement (幸福清单, REQ-13) sent to each registered household "
     "with a contact_phone, once per period after it ends"},
    {"benefits.delay", T_DURATION, F(benefits_delay_ms), NOCOUNT, "1d", 0, 31 * DAY, NULL, false,
     "a period's statement is sent this long after the period ends (late payments of its last "
     "days arrive first)"},
    {"alerts.reminder_after", T_DURATION, F(reminder_after_ms), NOCOUNT, "12h", 1000, 365 * DAY,
     NULL, true, "reminder to the cadre while an alert is unacknowledged"},
    {"visits.interval", T_DURATION, F(visit_interval_ms), NOCOUNT, "31d", 1000, 365 * DAY, NULL,
     true, "a visit is expected at least this often (REQ-6)"},
    {"timers.check_interval", T_DURATION, F(timer_check_interval_ms), NOCOUNT, "1s", 10, 600000,
     NULL, true, "how often due timers are looked for"},

    /* 250: a batch's households are held in the batch arena at once (35 KiB
     * each after a year of events), so 500 took the batch arena to 17-19
     * MiB; 250 halves that for about 5 % fewer events/s at equal queue
     * (tests/bench/README.md), which the larger consumer queue the memory
     * now allows gives back (consumer.c). */
    {"pipeline.batch_max", T_INT, F(batch_max), NOCOUNT, "250", 1, 100000, NULL, false,
     "messages per batch (per Redis round trip)"},
    {"pipeline.poll_timeout", T_DURATION, F(poll_ms), NOCOUNT, "100ms", 1, 1000, NULL, false,
     "longest wait for Kafka in one loop turn"},
    /* 5ms: below full speed a batch otherwise holds the few events that
     * arrived during the last one, and pays its round trips and wake-ups
     * for them; librdkafka's producer lingers as long by default. */
    {"pipeline.batch_linger", T_DURATION, F(batch_linger_ms), NOCOUNT, "5ms", 0, 1000, NULL, false,
     "after a batch's first message, how long to wait for more (up to batch_max)"},
    {"pipeline.max_message_bytes", T_INT, F(max_message_bytes), NOCOUNT, "262144", 1024,
     16 * 1024 * 1024, NULL, false, "larger input messages are dead-lettered"},
    {"pipeline.dedup_window", T_DURATION, F(dedup_window_ms), NOCOUNT, "90d", 60000, 3650 * DAY,
     NULL, false, "how long processed source+id pairs are remembered"},
    {"pipeline.dedup_max", T_INT, F(dedup_max), NOCOUNT, "10000", 100, 10000000, NULL, false,
     "at most this many source+id pairs remembered per household (the oldest go first); "
     "they live in the household's record, about 14 bytes each, rewritten with every commit"},
    {"pipeline.outbox_max_pending", T_INT, F(outbox_max_pending), NOCOUNT, "10000", 1, 10000000,
     NULL, false, "pause consumption above this many undelivered outputs"},
    {"pipeline.max_attempts", T_INT, F(max_attempts), NOCOUNT, "3", 1, 100, NULL, false,
     "a message that crashed hearthd this often is dead-lettered"},

    {"metrics.listen", T_STRING, F(metrics_listen), NOCOUNT, "\"127.0.0.1:9464\"", 0, 0, NULL,
     false, "address of /metrics and /healthz; empty disables"},
    {"metrics.towns", T_STRLIST, F(metrics_towns), F(n_metrics_towns), "[]", 0, 1000, NULL, false,
     "town label values of hearth_alerts_total; other towns count as `other` (empty: the "
     "event's town, bounded by the per-family series limit)"},
    {"log.level", T_ENUM, F(log_level), NOCOUNT, "info", 0, 0, "error|warning|notice|info|debug",
     true, "highest level printed"},
    {"log.status_interval", T_DURATION, F(status_interval_ms), NOCOUNT, "10s", 100, DAY, NULL, true,
     "how often STATUS= and the summary line are refreshed"},
};

#define FIELD(c, k, T) ((T *)((char *)(c) + (k)->off))
#define COUNT(c, k) ((size_t *)((char *)(c) + (k)->count_off))

static const char *type_name(KeyType t)
{
        switch (t) {
        case T_STRING:
                return "string";
        case T_PATH:
                return "path";
        case T_INT:
                return "integer";
        case T_DURATION:
                return "duration";
        case T_STRLIST:
                return "list of strings";
        case T_PAIRS:
                return "mapping";
        case T_FLOORLINES:
                return "mapping year: yuan";
        case T_FIXED2:
                return "number";
        case T_ENUM:
                return "choice";
        case T_SECRET_FILE:
                return "secret file";
        case T_DEPARTMENTS:
                return "list of departments";
        }
        return "?";
}

int config_parse_duration(const char *s, int64_t *ret_ms)
{
        static const struct {
                const char *suffix;
                int64_t ms;
        } units[] = {
            {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", DAY},
        };
        char *end;
        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        if (!*end) /* a bare number is seconds */
                end = (char *)"s";
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(end, units[i].suffix)) {
                        if (v > (unsigned long long)(INT64_MAX / units[i].ms))
                                return -ERANGE;
                        *ret_ms = (int64_t)v * units[i].ms;
                        return 0;
                }
        return -EINVAL;
}

int config_parse_fixed2(const char *s, int64_t *ret)
{
        int64_t whole = 0, frac = 0;
        int digits = 0, fdigits = 0;
        const char *p = s;
        if (!p || !*p)
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++, digits++) {
                whole = whole * 10 + (*p - '0');
                if (whole > 10000000000000LL)
                        return -ERANGE;
        }
        if (*p == '.') {
                p++;
                for (; *p >= '0' && *p <= '9'; p++, fdigits++) {
                        if (fdigits >= 2)
                                return -EINVAL;
                        frac = frac * 10 + (*p - '0');
                }
                if (fdigits == 0)
                        return -EINVAL;
        }
        if (*p || digits == 0)
                return -EINVAL;
        if (fdigits == 1)
                frac *= 10;
        *ret = whole * 100 + frac;
        return 0;
}

static void pairs_free(ConfigPair *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(p[i].key);
                free(p[i].value);
        }
        free(p);
}

static void secret_clear(ConfigSecret *s)
{
        if (s->value)
                explicit_bzero(s->value, strlen(s->value));
        free(s->value);
        free(s->path);
        *s = (ConfigSecret){0};
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* Frees the current value of one key, leaving it empty. */
static void key_clear(Config *c, const KeyDef *k)
{
        switch (k->type) {
        case T_STRING:
        case T_PATH:
        case T_ENUM:
                free(*FIELD(c, k, char *));
                *FIELD(c, k, char *) = NULL;
                break;
        case T_STRLIST:
                strv_free(*FIELD(c, k, char **), *COUNT(c, k));
                *FIELD(c, k, char **) = NULL;
                *COUNT(c, k) = 0;
                break;
        case T_PAIRS:
                pairs_free(*FIELD(c, k, ConfigPair *), *COUNT(c, k));
                *FIELD(c, k, ConfigPair *) = NULL;
                *COUNT(c, k) = 0;
                break;
        case T_FLOORLINES:
                free(*FIELD(c, k, ConfigFloorLine *));
                *FIELD(c, k, ConfigFloorLine *) = NULL;
                *COUNT(c, k) = 0;
                break;
        case T_SECRET_FILE:
                secret_clear(FIELD(c, k, ConfigSecret));
                break;
        case T_DEPARTMENTS:
                departments_config_free(*FIELD(c, k, ConfigDepartment *), *COUNT(c, k));
                *FIELD(c, k, ConfigDepartment *) = NULL;
                *COUNT(c, k) = 0;
                break;
        default:
                break;
        }
}

static int pairs_set(ConfigPair **pairs, size_t *n, const char *key, const char *value)
{
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                if (streq((*pairs)[i].key, key)) {
                        free((*pairs)[i].value);
                        (*pairs)[i].value = v;
                        return 0;
                }
        ConfigPair *np = realloc(*pairs, (*n + 1) * sizeof(ConfigPair));
        char *k = strdup(key);
        if (!np || !k) {
                if (np)
                        *pairs = np;
                free(v);
                free(k);
                return -ENOMEM;
        }
        *pairs = np;
        np[*n] = (ConfigPair){k, v};
        (*n)++;
        return 0;
}

static int cmp_floor(const void *a, const void *b)
{
        const ConfigFloorLine *x = a, *y = b;
        return (x->year > y->year) - (x->year < y->year);
}

#define ERR(n, ...)                                                                                \
        do {                                                                                       \
                diag_add(d, file, (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__);           \
                return -EINVAL;                                                                    \
        } while (0)

/* A value as error messages may quote it: never the value of a key that
 * names a secret (kafka.properties.sasl.password, a redis.password...). */
static const char *shown(const char *key, const char *value)
{
        return redact_key_is_secret(key) ? "(not shown: a secret)" : value;
}

/* Reads the first line of the secret file at path (a regular file, at most
 * 4 KiB) into *ret. -errno with the reason in why. */
static int secret_read(const char *path, char **ret, const char **why)
{
        char buf[4097];
        struct stat st;
        *why = NULL;
        /* O_NONBLOCK: a FIFO named by mistake must not hang --check. */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        int r = 0;
        ssize_t n = 0;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode)) {
                *why = "not a regular file";
                r = -EINVAL;
        } else if ((n = read(fd, buf, sizeof(buf))) < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return r;
        if (n >= (ssize_t)sizeof(buf)) {
                *why = "larger than 4 KiB";
                r = -EFBIG;
        }
        size_t len = 0;
        while (r == 0 && len < (size_t)n && buf[len] != '\n' && buf[len] != '\0')
                len++;
        if (r == 0 && len < (size_t)n && buf[len] == '\0') {
                *why = "holds a NUL byte";
                r = -EINVAL;
        }
        if (r == 0 && len > 0 && buf[len - 1] == '\r')
                len--;
        if (r == 0 && len == 0) {
                *why = "its first line is empty";
                r = -EINVAL;
        }
        if (r == 0 && !(*ret = strndup(buf, len)))
                r = -ENOMEM;
        explicit_bzero(buf, sizeof(buf));
        return r;
}

static int scalar_expect(const KeyDef *k, const YNode *v, const char *file, Diag *d)
{
        if (!v || v->type != YNODE_SCALAR)
                ERR(v, "%s: expected %s, got %s", k->key, type_name(k->type), ynode_type_name(v));
        return 0;
}

/* A string, path or enum value (one of k->choices). */
static int set_string(Config *c, const KeyDef *k, const YNode *v, const char *file, Diag *d)
{
        int r;

        if ((r = scalar_expect(k, v, file, d)) < 0)
                return r;
        if (k->type != T_STRING && v->len == 0)
                ERR(v, "%s: must not be empty", k->key);
        if (k->type == T_ENUM) {
                bool ok = false;
                const char *p = k->choices;
                size_t l = strlen(v->scalar);
                while (p && *p) {
                        const char *bar = strchr(p, '|');
                        size_t pl = bar ? (size_t)(bar - p) : strlen(p);
                        if (pl == l && strncmp(p, v->scalar, l) == 0)
                                ok = true;
                        p = bar ? bar + 1 : NULL;
                }
                if (!ok)
                        ERR(v, "%s: must be one of %s, got '%s'", k->key, k->choices,
                            shown(k->key, v->scalar));
        }
        char *s = strdup(v->scalar);
        if (!s)
                return -ENOMEM;
        key_clear(c, k);
        *FIELD(c, k, char *) = s;
        return 0;
}

/* A list of non-empty strings, k->min..k->max of them. */
static int set_strlist(Config *c, const KeyDef *k, const YNode *v, const char *file, Diag *d)
{
        if (!v || v->type != YNODE_SEQ)
                ERR(v, "%s: expected a list of strings, got %s", k->key, ynode_type_name(v));
        if ((int64_t)v->n < k->min || (int64_t)v->n > k->max)
                ERR(v, "%s: needs between %" PRId64 " and %" PRId64 " items", k->key, k->min,
                    k->max);
        for (size_t i = 0; i < v->n; i++)
                if (v->items[i]->type != YNODE_SCALAR || v->items[i]->len == 0)
                        ERR(v->items[i], "%s[%zu]: expected a non-empty string", k->key, i);
        char **list = calloc(v->n ? v->n : 1, sizeof(char *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < v->n; i++)
                if (!(list[i] = strdup(v->items[i]->scalar))) {
                        strv_free(list, i);
                        return -ENOMEM;
                }
        key_clear(c, k);
        *FIELD(c, k, char **) = list;
        *COUNT(c, k) = v->n;
        return 0;
}

/* A mapping of scalars (kafka.properties...), replacing the old pairs. */
static int set_pairs(Config *c, const KeyDef *k, const YNode *v, const char *file, Diag *d)
{
        int r;

        if (!v || (v->type != YNODE_MAP && !ynode_is_null(v)))
                ERR(v, "%s: expected a mapping, got %s", k->key, ynode_type_name(v));
        key_clear(c, k);
        for (size_t i = 0; v->type == YNODE_MAP && i < v->n; i++) {
                const YNode *val = ynode_value(v, i);
                if (val->type != YNODE_SCALAR)
                        ERR(val, "%s.%s: expected a scalar, got %s", k->key,
                            ynode_key(v, i)->scalar, ynode_type_name(val));
                r = pairs_set(FIELD(c, k, ConfigPair *), COUNT(c, k), ynode_key(v, i)->scalar,
                              val->scalar);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A secret file: its path (relative to the config's folder) and its
 * first line. */
static int set_secret_file(Config *c, const KeyDef *k, const YNode *v, const char *file, Diag *d)
{
        int r;

        if ((r = scalar_expect(k, v, file, d)) < 0)
                return r;
        ConfigSecret sec = {0};
        if (v->len > 0) {
                /* Relative to the config's folder: with the config
                 * passed as a systemd credential, that is
                 * $CREDENTIALS_DIRECTORY, where the unit's other
                 * LoadCredential= files are. */
                if (v->scalar[0] == '/')
                        sec.path = strdup(v->scalar);
                else if (asprintf(&sec.path, "%s/%s", c->dir, v->scalar) < 0)
                        sec.path = NULL;
                if (!sec.path)
                        return -ENOMEM;
                const char *why;
                r = secret_read(sec.path, &sec.value, &why);
                if (r < 0) {
                        if (r != -ENOMEM)
                                diag_add(d, file, v->line, v->col, "%s: %s: %s", k->key, sec.path,
                                         why ? why : strerror(-r));
                        free(sec.path);
                        return r == -ENOMEM ? r : -EINVAL;
                }
        }
        key_clear(c, k);
        *FIELD(c, k, ConfigSecret) = sec;
        return 0;
}

/* Floor lines: a mapping of year to yuan, every bad entry reported. */
static int set_floor_lines(Config *c, const KeyDef *k, const YNode *v, const char *file, Diag *d)
{
        if (!v || v->type != YNODE_MAP)
                ERR(v, "%s: expected a mapping of year: yuan, got %s", k->key, ynode_type_name(v));
        ConfigFloorLine *fl = calloc(v->n ? v->n : 1, sizeof(ConfigFloorLine));
        if (!fl)
                return -ENOMEM;
        int bad = 0;
        for (size_t i = 0; i < v->n; i++) {
                const YNode *y = ynode_key(v, i), *a = ynode_value(v, i);
                char *end;
                errno = 0;
                long year = strtol(y->scalar, &end, 10);
                if (errno || *end || end == y->scalar || year < 2000 || year > 2100) {
                        diag_add(d, file, y->line, y->col,
                                 "%s: expected a year 2000..2100, got '%s'", k->key, y->scalar);
                        bad = 1;
                        continue;
                }
                int64_t fen;
                if (a->type != YNODE_SCALAR || config_parse_fixed2(a->scalar, &fen) < 0 ||
                    fen <= 0) {
                        diag_add(d, file, a->line, a->col,
                                 "%s.%ld: expected a positive amount in yuan with at "
                                 "most 2 decimals",
                                 k->key, year);
                        bad = 1;
                        continue;
                }
                fl[i] = (ConfigFloorLine){(int)year, fen};
        }
        if (bad) {
                free(fl);
                return -EINVAL;
        }
        qsort(fl, v->n, sizeof(ConfigFloorLine), cmp_floor);
        key_clear(c, k);
        *FIELD(c, k, ConfigFloorLine *) = fl;
        *COUNT(c, k) = v->n;
        return 0;
}

/* Sets key k from node v (borrowed), replacing the old value. */
static int key_set(Config *c, const KeyDef *k, const YNode *v, const char *file, Diag *d)
{
        int r;
        switch (k->type) {
        case T_STRING:
        case T_PATH:
        case T_ENUM:
                return set_string(c, k, v, file, d);
        case T_INT: {
                if ((r = scalar_expect(k, v, file, d)) < 0)
                        return r;
                char *end;
                errno = 0;
                long long x = strtoll(v->scalar, &end, 10);
                if (errno || end == v->scalar || *end || !v->plain)
                        ERR(v, "%s: expected an integer, got '%s'", k->key,
                            shown(k->key, v->scalar));
                if (x < k->min || x > k->max)
                        ERR(v, "%s: must be between %" PRId64 " and %" PRId64 ", got %lld", k->key,
                            k->min, k->max, x);
                *FIELD(c, k, int64_t) = x;
                return 0;
        }
        case T_DURATION: {
                if ((r = scalar_expect(k, v, file, d)) < 0)
                        return r;
                int64_t ms;
                if (config_parse_duration(v->scalar, &ms) < 0)
                        ERR(v, "%s: expected a duration like 250ms, 30s, 15m, 24h or 30d, got '%s'",
                            k->key, shown(k->key, v->scalar));
                if (ms < k->min || ms > k->max)
                        ERR(v, "%s: must be between %" PRId64 "ms and %" PRId64 "ms", k->key,
                            k->min, k->max);
                *FIELD(c, k, int64_t) = ms;
                return 0;
        }
        case T_FIXED2: {
                if ((r = scalar_expect(k, v, file, d)) < 0)
                        return r;
                int64_t x;
                if (config_parse_fixed2(v->scalar, &x) < 0)
                        ERR(v, "%s: expected a number with at most 2 decimals, got '%s'", k->key,
                            shown(k->key, v->scalar));
                if (x < k->min || x > k->max)
                        ERR(v, "%s: out of range", k->key);
                *FIELD(c, k, int64_t) = x;
                return 0;
        }
        case T_STRLIST:
                return set_strlist(c, k, v, file, d);
        case T_PAIRS:
                return set_pairs(c, k, v, file, d);
        case T_SECRET_FILE:
                return set_secret_file(c, k, v, file, d);
        case T_FLOORLINES:
                return set_floor_lines(c, k, v, file, d);
        case T_DEPARTMENTS: {
                ConfigDepartment *list = NULL;
                size_t n = 0;
                int r = departments_config_parse(v, k->key, file, d, &list, &n);
                if (r < 0)
                        return r;
                key_clear(c, k);
                *FIELD(c, k, ConfigDepartment *) = list;
                *COUNT(c, k) = n;
                return 0;
        }
        }
        return -EINVAL;
}

static const KeyDef *key_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(keys[i].key, name))
                        return &keys[i];
        return NULL;
}

/* True when some key lives below `prefix` (so it is a section). */
static bool is_section(const char *prefix)
{
        size_t l = strlen(prefix);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strncmp(keys[i].key, prefix, l) == 0 && keys[i].key[l] == '.')
                        return true;
        return false;
}

/* Walks a mapping of the file, setting known keys and reporting unknown
 * ones. Returns the number of errors. */
static int walk(Config *c, const YNode *map, const char *prefix, const char *file, Diag *d)
{
        int errors = 0;
        for (size_t i = 0; i < map->n; i++) {
                const YNode *kn = ynode_key(map, i), *vn = ynode_value(map, i);
                char full[256];
                snprintf(full, sizeof(full), "%s%s%s", prefix, *prefix ? "." : "", kn->scalar);
                const KeyDef *k = key_find(full);
                if (k) {
                        if (key_set(c, k, vn, file, d) < 0)
                                errors++;
                } else if (is_section(full)) {
                        if (vn->type != YNODE_MAP) {
                                diag_add(d, file, vn->line, vn->col,
                                         "%s: expected a mapping, got %s", full,
                                         ynode_type_name(vn));
                                errors++;
                        } else
                                errors += walk(c, vn, full, file, d);
                } else {
                        diag_add(d, file, kn->line, kn->col, "unknown key '%s'", full);
                        errors++;
                }
        }
        return errors;
}

/* Applies one "key=value" override. The value is YAML ("[a, b]", "30s"). */
static int apply_set(Config *c, const char *set, Diag *d)
{
        const char *eq = strchr(set, '=');
        char label[300];
        snprintf(label, sizeof(label), "--set %.*s", eq ? (int)(eq - set) : (int)strlen(set), set);
        if (!eq || eq == set) {
                char safe[300];
                diag_add(d, "--set", 0, 0, "expected KEY=VALUE, got '%s'",
                         redact_key_is_secret(set) ? "(not shown: it names a secret)"
                                                   : redact_url(set, safe, sizeof(safe)));
                return -EINVAL;
        }
        _cleanup_free_ char *key = strndup(set, (size_t)(eq - set));
        if (!key)
                return -ENOMEM;
        _cleanup_(ytree_freep) YNode *v = NULL;
        const char *val = eq + 1;
        int r = ytree_parse(val, strlen(val), label, &v, d);
        if (r < 0)
                return r;
        YNode empty = {
            .type = YNODE_SCALAR, .scalar = (char *)"", .plain = true, .line = 1, .col = 1};
        const YNode *vn = v ? v : &empty;

        const KeyDef *k = key_find(key);
        if (k)
                return key_set(c, k, vn, label, d);
        /* kafka.properties.socket.timeout.ms=...: one entry of a mapping key. */
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                size_t l = strlen(keys[i].key);
                if (keys[i].type == T_PAIRS && strncmp(key, keys[i].key, l) == 0 && key[l] == '.' &&
                    key[l + 1]) {
                        if (vn->type != YNODE_SCALAR) {
                                diag_add(d, label, 0, 0, "expected a scalar value");
                                return -EINVAL;
                        }
                        return pairs_set(FIELD(c, &keys[i], ConfigPair *), COUNT(c, &keys[i]),
                                         key + l + 1, vn->scalar);
                }
        }
        diag_add(d, "--set", 0, 0, "unknown key '%s'", key);
        return -EINVAL;
}

static int resolve_paths(Config *c)
{
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (keys[i].type != T_PATH)
                        continue;
                char **p = FIELD(c, &keys[i], char *);
                if (!*p || (*p)[0] == '/')
                        continue;
                char *abs = NULL;
                if (asprintf(&abs, "%s/%s", c->dir, *p) < 0)
                        return -ENOMEM;
                free(*p);
                *p = abs;
        }
        return 0;
}

static int set_dir(Config *c, const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        const char *dn = dirname(copy);
        char buf[PATH_MAX];
        c->dir = strdup(realpath(dn, buf) ? buf : dn);
        c->path = strdup(path);
        return c->dir && c->path ? 0 : -ENOMEM;
}

int config_load_buffer(const char *buf, size_t len, const char *path, char *const *sets,
                       size_t n_sets, Config **ret, Diag *d)
{
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));
        if (!c)
                return -ENOMEM;
        int r = set_dir(c, path);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                _cleanup_(ytree_freep) YNode *v = NULL;
                r = ytree_parse(keys[i].def, strlen(keys[i].def), "default", &v, d);
                if (r < 0 || key_set(c, &keys[i], v, "default", d) < 0)
                        return -EINVAL; /* a bug in the table: the unit tests catch it */
        }

        unsigned before = diag_count(d);
        _cleanup_(ytree_freep) YNode *root = NULL;
        r = ytree_parse(buf, len, path, &root, d);
        if (r < 0)
                return r;
        if (root && root->type != YNODE_MAP)
                diag_add(d, path, root->line, root->col, "expected a mapping at the top");
        else if (root)
                walk(c, root, "", path, d);
        for (size_t i = 0; i < n_sets; i++)
                apply_set(c, sets[i], d);
        for (size_t i = 0; c->kafka_sasl_password.path && i < c->n_kafka_properties; i++)
                if (strcasecmp(c->kafka_properties[i].key, "sasl.password") == 0)
                        diag_add(d, path, 0, 0,
                                 "kafka.sasl_password_file and kafka.properties.sasl.password "
                                 "are both set: keep one");
        if (diag_count(d) > before)
                return -EINVAL;

        if ((r = resolve_paths(c)) < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *path, char *const *sets, size_t n_sets, Config **ret, Diag *d)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = fsutil_read_file(path, CONFIG_MAX_FILE_BYTES, &buf, &len, d);
        if (r < 0)
                return r;
        return config_load_buffer(buf, len, path, sets, n_sets, ret, d);
}

Config *config_free(Config *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                key_clear(c, &keys[i]);
        free(c->path);
        free(c->dir);
        free(c);
        return NULL;
}

void config_dump_keys(FILE *f)
{
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                fprintf(f, "%-30s %-18s default %-28s %s%s\n", keys[i].key, type_name(keys[i].type),
                        keys[i].def, keys[i].doc, keys[i].reloadable ? " (reloadable)" : "");
}

/* Appends to buf[len] at *off, never past its end. */
static void buf_append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
        if (*off >= len)
                return;
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(buf + *off, len - *off, fmt, ap);
        va_end(ap);
        if (w > 0)
                *off = *off + (size_t)w < len ? *off + (size_t)w : len;
}

int config_floor_line_gaps(const Config *c, int through, char *buf, size_t len)
{
        size_t off = 0;
        int n = 0;
        if (len)
                buf[0] = '\0';
        if (!c || c->n_floor_lines == 0)
                return 0;
        size_t k = 0; /* the line in force in year y */
        for (int y = c->floor_lines[0].year; y <= through; y++) {
                while (k + 1 < c->n_floor_lines && c->floor_lines[k + 1].year <= y)
                        k++;
                if (c->floor_lines[k].year == y)
                        continue;
                const ConfigFloorLine *l = &c->floor_lines[k];
                /* The last year of a run that falls back on the same line. */
                bool last = y == through ||
                            (k + 1 < c->n_floor_lines && c->floor_lines[k + 1].year == y + 1);
                buf_append(buf, len, &off, "%s%d", n ? ", " : "", y);
                if (last)
                        buf_append(buf, len, &off, " (%d's line, %lld yuan per person)", l->year,
                                   (long long)(l->fen / 100));
                n++;
        }
        return n;
}
