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
               "  benefits ID [--year Y] [--format text|json|html]\n"
               "                       the household's happiness list (REQ-13): every benefit\n"
               "                       with date, kind and amount, and yearly totals\n"
               "  replay FILE          run a file of events (one CloudEvent per line, or\n"
               "                       KEY<TAB>EVENT) through the rules offline, no Kafka or\n"
               "                       Redis, and print the codes and alerts they produce\n"
               "  stats                supervision figures (REQ-14) and open alerts\n"
               "  report --by rule     per rule: alerts raised, how they ended (with help, by\n"
               "                       data, refused, reopened, false alarm) and the median\n"
               "                       time to elimination\n"
               "  preview --rules DIR [--by town|village] [--format text|json|csv]\n"
               "                       what DIR's rules would change: every household's\n"
               "                       current state in Redis (read only) under the config's\n"
               "                       rules and under DIR's; households that would change\n"
               "                       colour per town or village, the rules that cause it,\n"
               "                       examples, and the rate\n"
               "  forget ID            erase the household's personal data now (right to\n"
               "                       erasure): it leaves monitoring; an audit line records\n"
               "                       when and by which uid, without personal data\n"
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

static void html_escape(FILE *f, const char *s)
{
        for (; s && *s; s++) {
                switch (*s) {
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '&':
                        fputs("&amp;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                default:
                        /* Controls are not text in HTML either. */
                        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
                                char one[2] = {*s, 0};
                                escape_fputs(one, f);
                        } else
                                fputc(*s, f);
                }
        }
}

/* benefits ID: the happiness list (幸福清单) of REQ-13 from the ledger. */
static int cmd_benefits(const CtlArgs *a, const Config *cfg, const char *id)
{
        Esc e_ = {0}, *E = &e_;
        if (!household_id_valid(id, strlen(id))) {
                fprintf(stderr, "hearthctl: '%s' is not a household id\n", esc(E, id));
                return EXIT_USAGE;
        }
        Redis *redis = NULL;
        Store *store = ctl_store(a, cfg, &redis);
        if (!store)
                return EXIT_FAILURE;
        json_t *doc = NULL, *ledger = NULL, *timeline = NULL;
        int64_t version;
        int r = store_household_dump(store, id, &doc, &version, &ledger, &timeline);
        int ret = EXIT_FAILURE;
        if (r == -ENOENT) {
                fprintf(stderr, "hearthctl: household %s: no state\n", id);
                ret = 3;
                goto out;
        }
        if (r < 0) {
                fprintf(stderr, "hearthctl: household %s: %s\n", id, store_errstr(store));
                goto out;
        }
        /* Entries of the year asked for, oldest first, and totals by year:
         * the document's (the ledger list keeps only the latest entries). */
        json_t *entries = json_array(), *years = json_object();
        const json_t *totals = json_object_get(doc, "benefit_totals");
        size_t i;
        json_t *e;
        json_array_foreach (ledger, i, e) {
                const char *date = json_string_value(json_object_get(e, "date"));
                int y = date ? (int)strtol(date, NULL, 10) : 0;
                if (a->year && y != a->year)
                        continue;
                json_array_append(entries, e);
                char ys[16];
                snprintf(ys, sizeof(ys), "%d", y);
                json_int_t cur = json_integer_value(json_object_get(years, ys));
                json_object_set_new(
                    years, ys,
                    json_integer(cur + json_integer_value(json_object_get(e, "amount"))));
        }
        const char *yk;
        json_t *yv;
        json_object_foreach ((json_t *)totals, yk, yv) {
                if (a->year && strtol(yk, NULL, 10) != a->year)
                        continue;
                json_object_set(years, yk, yv);
        }
        const char *format = a->format ? a->format : a->json ? "json" : "text";
        char buf[40];
        if (streq(format, "json")) {
                json_t *out = json_object();
                json_t *list = json_array(), *totals = json_object();
                json_array_foreach (entries, i, e) {
                        json_t *c = json_deep_copy(e);
                        json_object_set_new(
                            c, "amount",
                            money_to_json(json_integer_value(json_object_get(e, "amount"))));
                        json_object_set_new(c, "label",
                                            json_string(household_benefit_label(
                                                json_string_value(json_object_get(e, "kind")))));
                        json_array_append_new(list, c);
                }
                const char *k;
                json_t *v;
                json_object_foreach (years, k, v)
                        json_object_set_new(totals, k, money_to_json(json_integer_value(v)));
                json_object_set_new(out, "household", json_string(id));
                json_object_set_new(out, "benefits", list);
                json_object_set_new(out, "totals_by_year", totals);
                json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
                printf("\n");
                json_decref(out);
        } else if (streq(format, "html")) {
                const json_t *prof = json_object_get(doc, "profile");
                printf("<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">"
                       "<title>幸福清单 %s</title><style>body{font-family:sans-serif;margin:2em}"
                       "table{border-collapse:collapse}td,th{border:1px solid #888;padding:4px 8px}"
                       "td.n{text-align:right}</style></head><body>\n",
                       id);
                printf("<h1>幸福清单 Benefits statement</h1>\n<p>户 Household %s — ", id);
                html_escape(stdout, json_string_value(json_object_get(prof, "town")));
                printf(" ");
                html_escape(stdout, json_string_value(json_object_get(prof, "village")));
                printf("</p>\n<table><tr><th>日期 Date</th><th>项目 Kind</th>"
                       "<th>金额 Amount (元)</th><th>来源 Source</th></tr>\n");
                json_array_foreach (entries, i, e) {
                        money_format(json_integer_value(json_object_get(e, "amount")), buf,
                                     sizeof(buf));
                        printf("<tr><td>");
                        html_escape(stdout, json_string_value(json_object_get(e, "date")));
                        printf("</td><td>");
                        html_escape(stdout, household_benefit_label(
                                                json_string_value(json_object_get(e, "kind"))));
                        printf("</td><td class=\"n\">%s</td><td>", buf);
                        html_escape(stdout, json_string_value(json_object_get(e, "source")));
                        printf("</td></tr>\n");
                }
                printf("</table>\n<h2>年度合计 Totals by year</h2>\n<table>\n");
                const char *k;
                json_t *v;
                json_object_foreach (years, k, v) {
                        money_format(json_integer_value(v), buf, sizeof(buf));
                        printf("<tr><td>%s</td><td class=\"n\">%s</td></tr>\n", k, buf);
                }
                printf("</table>\n</body></html>\n");
        } else if (streq(format, "text")) {
                printf("Benefits of household %s%s\n", id, a->year ? "" : " (all years)");
                printf("  %-10s  %-20s %-16s %14s  %s\n", "date", "kind", "项目", "yuan", "source");
                json_array_foreach (entries, i, e) {
                        const char *kind = json_string_value(json_object_get(e, "kind"));
                        money_format(json_integer_value(json_object_get(e, "amount")), buf,
                                     sizeof(buf));
                        printf("  %-10s  %-20s %-16s %14s  %s\n", esc_get(E, e, "date") ?: "",
                               esc(E, kind) ?: "", household_benefit_label(kind), buf,
                               esc_get(E, e, "source") ?: "");
                }
                const char *k;
                json_t *v;
                json_object_foreach (years, k, v) {
                        money_format(json_integer_value(v), buf, sizeof(buf));
                        printf("  total %s: %s yuan\n", esc(E, k), buf);
                }
        } else {
                fprintf(stderr, "hearthctl: --format must be text, json or html\n");
                json_decref(entries);
                json_decref(years);
                ret = EXIT_USAGE;
                goto out;
        }
        json_decref(entries);
        json_decref(years);
        ret = EXIT_SUCCESS;
out:
        json_decref(doc);
        json_decref(ledger);
        json_decref(timeline);
        store_free(store);
        redis_free(redis);
        return ret;
}

