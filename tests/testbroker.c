/*
 * testbroker: librdkafka's mock cluster as a stand-alone Kafka broker for tests.
 *
 * It speaks the real Kafka protocol on loopback, so hearthd and kcat use it as any broker.
 * Contract with the harness (tests/README.md has the details and the known limits):
 *   - stdout, first line: the bootstrap servers ("127.0.0.1:P1,127.0.0.1:P2,...");
 *     also written to PORTFILE (-P) with an atomic rename, so its presence means "ready".
 *   - stdin: one fault command per line; each gets exactly one answer line on stdout,
 *     "ok" or "error: <reason>". Blank lines get no answer. EOF on stdin only stops
 *     reading: the broker runs until SIGTERM or SIGINT, then exits 0 (1 on a setup failure,
 *     2 on bad usage) and removes PORTFILE.
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

#define LINE_LEN 4096 /* longest command line; longer ones are answered with an error */
#define MAX_ARGS 64   /* words per command line, the command included */

/* Parsed command-line arguments: the only global. */
static struct {
        int brokers, partitions, replication;
        const char *topics, *portfile;
} opt = {3, 4, 1, NULL, NULL};

typedef struct {
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc;
} Broker;

/* Kafka protocol API keys by name; numbers are accepted too. */
static const struct {
        const char *name;
        int16_t key;
} api_keys[] = {
    {"Produce", 0},          {"Fetch", 1},           {"ListOffsets", 2},
    {"Metadata", 3},         {"OffsetCommit", 8},    {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},      {"Heartbeat", 12},
    {"LeaveGroup", 13},      {"SyncGroup", 14},      {"DescribeGroups", 15},
    {"ListGroups", 16},      {"ApiVersion", 18},     {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23}, {"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},          {"TxnOffsetCommit", 28},
};
#define API_KEY_MAX 99 /* `clear` sweeps 0..API_KEY_MAX, so numeric keys are cleared too */

/* Parses a whole decimal string into [min, max]: 0, -EINVAL or -ERANGE. */
static int parse_long(const char *s, long min, long max, long *out)
{
        char *end;
        long v;

        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (*end)
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *out = v;
        return 0;
}

/* As parse_long(); *out is 0 on failure. */
static int parse_int(const char *s, int min, int max, int *out)
{
        long v = 0;
        int r = parse_long(s, min, max, &v);

        *out = (int)v;
        return r;
}

static int parse_api_key(const char *s, int16_t *out)
{
        long v;

        for (size_t i = 0; i < sizeof(api_keys) / sizeof(api_keys[0]); i++) {
                if (strcasecmp(s, api_keys[i].name) == 0) {
                        *out = api_keys[i].key;
                        return 0;
                }
        }
        if (parse_long(s, 0, API_KEY_MAX, &v) < 0)
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
 * Accepts a number or an rd_kafka_err2name() name, case-insensitive. Broker codes
 * (0..END_ALL) win over librdkafka's local ones, which are written with or without their
 * leading underscore (_TRANSPORT makes the mock drop the connection).
 */
static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
        bool local_only = s[0] == '_';
        long v;
        int code;

        if (parse_long(s, RD_KAFKA_RESP_ERR__BEGIN, RD_KAFKA_RESP_ERR_END_ALL - 1, &v) == 0) {
                *out = (rd_kafka_resp_err_t)v;
                return 0;
        }
        if (local_only)
                s++;
        for (code = 0; !local_only && code < RD_KAFKA_RESP_ERR_END_ALL; code++)
                if (err_name_is(s, code))
                        goto found;
        for (code = RD_KAFKA_RESP_ERR__BEGIN + 1; code < RD_KAFKA_RESP_ERR__END; code++)
                if (err_name_is(s, code))
                        goto found;
        return -EINVAL;
found:
        *out = (rd_kafka_resp_err_t)code;
        return 0;
}

/* A broker id 1..N, or -1 ("all" is a synonym) where the mock call accepts it. */
static int parse_broker(const char *s, bool minus_one_ok, int32_t *out)
{
        int v;

        if (minus_one_ok && strcmp(s, "all") == 0) {
                *out = -1;
                return 0;
        }
        if (parse_int(s, minus_one_ok ? -1 : 1, opt.brokers, &v) < 0 || v == 0)
                return -EINVAL;
        *out = v;
        return 0;
}

/* Command handlers: argv[0] is the command, argc was checked against the table. They return
 * 0, or a negative errno with a reason in why. */
typedef int (*Handler)(Broker *b, int argc, char **argv, char *why, size_t len);

static int mock_result(rd_kafka_resp_err_t err, char *why, size_t len)
{
        if (!err)
                return 0;
        snprintf(why, len, "%s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
        return -EIO;
}

static int bad(char *why, size_t len, const char *what, const char *word)
{
        snprintf(why, len, "bad %s '%s'", what, word);
        return -EINVAL;
}

static int cmd_ping(Broker *b, int argc, char **argv, char *why, size_t len)
{
        (void)b, (void)argc, (void)argv, (void)why, (void)len;
        return 0;
}

static int cmd_updown(Broker *b, int argc, char **argv, char *why, size_t len)
{
        int32_t id;

        (void)argc;
        if (parse_broker(argv[1], true, &id) < 0)
                return bad(why, len, "broker id", argv[1]);
        if (strcmp(argv[0], "down") == 0)
                return mock_result(rd_kafka_mock_broker_set_down(b->mc, id), why, len);
        return mock_result(rd_kafka_mock_broker_set_up(b->mc, id), why, len);
}

static int cmd_rtt(Broker *b, int argc, char **argv, char *why, size_t len)
{
        int32_t id;
        int ms;

        (void)argc;
        if (parse_broker(argv[1], true, &id) < 0)
                return bad(why, len, "broker id", argv[1]);
        if (parse_int(argv[2], 0, 3600 * 1000, &ms) < 0)
                return bad(why, len, "milliseconds", argv[2]);
        return mock_result(rd_kafka_mock_broker_set_rtt(b->mc, id, ms), why, len);
}

static int cmd_errors(Broker *b, int argc, char **argv, char *why, size_t len)
{
        rd_kafka_resp_err_t errs[MAX_ARGS];
        int16_t key;

        if (parse_api_key(argv[1], &key) < 0)
                return bad(why, len, "API key", argv[1]);
        for (int i = 2; i < argc; i++)
                if (parse_err(argv[i], &errs[i - 2]) < 0)
                        return bad(why, len, "error", argv[i]);
        rd_kafka_mock_push_request_errors_array(b->mc, key, (size_t)(argc - 2), errs);
        return 0;
}

static int cmd_broker_errors(Broker *b, int argc, char **argv, char *why, size_t len)
{
        rd_kafka_resp_err_t err;
        int32_t id;
        int16_t key;
        int count, rtt, r = 0;

        (void)argc;
        if (parse_broker(argv[1], false, &id) < 0)
                return bad(why, len, "broker id", argv[1]);
        if (parse_api_key(argv[2], &key) < 0)
                return bad(why, len, "API key", argv[2]);
        if (parse_int(argv[3], 1, 10000, &count) < 0)
                return bad(why, len, "count (1..10000)", argv[3]);
        if (parse_err(argv[4], &err) < 0)
                return bad(why, len, "error", argv[4]);
        if (parse_int(argv[5], 0, 3600 * 1000, &rtt) < 0)
                return bad(why, len, "milliseconds", argv[5]);
        /* The call is variadic, so push one (err, rtt) pair at a time: the stack keeps order. */
        for (int i = 0; i < count && r == 0; i++)
                r = mock_result(rd_kafka_mock_broker_push_request_error_rtts(b->mc, id, key, 1,
                                                                             err, rtt),
                                why, len);
        return r;
}

static int cmd_topic_error(Broker *b, int argc, char **argv, char *why, size_t len)
{
        rd_kafka_resp_err_t err;

        (void)argc;
        if (parse_err(argv[2], &err) < 0)
                return bad(why, len, "error", argv[2]);
        rd_kafka_mock_topic_set_error(b->mc, argv[1], err);
        return 0;
}

static int cmd_leader(Broker *b, int argc, char **argv, char *why, size_t len)
{
        int32_t id;
        int part;

        (void)argc;
        if (parse_int(argv[2], 0, INT32_MAX, &part) < 0)
                return bad(why, len, "partition", argv[2]);
        /* -1 leaves the partition without a leader. */
        if (parse_broker(argv[3], true, &id) < 0)
                return bad(why, len, "broker id", argv[3]);
        return mock_result(rd_kafka_mock_partition_set_leader(b->mc, argv[1], part, id), why, len);
}

static int cmd_coordinator(Broker *b, int argc, char **argv, char *why, size_t len)
{
        int32_t id;

        (void)argc;
        if (strcmp(argv[1], "group") != 0 && strcmp(argv[1], "transaction") != 0)
                return bad(why, len, "coordinator type (group|transaction)", argv[1]);
        /* Only real brokers: the mock asserts (aborts) on FindCoordinator for an unknown id. */
        if (parse_broker(argv[3], false, &id) < 0)
                return bad(why, len, "broker id", argv[3]);
        return mock_result(rd_kafka_mock_coordinator_set(b->mc, argv[1], argv[2], id), why, len);
}

static int cmd_clear(Broker *b, int argc, char **argv, char *why, size_t len)
{
        (void)argc, (void)argv, (void)why, (void)len;
        for (int16_t key = 0; key <= API_KEY_MAX; key++)
                rd_kafka_mock_clear_request_errors(b->mc, key);
        return 0;
}

static int cmd_create(Broker *b, int argc, char **argv, char *why, size_t len)
{
        int parts;

        (void)argc;
        if (parse_int(argv[2], 1, 100000, &parts) < 0)
                return bad(why, len, "partition count", argv[2]);
        return mock_result(rd_kafka_mock_topic_create(b->mc, argv[1], parts, opt.replication),
                           why, len);
}

static const struct {
        const char *name;
        int min_args, max_args; /* words after the command */
        Handler fn;
        const char *usage;
} commands[] = {
    {"ping", 0, 0, cmd_ping, "ping"},
    {"down", 1, 1, cmd_updown, "down ID|all"},
    {"up", 1, 1, cmd_updown, "up ID|all"},
    {"rtt", 2, 2, cmd_rtt, "rtt ID|all MS"},
    {"errors", 2, MAX_ARGS - 2, cmd_errors, "errors APIKEY ERR [ERR...]"},
    {"broker-errors", 5, 5, cmd_broker_errors, "broker-errors ID APIKEY COUNT ERR RTT_MS"},
    {"topic-error", 2, 2, cmd_topic_error, "topic-error TOPIC ERR"},
    {"leader", 3, 3, cmd_leader, "leader TOPIC PARTITION ID|-1"},
    {"coordinator", 3, 3, cmd_coordinator, "coordinator group|transaction KEY ID"},
    {"clear", 0, 0, cmd_clear, "clear"},
    {"create", 2, 2, cmd_create, "create TOPIC PARTITIONS"},
};

/* Runs one command line (modified in place) and answers it on stdout. */
static void command_run(Broker *b, char *line)
{
        char *argv[MAX_ARGS + 1], why[256] = "";
        int argc = 0, r = -EINVAL;

        for (char *p = line; *p;) {
                while (*p == ' ' || *p == '\t' || *p == '\r')
                        *p++ = '\0';
                if (!*p)
                        break;
                if (argc == MAX_ARGS + 1)
                        break;
                argv[argc++] = p;
                while (*p && *p != ' ' && *p != '\t' && *p != '\r')
                        p++;
        }
        if (argc == 0)
                return;
        if (argc > MAX_ARGS) {
                snprintf(why, sizeof(why), "more than %d words", MAX_ARGS);
                goto answer;
        }
        snprintf(why, sizeof(why), "unknown command '%s'", argv[0]);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                if (strcmp(argv[0], commands[i].name) != 0)
                        continue;
                if (argc - 1 < commands[i].min_args || argc - 1 > commands[i].max_args) {
                        snprintf(why, sizeof(why), "usage: %s", commands[i].usage);
                        break;
                }
                r = commands[i].fn(b, argc, argv, why, sizeof(why));
                break;
        }
answer:
        if (r == 0)
                printf("ok\n");
        else
                printf("error: %s\n", why);
        fflush(stdout);
}

/*
 * Reads what stdin has and runs every complete line. Returns 0, or -EPIPE at EOF (a last
 * unterminated line is run first). An over-long line is discarded up to its newline and
 * answered with one error.
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
                if (*overlong) {
                        printf("error: line longer than %d bytes\n", LINE_LEN - 2);
                        fflush(stdout);
                        *overlong = false;
                } else {
                        command_run(b, start);
                }
                start = nl + 1;
        }
        *used -= (size_t)(start - buf);
        memmove(buf, start, *used);
        if (n == 0) {
                if (*used && !*overlong)
                        command_run(b, buf);
                *used = 0;
                return -EPIPE;
        }
        if (*used == LINE_LEN - 1) {
                *overlong = true;
                *used = 0;
        }
        return 0;
}

/* Writes "line\n" to path through a temporary file and rename(), so readers never see a
 * partial file. */
static int portfile_write(const char *path, const char *line)
{
        char tmp[PATH_MAX];
        int fd = -1, r = 0;
        FILE *f;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                goto fail;
        }
        if (fprintf(f, "%s\n", line) < 0)
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
fail:
        if (r < 0)
                unlink(tmp);
        return r;
}

