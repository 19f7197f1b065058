/*
 * testbroker: librdkafka's mock cluster as a stand-alone Kafka broker for tests.
 *
 * It speaks the real Kafka protocol on loopback, so hearthd and kcat use it as any broker.
 * Contract with the harness (tests/README.md lists the commands and the mock's limits):
 *   - stdout, first line: the bootstrap servers ("127.0.0.1:P1,127.0.0.1:P2,..."), also
 *     written to PORTFILE (-P) with an atomic rename, so the file's presence means "ready".
 *   - stdin: one fault command per line; each gets exactly one answer line on stdout,
 *     "ok" or "error: <reason>"; blank lines get none. EOF on stdin only stops reading.
 *   - SIGTERM or SIGINT: destroy the cluster, remove PORTFILE, exit 0. Exit 1 on a setup
 *     failure, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define LINE_LEN 4096  /* a longer command line is discarded and answered with an error */
#define MAX_ARGS 64    /* words per command line, the command included */
#define API_KEY_MAX 99 /* `clear` sweeps 0..API_KEY_MAX, so numeric keys are cleared too */

/* Parsed command-line arguments: the only global. */
static struct {
        int brokers, partitions, replication;
        const char *topics, *portfile;
} opt = {3, 4, 1, NULL, NULL};

typedef struct {
        rd_kafka_t *rk; /* hosts the cluster; never connects anywhere itself */
        rd_kafka_mock_cluster_t *mc;
} Broker;

/* One command line split into words; a handler fills why when it fails. */
typedef struct {
        int argc;
        char *argv[MAX_ARGS + 1];
        char why[256];
} Cmd;

/* Kafka protocol API keys the mock serves, by name (case-insensitive). */
static const struct {
        const char *name;
        int16_t key;
} api_keys[] = {
    {"Produce", 0},          {"Fetch", 1},
    {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8},     {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},       {"LeaveGroup", 13},
    {"SyncGroup", 14},       {"ApiVersion", 18},
    {"InitProducerId", 22},  {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25}, {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
};

/* Parses a whole decimal string into [min, max]: 0, -EINVAL or -ERANGE; *out is 0 on failure
 * (which also keeps gcc's maybe-uninitialized analysis quiet in the callers). */
static int parse_int(const char *s, long min, long max, int *out)
{
        char *end;
        long v;

        *out = 0;
        errno = 0;
        v = strtol(s, &end, 10);
        if (end == s || *end)
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *out = (int)v;
        return 0;
}

static int parse_api_key(const char *s, int16_t *out)
{
        int v;

        for (size_t i = 0; i < sizeof(api_keys) / sizeof(api_keys[0]); i++) {
                if (strcasecmp(s, api_keys[i].name) == 0) {
                        *out = api_keys[i].key;
                        return 0;
                }
        }
        if (parse_int(s, 0, API_KEY_MAX, &v) < 0)
                return -EINVAL;
        *out = (int16_t)v;
        return 0;
}

static bool err_name_is(const char *s, int code)
{
        const char *name = rd_kafka_err2name((rd_kafka_resp_err_t)code);

        return strcasecmp(s, name[0] == '_' ? name + 1 : name) == 0;
}

/*
 * Accepts a number or an rd_kafka_err2name() name, case-insensitive (plus Kafka's
 * UNKNOWN_SERVER_ERROR for librdkafka's UNKNOWN). Broker codes win over librdkafka's local
 * ones, which may be written with or without their leading underscore.
 */
static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
        bool local = s[0] == '_';
        int code;

        if (parse_int(s, RD_KAFKA_RESP_ERR__BEGIN + 1, RD_KAFKA_RESP_ERR_END_ALL - 1, &code) == 0)
                goto found;
        code = RD_KAFKA_RESP_ERR_UNKNOWN;
        if (strcasecmp(s, "UNKNOWN_SERVER_ERROR") == 0)
                goto found;
        for (code = local ? RD_KAFKA_RESP_ERR_END_ALL : -1; code < RD_KAFKA_RESP_ERR_END_ALL;
             code++)
                if (err_name_is(s, code))
                        goto found;
        for (code = RD_KAFKA_RESP_ERR__BEGIN + 1; code < RD_KAFKA_RESP_ERR__END; code++)
                if (err_name_is(s + local, code))
                        goto found;
        return -EINVAL;
found:
        *out = (rd_kafka_resp_err_t)code;
        return 0;
}

/* A broker id 1..N; where the mock call accepts it also -1 ("all"). */
static int parse_broker(const char *s, bool minus_one_ok, int32_t *out)
{
        int v;

        if (minus_one_ok && strcmp(s, "all") == 0)
                s = "-1";
        if (parse_int(s, minus_one_ok ? -1 : 1, opt.brokers, &v) < 0 || v == 0)
                return -EINVAL;
        *out = v;
        return 0;
}

