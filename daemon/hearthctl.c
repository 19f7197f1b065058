/* hearthctl: the operator's tool. Verbs read the same config as hearthd
 * (for Redis, rules and schemas) and share hearthd's modules. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"
#include "diag.h"
#include "household.h"
#include "money.h"
#include "outcome.h"
#include "redact.h"
#include "rules.h"

static void help(void)
{
        printf("Usage: hearthctl [OPTIONS] COMMAND [ARGS]\n"
               "\n"
               "The operator's tool for hearth.\n"
               "\n"
               "Commands:\n"
               "  household ID         a household's state, sums and recent events\n"
               "  benefits ID [--period YYYY-MM|YYYY-Qn|YYYY] [--year Y]\n"
               "              [--format text|json|html]\n"
               "                       the household's benefits statement (幸福清单, REQ-13)\n"
               "                       for the period (default: the latest that ended), the\n"
               "                       one hearthd publishes; json: its data as published\n"
               "  replay FILE          run a file of events (one CloudEvent per line, or\n"
               "                       KEY<TAB>EVENT) through the rules offline, no Kafka or\n"
               "                       Redis, and print the codes and alerts they produce\n"
               "  stats                supervision figures (REQ-14) and open alerts\n"
               "  report --by rule     per rule: alerts raised, how they ended (with help, by\n"
               "                       data, refused, reopened, false alarm) and the median\n"
               "                       time to elimination\n"
               "  report --by town|cadre|department [--from D] [--to D]\n"
               "              [--format text|json|csv|html]\n"
               "                       supervision (REQ-14) per group: alerts by colour and\n"
               "                       category, time to acknowledge and to eliminate (median,\n"
               "                       p90), escalations, overdue department answers, visits\n"
               "                       done vs due, satisfaction, key monitoring, candidates,\n"
               "                       refused resolutions; and the missed-monitoring audit\n"
               "  preview --rules DIR [--by town|village] [--format text|json|csv]\n"
               "                       what DIR's rules would change: every household's\n"
               "                       current state in Redis (read only) under the config's\n"
               "                       rules and under DIR's; households that would change\n"
               "                       colour per town or village, the rules that cause it,\n"
               "                       examples, and the rate\n"
               "  forget ID            erase the household's personal data now (right to\n"
               "                       erasure): it leaves monitoring; an audit line records\n"
               "                       when and by which uid, without personal data\n"
               "  migrate              convert household state written by an older hearth\n"
               "                       (before STORE_FORMAT 2: a hash, a sorted set and two\n"
               "                       lists per household) into one record per household;\n"
               "                       run once with every hearthd stopped; safe to repeat\n"
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

/* Reads the arguments after the verb, argv[from..argc): the options of the
 * verbs (--json, --rules, --by, --year, --format) into a, the rest into
 * args. Returns how many went to args, or -1 after printing why. */
static int verb_args(int argc, char **argv, int from, CtlArgs *a, char **args)
{
        int rest = 0;
        for (int i = from; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
                        a->json = true;
                } else if ((strcmp(argv[i], "--rules") == 0 || strcmp(argv[i], "--by") == 0) &&
                           i + 1 < argc) {
                        if (argv[i][2] == 'r')
                                a->rules = argv[i + 1];
                        else
                                a->by = argv[i + 1];
                        i++;
                } else if ((strcmp(argv[i], "--year") == 0 || strcmp(argv[i], "--format") == 0) &&
                           i + 1 < argc) {
                        if (argv[i][2] == 'y') {
                                char *end;
                                long y = strtol(argv[i + 1], &end, 10);
                                if (*end || y < 2000 || y > 2100) {
                                        fprintf(stderr, "hearthctl: --year: expected 2000..2100\n");
                                        return -1;
                                }
                                a->year = (int)y;
                        } else
                                a->format = argv[i + 1];
                        i++;
                } else
                        args[rest++] = argv[i];
        }
        return rest;
}

/* The config file (hearthd's defaults when there is none and -c was not
 * given), with the --set overrides. NULL after printing why. */