/* Creates each topic of the comma-separated list with the configured partitions. */
static int topics_create(Broker *b, const char *list)
{
        char name[512];

        for (const char *p = list; *p;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                rd_kafka_resp_err_t err;

                if (n == 0 || n >= sizeof(name))
                        return -EINVAL;
                memcpy(name, p, n);
                name[n] = '\0';
                err = rd_kafka_mock_topic_create(b->mc, name, opt.partitions, opt.replication);
                if (err) {
                        fprintf(stderr, "testbroker: creating topic %s: %s\n", name,
                                rd_kafka_err2str(err));
                        return -EIO;
                }
                p += n + (comma ? 1 : 0);
        }
        return 0;
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

        /* The handle only hosts the cluster: it never connects anywhere itself. */
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
        if (opt.topics && topics_create(&b, opt.topics) < 0) {
                fprintf(stderr, "testbroker: bad topic list '%s'\n", opt.topics);
                goto fail;
        }
        if (opt.portfile) {
                r = portfile_write(opt.portfile, rd_kafka_mock_cluster_bootstraps(b.mc));
                if (r < 0) {
                        fprintf(stderr, "testbroker: writing %s: %s\n", opt.portfile,
                                strerror(-r));
                        goto fail;
                }
                wrote_portfile = true;
        }
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(b.mc));
        fflush(stdout);

        for (;;) {
                /* 1 s bound: serve anything queued on the hosting handle now and then. */
                if (poll(pfd, 2, 1000) < 0 && errno != EINTR) {
                        r = -errno;
                        goto fail;
                }
                rd_kafka_poll(b.rk, 0);
                if (pfd[0].revents & POLLIN)
                        break; /* SIGTERM or SIGINT: which one does not matter */
                /* EOF or a hang-up: stop reading (a negative fd is ignored by poll). */
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

static void usage(FILE *f)
{
        fprintf(f, "usage: testbroker [-b BROKERS] [-p PARTITIONS] [-r REPLICATION]"
                   " [-t TOPIC,...] [-P PORTFILE]\n"
                   "Prints the bootstrap servers, then answers fault commands on stdin\n"
                   "(see tests/README.md) until SIGTERM or SIGINT.\n");
}

int main(int argc, char **argv)
{
        sigset_t mask;
        int c, sfd, r;

        while ((c = getopt(argc, argv, "b:p:r:t:P:h")) != -1) {
                switch (c) {
                case 'b':
                        r = parse_int(optarg, 1, 64, &opt.brokers);
                        break;
                case 'p':
                        r = parse_int(optarg, 1, 100000, &opt.partitions);
                        break;
                case 'r':
                        r = parse_int(optarg, 1, 64, &opt.replication);
                        break;
                case 't':
                        opt.topics = optarg;
                        r = 0;
                        break;
                case 'P':
                        opt.portfile = optarg;
                        r = 0;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        r = -EINVAL;
                }
                if (r < 0) {
                        usage(stderr);
                        return 2;
                }
        }
        /* A partition's replicas are distinct brokers. */
        if (optind != argc || opt.replication > opt.brokers) {
                usage(stderr);
                return 2;
        }

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
        /* A harness that stopped reading our answers must not kill the broker. */
        signal(SIGPIPE, SIG_IGN);

        r = broker_run(sfd);
        close(sfd);
        return r < 0 ? 1 : 0;
}