static int bad(Cmd *c, const char *what, int i)
{
        snprintf(c->why, sizeof(c->why), "bad %s '%s'", what, c->argv[i]);
        return -EINVAL;
}

static int mock_result(Cmd *c, rd_kafka_resp_err_t err)
{
        if (!err)
                return 0;
        snprintf(c->why, sizeof(c->why), "%s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
        return -EIO;
}

/* Command handlers: argc is already checked against the table; 0 or a negative errno. */
static int cmd_updown(Broker *b, Cmd *c)
{
        int32_t id;

        if (parse_broker(c->argv[1], true, &id) < 0)
                return bad(c, "broker id", 1);
        if (strcmp(c->argv[0], "down") == 0)
                return mock_result(c, rd_kafka_mock_broker_set_down(b->mc, id));
        return mock_result(c, rd_kafka_mock_broker_set_up(b->mc, id));
}

static int cmd_rtt(Broker *b, Cmd *c)
{
        int32_t id;
        int ms;

        if (parse_broker(c->argv[1], true, &id) < 0)
                return bad(c, "broker id", 1);
        if (parse_int(c->argv[2], 0, 3600000, &ms) < 0)
                return bad(c, "milliseconds", 2);
        return mock_result(c, rd_kafka_mock_broker_set_rtt(b->mc, id, ms));
}

static int cmd_errors(Broker *b, Cmd *c)
{
        rd_kafka_resp_err_t errs[MAX_ARGS];
        int16_t key;

        if (parse_api_key(c->argv[1], &key) < 0)
                return bad(c, "API key", 1);
        for (int i = 2; i < c->argc; i++)
                if (parse_err(c->argv[i], &errs[i - 2]) < 0)
                        return bad(c, "error", i);
        rd_kafka_mock_push_request_errors_array(b->mc, key, (size_t)(c->argc - 2), errs);
        return 0;
}

static int cmd_broker_errors(Broker *b, Cmd *c)
{
        rd_kafka_resp_err_t err;
        int32_t id;
        int16_t key;
        int count, rtt, r = 0;

        if (parse_broker(c->argv[1], false, &id) < 0)
                return bad(c, "broker id", 1);
        if (parse_api_key(c->argv[2], &key) < 0)
                return bad(c, "API key", 2);
        if (parse_int(c->argv[3], 1, 100000, &count) < 0)
                return bad(c, "count (1..100000)", 3);
        if (parse_err(c->argv[4], &err) < 0)
                return bad(c, "error", 4);
        if (parse_int(c->argv[5], 0, 3600000, &rtt) < 0)
                return bad(c, "milliseconds", 5);
        /* The call is variadic: push one (err, rtt) pair at a time; the stack keeps order. */
        for (int i = 0; i < count && r == 0; i++)
                r = mock_result(
                    c, rd_kafka_mock_broker_push_request_error_rtts(b->mc, id, key, 1, err, rtt));
        return r;
}

static int cmd_topic_error(Broker *b, Cmd *c)
{
        rd_kafka_resp_err_t err;

        if (parse_err(c->argv[2], &err) < 0)
                return bad(c, "error", 2);
        rd_kafka_mock_topic_set_error(b->mc, c->argv[1], err);
        return 0;
}

static int cmd_leader(Broker *b, Cmd *c)
{
        int32_t id;
        int part;

        if (parse_int(c->argv[2], 0, INT32_MAX, &part) < 0)
                return bad(c, "partition", 2);
        if (parse_broker(c->argv[3], true, &id) < 0) /* -1: no leader */
                return bad(c, "broker id", 3);
        return mock_result(c, rd_kafka_mock_partition_set_leader(b->mc, c->argv[1], part, id));
}

static int cmd_coordinator(Broker *b, Cmd *c)
{
        int32_t id;

        if (strcmp(c->argv[1], "group") != 0 && strcmp(c->argv[1], "transaction") != 0)
                return bad(c, "coordinator type (group|transaction)", 1);
        /* Existing brokers only: the mock asserts (aborts) on FindCoordinator otherwise. */
        if (parse_broker(c->argv[3], false, &id) < 0)
                return bad(c, "broker id", 3);
        return mock_result(c, rd_kafka_mock_coordinator_set(b->mc, c->argv[1], c->argv[2], id));
}

static int cmd_clear(Broker *b, Cmd *c)
{
        (void)c;
        for (int16_t key = 0; key <= API_KEY_MAX; key++)
                rd_kafka_mock_clear_request_errors(b->mc, key);
        return 0;
}

static int cmd_create(Broker *b, Cmd *c)
{
        int parts;

        if (parse_int(c->argv[2], 1, 100000, &parts) < 0)
                return bad(c, "partition count", 2);
        return mock_result(c,
                           rd_kafka_mock_topic_create(b->mc, c->argv[1], parts, opt.replication));
}

static const struct {
        const char *name;
        int min_args, max_args; /* words after the command */
        int (*fn)(Broker *b, Cmd *c);
        const char *usage;
} commands[] = {
    {"ping", 0, 0, NULL, "ping"},
    {"down", 1, 1, cmd_updown, "down ID|all"},
    {"up", 1, 1, cmd_updown, "up ID|all"},
    {"rtt", 2, 2, cmd_rtt, "rtt ID|all MS"},
    {"errors", 2, MAX_ARGS - 1, cmd_errors, "errors APIKEY ERR [ERR...]"},
    {"broker-errors", 5, 5, cmd_broker_errors, "broker-errors ID APIKEY COUNT ERR RTT_MS"},
    {"topic-error", 2, 2, cmd_topic_error, "topic-error TOPIC ERR"},
    {"leader", 3, 3, cmd_leader, "leader TOPIC PARTITION ID|-1"},
    {"coordinator", 3, 3, cmd_coordinator, "coordinator group|transaction KEY ID"},
    {"clear", 0, 0, cmd_clear, "clear"},
    {"create", 2, 2, cmd_create, "create TOPIC PARTITIONS"},
};

/* Runs one command line (split in place) and answers it on stdout. */
static void command_run(Broker *b, char *line)
{
        Cmd c = {.argc = 0};
        int r = -EINVAL;

        for (char *p = line; *p && c.argc <= MAX_ARGS;) {
                p += strspn(p, " \t\r");
                if (!*p)
                        break;
                c.argv[c.argc++] = p;
                p += strcspn(p, " \t\r");
                if (*p)
                        *p++ = '\0';
        }
        if (c.argc == 0)
                return;
        snprintf(c.why, sizeof(c.why), "unknown command '%s'", c.argv[0]);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                if (strcmp(c.argv[0], commands[i].name) != 0)
                        continue;
                if (c.argc - 1 < commands[i].min_args || c.argc - 1 > commands[i].max_args)
                        snprintf(c.why, sizeof(c.why), "usage: %s", commands[i].usage);
                else
                        r = commands[i].fn ? commands[i].fn(b, &c) : 0;
                break;
        }
        if (r == 0)
                printf("ok\n");
        else
                printf("error: %s\n", c.why);
        fflush(stdout);
}