/* report --by rule: the rule outcomes hearthd counted (outcome.h), a row
 * for every rule of the config's rule set. */
static int cmd_report(const CtlArgs *a, const Config *cfg)
{
        Diag *d = diag_new();
        RuleSet *rs = NULL;
        Redis *redis = NULL;
        Store *store = NULL;
        json_t *hash = NULL, *report = NULL;
        int ret = EXIT_FAILURE;
        if (rules_load_dir(cfg->rules_dir, cfg, &rs, d) < 0) {
                diag_print(d, stderr, "hearthctl: ");
                goto out;
        }
        if (!(store = ctl_store(a, cfg, &redis)))
                goto out;
        if (!(hash = store_outcomes_get(store))) {
                fprintf(stderr, "hearthctl: report: %s\n", store_errstr(store));
                goto out;
        }
        const char **ids = calloc(rules_count(rs) + 1, sizeof(char *));
        for (size_t i = 0; ids && i < rules_count(rs); i++)
                ids[i] = rules_id(rs, i);
        report = ids ? outcome_report(hash, ids, rules_count(rs)) : NULL;
        free(ids);
        if (!report)
                goto out;
        if (a->json) {
                json_dumpf(report, stdout, JSON_INDENT(2));
                printf("\n");
        } else
                outcome_write_text(report, stdout);
        ret = EXIT_SUCCESS;
out:
        json_decref(report);
        json_decref(hash);
        store_free(store);
        redis_free(redis);
        rules_free(rs);
        diag_free(d);
        return ret;
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
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl benefits ID [--year Y] [--format "
                                        "text|json|html]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = cmd_benefits(a, cfg, args[0]);
        } else if (strcmp(verb, "forget") == 0) {
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl forget ID\n");
                        ret = EXIT_USAGE;
                } else
                        ret = ctl_forget(a, cfg, args[0]);
        } else if (strcmp(verb, "stats") == 0) {
                ret = ctl_stats(a, cfg);
        } else if (strcmp(verb, "report") == 0) {
                if (rest != 0 || !streq_ptr(a->by, "rule")) {
                        fprintf(stderr, "Usage: hearthctl report --by rule [--json]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = cmd_report(a, cfg);
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
