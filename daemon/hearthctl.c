/* hearthctl: the operator's tool. Verbs read the same config as hearthd
 * (for Redis, rules and schemas) and share hearthd's modules. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "event.h"
#include "household.h"
#include "money.h"
#include "redis.h"
#include "ruletest.h"
#include "store.h"

#define EXIT_USAGE 2

typedef struct {
        const char *config_path;
        char **sets;
        size_t n_sets;
        const char *redis_url;
        bool json;
} CtlArgs;

static void help(void)
{
        printf("Usage: hearthctl [OPTIONS] COMMAND [ARGS]\n"
               "\n"
               "The operator's tool for hearth.\n"
               "\n"
               "Commands:\n"
               "  household ID         a household's state, sums and recent events\n"
               "  test-rules [DIR]     run the rule tests in DIR/tests against DIR's rules\n"
               "                       (default: the config's rules.dir), like promtool\n"
               "  help                 this text\n"
               "\n"
               "Options:\n"
               "  -c, --config FILE    hearthd's config (default /etc/hearth/hearth.yaml)\n"
               "  -s, --set KEY=VALUE  override a config key\n"
               "  -r, --redis URL      Redis to read (overrides redis.url)\n"
               "  -j, --json           print JSON for scripts\n"
               "\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 3 not found.\n");
}

static const char *const buckets[] = {
    "medical",       "fund_paid",     "education",     "disability",       "other",
    "disaster_loss", "accident_loss", "property_loss", "accident_medical", "relief",
};

/* The 12-month sums ending at the household's latest event date. */
static json_t *sums_json(const json_t *doc)
{
        json_t *o = json_object();
        int32_t latest = 0;
        const char *ls = json_string_value(json_object_get(doc, "latest"));
        if (!ls || date_parse(ls, &latest) < 0)
                return o;
        for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
                json_object_set_new(o, buckets[i],
                                    json_integer(household_sum_12m(doc, buckets[i], latest)));
        return o;
}

static int cmd_household(const CtlArgs *a, const Config *cfg, const char *id)
{
        if (!household_id_valid(id, strlen(id))) {
                fprintf(stderr, "hearthctl: '%s' is not a household id (1-64 of A-Z a-z 0-9 _ -)\n",
                        id);
                return EXIT_USAGE;
        }
        const char *url = a->redis_url ? a->redis_url : cfg->redis_url;
        Redis *redis = redis_new(url, cfg->redis_connect_timeout_ms, cfg->redis_command_timeout_ms);
        if (!redis) {
                fprintf(stderr, "hearthctl: bad Redis URL\n");
                return EXIT_FAILURE;
        }
        int ret = EXIT_FAILURE;
        Store *store = NULL;
        if (redis_connect(redis) < 0) {
                fprintf(stderr, "hearthctl: redis %s: %s\n", redis_target(redis),
                        redis_errstr(redis));
                goto out;
        }
        store = store_new(redis, cfg->redis_prefix, cfg->kafka_group, cfg->dedup_window_ms);
        json_t *doc = NULL, *ledger = NULL, *timeline = NULL;
        int64_t version = 0;
        int r = store_household_dump(store, id, &doc, &version, &ledger, &timeline);
        if (r == -ENOENT) {
                fprintf(stderr, "hearthctl: household %s: no state\n", id);
                ret = 3;
                goto out;
        }
        if (r < 0) {
                fprintf(stderr, "hearthctl: household %s: %s\n", id, store_errstr(store));
                goto out;
        }
        json_t *sums = sums_json(doc);
        json_int_t ledger_total = 0;
        size_t i;
        json_t *e;
        json_array_foreach (ledger, i, e)
                ledger_total += json_integer_value(json_object_get(e, "amount"));
        if (a->json) {
                json_t *out =
                    json_pack("{s:s, s:I, s:O, s:O, s:I, s:O, s:O}", "household", id, "version",
                              (json_int_t)version, "state", doc, "sums_12m", sums, "ledger_total",
                              ledger_total, "ledger", ledger, "timeline", timeline);
                json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                printf("\n");
                json_decref(out);
        } else {
                const json_t *prof = json_object_get(doc, "profile");
                printf("household %s (version %" PRId64 ")\n", id, version);
                printf("  registered: %s%s\n",
                       json_is_true(json_object_get(doc, "registered")) ? "yes" : "no",
                       json_is_true(json_object_get(doc, "removed")) ? " (removed)" : "");
                if (prof)
                        printf("  town/village: %s / %s, members: %zu, status: %s\n",
                               json_string_value(json_object_get(prof, "town")),
                               json_string_value(json_object_get(prof, "village")),
                               household_size(doc),
                               json_string_value(json_object_get(prof, "status")));
                printf("  events applied: %" JSON_INTEGER_FORMAT ", latest event date: %s\n",
                       json_integer_value(json_object_get(doc, "events")),
                       json_string_value(json_object_get(doc, "latest")) ?: "-");
                printf("  12-month sums (yuan):\n");
                const char *k;
                json_t *v;
                json_object_foreach (sums, k, v) {
                        char buf[32];
                        money_format(json_integer_value(v), buf, sizeof(buf));
                        printf("    %-18s %s\n", k, buf);
                }
                printf("  open needs: %zu\n", json_object_size(json_object_get(doc, "needs")));
                printf("  pending (before registration): %zu\n",
                       json_array_size(json_object_get(doc, "pending")));
                char buf[32];
                money_format(ledger_total, buf, sizeof(buf));
                printf("  benefits received: %zu entries, %s yuan\n", json_array_size(ledger), buf);
                printf("  recent events:\n");
                json_array_foreach (timeline, i, e) {
                        if (i >= 10)
                                break;
                        printf("    %s  %s\n", json_string_value(json_object_get(e, "date")) ?: "",
                               json_string_value(json_object_get(e, "type")) ?: "");
                }
        }
        json_decref(sums);
        json_decref(doc);
        json_decref(ledger);
        json_decref(timeline);
        ret = EXIT_SUCCESS;
out:
        store_free(store);
        redis_free(redis);
        return ret;
}