/* Answers one complete line, or its remains if it was too long. */
static void line_done(Broker *b, char *line, bool *overlong)
{
        if (*overlong) {
                printf("error: line longer than %d bytes\n", LINE_LEN - 2);
                fflush(stdout);
        } else {
                command_run(b, line);
        }
        *overlong = false;
}

/*
 * Reads what stdin has and runs each complete line; buf holds LINE_LEN bytes, *used of them
 * pending. Returns 0, or -EPIPE at EOF or on a read error (a last unterminated line is run
 * first). An over-long line is dropped up to its newline and answered with one error.
 */
static int stdin_read(Broker *b, char *buf, size_t *used, bool *overlong)
{
        ssize_t n = read(STDIN_FILENO, buf + *used, LINE_LEN - 1 - *used);
        char *start = buf, *nl;

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -EPIPE;
        *used += (size_t)n;
        buf[*used] = '\0';
        while ((nl = memchr(start, '\n', *used - (size_t)(start - buf)))) {
                *nl = '\0';
                line_done(b, start, overlong);
                start = nl + 1;
        }
        *used -= (size_t)(start - buf);
        memmove(buf, start, *used + 1); /* with the terminator */
        if (n == 0 && (*used || *overlong))
                line_done(b, buf, overlong);
        if (*used == LINE_LEN - 1 || n == 0) {
                *overlong = n > 0;
                *used = 0;
        }
        return n == 0 ? -EPIPE : 0;
}