static Config *load_config(const CtlArgs *a, bool config_given)
{
        Config *cfg = NULL;
        Diag *d = diag_new();
        /* Without a config file, hearthd's defaults apply (plus --set). */
        int r = config_given || access(a->config_path, R_OK) == 0
                    ? config_load(a->config_path, a->sets, a->n_sets, &cfg, d)
                    : config_load_buffer("", 0, "./defaults", a->sets, a->n_sets, &cfg, d);
        if (r < 0)
                diag_print(d, stderr, "hearthctl: ");
        diag_free(d);
        return r < 0 ? NULL : cfg;
}

/* Runs verb with its arguments args[0..rest). Returns the exit status. */
static int run_verb(const char *verb, const CtlArgs *a, const Config *cfg, char **args, int rest)
{
        int ret;
        if (strcmp(verb, "household") == 0) {
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl household ID [--json]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = ctl_household(a, cfg, args[0]);
        } else if (strcmp(verb, "benefits") == 0) {
                ret = ctl_benefits(a, cfg, rest, args);
        } else if (strcmp(verb, "forget") == 0) {
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl forget ID\n");
                        ret = EXIT_USAGE;
                } else
                        ret = ctl_forget(a, cfg, args[0]);
        } else if (strcmp(verb, "migrate") == 0) {
                ret = rest ? (fprintf(stderr, "Usage: hearthctl migrate\n"), EXIT_USAGE)
                           : ctl_migrate(a, cfg);
        } else if (strcmp(verb, "stats") == 0) {
                ret = ctl_stats(a, cfg);
        } else if (strcmp(verb, "report") == 0) {
                ret = ctl_report(a, cfg, rest, args);
        } else if (strcmp(verb, "preview") == 0) {
                if (rest != 0 || !a->rules) {
                        fprintf(stderr, "Usage: hearthctl preview --rules DIR [--by town|village] "
                                        "[--format text|json|csv]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = ctl_preview(a, cfg);
        } else if (strcmp(verb, "replay") == 0) {
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl replay FILE [--json]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = ctl_replay(a, cfg, args[0]);
        } else if (strcmp(verb, "test-rules") == 0) {
                ret = ctl_test_rules(cfg, rest ? args[0] : NULL);
        } else {
                fprintf(stderr, "hearthctl: unknown command '%s'\nTry 'hearthctl help'.\n", verb);
                ret = EXIT_USAGE;
        }
        return ret;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
            {"redis", required_argument, NULL, 'r'},  {"json", no_argument, NULL, 'j'},
            {"help", no_argument, NULL, 'h'},         {},
        };
        /* No fastbins, as in hearthd (main.c): preview frees a page of
         * documents at a time, and malloc_consolidate was 12% of its CPU. */
        mallopt(M_MXFAST, 0);
        CtlArgs a = {.config_path = "/etc/hearth/hearth.yaml"};
        char **sets = calloc((size_t)argc, sizeof(char *));
        char *redis_url = NULL;
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
                        /* Copies, then the passwords leave what ps shows. */
                        if (!(sets[a.n_sets++] = strdup(optarg)))
                                goto out;
                        redact_argument(optarg);
                        break;
                case 'r':
                        free(redis_url);
                        if (!(redis_url = strdup(optarg)))
                                goto out;
                        a.redis_url = redis_url;
                        redact_argument(optarg);
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
        char **args = calloc((size_t)argc, sizeof(char *));
        if (!args)
                goto out;
        int rest = verb_args(argc, argv, optind, &a, args);
        if (rest < 0) {
                free(args);
                goto out;
        }
        Config *cfg = load_config(&a, config_given);
        if (!cfg) {
                free(args);
                ret = EXIT_FAILURE;
                goto out;
        }
        ret = run_verb(verb, &a, cfg, args, rest);
        config_free(cfg);
        free(args);
out:
        for (size_t i = 0; i < a.n_sets; i++)
                free(sets[i]);
        free(sets);
        free(redis_url);
        return ret;
}