/* test-rules [DIR]: the rule tests of DIR/tests against DIR's rules. */
static int cmd_test_rules(const Config *cfg, const char *dir)
{
        const char *rules_dir = dir ? dir : cfg->rules_dir;
        char tests[4096];
        snprintf(tests, sizeof(tests), "%s/tests", rules_dir);
        int r = ruletest_run_dir(tests, rules_dir, cfg->schemas_dir, cfg, stdout);
        if (r < 0) {
                fprintf(stderr, "hearthctl: test-rules %s: %s\n", rules_dir, strerror(-r));
                return EXIT_FAILURE;
        }
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
            {"redis", required_argument, NULL, 'r'},  {"json", no_argument, NULL, 'j'},
            {"help", no_argument, NULL, 'h'},         {},
        };
        CtlArgs a = {.config_path = "/etc/hearth/hearth.yaml"};
        char **sets = calloc((size_t)argc, sizeof(char *));
        int c, ret = EXIT_USAGE;
        bool config_given = false;
        if (!sets)
                return EXIT_FAILURE;
        a.sets = sets;
        /* "+": stop at the verb, so verbs may take their own options. */
        while ((c = getopt_long(argc, argv, "+c:s:r:jh", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        a.config_path = optarg;
                        config_given = true;
                        break;
                case 's':
                        sets[a.n_sets++] = optarg;
                        break;
                case 'r':
                        a.redis_url = optarg;
                        break;
                case 'j':
                        a.json = true;
                        break;
                case 'h':
                        help();
                        ret = EXIT_SUCCESS;
                        goto out;
                default:
                        fprintf(stderr, "Try 'hearthctl help'.\n");
                        goto out;
                }
        }
        if (optind >= argc || strcmp(argv[optind], "help") == 0) {
                help();
                ret = optind >= argc ? EXIT_USAGE : EXIT_SUCCESS;
                goto out;
        }
        const char *verb = argv[optind++];
        /* Verb options after the verb (household ID --json). */
        int rest = 0;
        char **args = calloc((size_t)argc, sizeof(char *));
        if (!args)
                goto out;
        for (int i = optind; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
                        a.json = true;
                else
                        args[rest++] = argv[i];
        }
        Config *cfg = NULL;
        Diag *d = diag_new();
        /* Without a config file, hearthd's defaults apply (plus --set). */
        int r = config_given || access(a.config_path, R_OK) == 0
                    ? config_load(a.config_path, a.sets, a.n_sets, &cfg, d)
                    : config_load_buffer("", 0, "./defaults", a.sets, a.n_sets, &cfg, d);
        if (r < 0) {
                diag_print(d, stderr, "hearthctl: ");
                diag_free(d);
                free(args);
                ret = EXIT_FAILURE;
                goto out;
        }
        diag_free(d);
        if (strcmp(verb, "household") == 0) {
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl household ID [--json]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = cmd_household(&a, cfg, args[0]);
        } else if (strcmp(verb, "test-rules") == 0) {
                ret = cmd_test_rules(cfg, rest ? args[0] : NULL);
        } else {
                fprintf(stderr, "hearthctl: unknown command '%s'\nTry 'hearthctl help'.\n", verb);
                ret = EXIT_USAGE;
        }
        config_free(cfg);
        free(args);
out:
        free(sets);
        return ret;
}