/* Writes "line\n" to path via a temporary file and rename(): readers never see it partial. */
static int portfile_write(const char *path, const char *line)
{
        char tmp[PATH_MAX];
        int fd, r = 0;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (dprintf(fd, "%s\n", line) < 0)
                r = -EIO;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

/* Creates each topic of the comma-separated list with -p partitions; reports on stderr. */
static int topics_create(Broker *b, const char *list)
{
        char name[256];

        for (const char *p = list;; p++) {
                size_t n = strcspn(p, ",");
                rd_kafka_resp_err_t err;

                if (n == 0 || n >= sizeof(name)) {
                        fprintf(stderr, "testbroker: bad topic list '%s'\n", list);
                        return -EINVAL;
                }
                memcpy(name, p, n);
                name[n] = '\0';
                err = rd_kafka_mock_topic_create(b->mc, name, opt.partitions, opt.replication);
                if (err) {
                        fprintf(stderr, "testbroker: creating topic %s: %s\n", name,
                                rd_kafka_err2str(err));
                        return -EIO;
                }
                p += n;
                if (!*p)
                        return 0;
        }
}

/* Owns the broker from start to teardown; sfd is the signalfd for SIGTERM and SIGINT. */
static int broker_run(int sfd)
{
        Broker b = {NULL, NULL};
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512], buf[LINE_LEN];
        size_t used = 0;
        bool overlong = false, wrote_portfile = false;
        struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN},
                                {.fd = STDIN_FILENO, .events = POLLIN}};
        int r = -EIO;

        /* log_level 4 hides the notice that bootstrap.servers is unset, which is expected. */
        rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
        b.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!b.rk) {
                rd_kafka_conf_destroy(conf);
                fprintf(stderr, "testbroker: rd_kafka_new: %s\n", errstr);
                goto fail;
        }
        b.mc = rd_kafka_mock_cluster_new(b.rk, opt.brokers);
        if (!b.mc) {
                fprintf(stderr, "testbroker: cannot create the mock cluster\n");
                goto fail;
        }
        if (opt.topics && topics_create(&b, opt.topics) < 0)
                goto fail;
        if (opt.portfile) {
                r = portfile_write(opt.portfile, rd_kafka_mock_cluster_bootstraps(b.mc));
                if (r < 0) {
                        fprintf(stderr, "testbroker: %s: %s\n", opt.portfile, strerror(-r));
                        goto fail;
                }
                wrote_portfile = true;
        }
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(b.mc));
        fflush(stdout);

        for (;;) {
                /* Bounded wait, to serve whatever is queued on the hosting handle. */
                if (poll(pfd, 2, 1000) < 0 && errno != EINTR) {
                        r = -errno;
                        goto fail;
                }
                rd_kafka_poll(b.rk, 0);
                if (pfd[0].revents & POLLIN)
                        break; /* SIGTERM or SIGINT: both mean stop */
                /* At EOF stop reading: poll ignores a negative fd. */
                if (pfd[1].revents && stdin_read(&b, buf, &used, &overlong) < 0)
                        pfd[1].fd = -1;
        }
        r = 0;
fail:
        if (b.mc)
                rd_kafka_mock_cluster_destroy(b.mc);
        if (b.rk)
                rd_kafka_destroy(b.rk);
        if (wrote_portfile)
                unlink(opt.portfile);
        return r;
}

static int usage(FILE *f, int status)
{
        fprintf(f, "usage: testbroker [-b BROKERS] [-p PARTITIONS] [-r REPLICATION]"
                   " [-t TOPIC,...] [-P PORTFILE]\n"
                   "Prints the bootstrap servers, then answers fault commands on stdin\n"
                   "(see tests/README.md) until SIGTERM or SIGINT.\n");
        return status;
}

int main(int argc, char **argv)
{
        sigset_t mask;
        int c, sfd, r = 0;

        while ((c = getopt(argc, argv, "b:p:r:t:P:h")) != -1) {
                if (c == 'b')
                        r = parse_int(optarg, 1, 64, &opt.brokers);
                else if (c == 'p')
                        r = parse_int(optarg, 1, 100000, &opt.partitions);
                else if (c == 'r')
                        r = parse_int(optarg, 1, 64, &opt.replication);
                else if (c == 't')
                        opt.topics = optarg;
                else if (c == 'P')
                        opt.portfile = optarg;
                else if (c == 'h')
                        return usage(stdout, 0);
                else
                        r = -EINVAL;
                if (r < 0)
                        return usage(stderr, 2);
        }
        if (optind != argc || opt.replication > opt.brokers)
                return usage(stderr, 2);

        /* A closed standard fd would be reused by a socket, and answers written into it. */
        for (int fd = 0; fd <= 2; fd++)
                if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
                        return 1;
        /* Block the signals before librdkafka starts its threads, which inherit the mask:
         * otherwise one of them could take SIGTERM with the default action. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
            (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
                perror("testbroker: signalfd");
                return 1;
        }
        /* A harness that stopped reading the answers must not kill the broker. */
        signal(SIGPIPE, SIG_IGN);

        r = broker_run(sfd);
        close(sfd);
        return r < 0 ? 1 : 0;
}
