/* hearthctl report: supervision figures (REQ-14) by rule, town, cadre or department, as text, JSON,
 * CSV or HTML. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "ctl.h"
#include "diag.h"
#include "escape.h"
#include "event.h"
#include "household.h"
#include "macro.h"
#include "outcome.h"
#include "preview.h"
#include "report.h"
#include "rules.h"

#define DAY_MS (24LL * 3600 * 1000)
#define CST_MS (8LL * 3600 * 1000)

/* report --by rule: the rule outcomes hearthd counted (outcome.h), a row
 * for every rule of the config's rule set. */
static int report_by_rule(const CtlArgs *a, const Config *cfg)
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
        if (a->json || streq_ptr(a->format, "json")) {
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

/* Every household's document, page by page (SCAN, pipelined GET of the records), into r. */
static int scan_into(Store *store, Report *r)
{
        uint64_t cursor = 0;
        do {
                json_t *ids = NULL;
                int k = store_scan_households(store, &cursor, PREVIEW_PAGE, &ids);
                if (k < 0)
                        return k;
                size_t n = json_array_size(ids);
                const char **hs = calloc(n + 1, sizeof(char *));
                char **docs = calloc(n + 1, sizeof(char *));
                size_t *lens = calloc(n + 1, sizeof(size_t));
                int ret = hs && docs && lens ? 0 : -ENOMEM;
                for (size_t i = 0; !ret && i < n; i++)
                        hs[i] = json_string_value(json_array_get(ids, i));
                if (!ret && n && (ret = store_docs_get(store, hs, n, docs, lens)) == -EINVAL)
                        ret = 0; /* a key of the wrong type: that household is skipped */
                json_t *seen = json_object();
                for (size_t i = 0; !ret && i < n; i++) {
                        /* SCAN may return a key twice. */
                        if (!docs[i] || json_object_get(seen, hs[i]))
                                continue;
                        json_object_set_new(seen, hs[i], json_true());
                        json_t *doc = json_loadb(docs[i], lens[i], 0, NULL);
                        if (doc) {
                                household_loaded(doc);
                                ret = report_add(r, hs[i], doc);
                        }
                        json_decref(doc);
                }
                for (size_t i = 0; docs && i < n; i++)
                        free(docs[i]);
                json_decref(seen);
                free(hs);
                free(docs);
                free(lens);
                json_decref(ids);
                if (ret < 0)
                        return ret;
        } while (cursor != 0);
        return 0;
}

/* The columns of the CSV, the text and the HTML: JSON path, heading. */
static const struct {
        const char *path, *en, *zh;
} columns[] = {
    {"households", "households", "户数"},
    {"alerts.raised", "alerts", "预警"},
    {"alerts.yellow", "yellow", "黄码"},
    {"alerts.red", "red", "红码"},
    {"acknowledge_seconds.count", "acked", "已受理"},
    {"acknowledge_seconds.median", "ack_median_s", "受理用时中位(秒)"},
    {"acknowledge_seconds.p90", "ack_p90_s", "受理用时P90(秒)"},
    {"eliminate_seconds.count", "eliminated", "风险消除"},
    {"eliminate_seconds.median", "elim_median_s", "消除用时中位(秒)"},
    {"eliminate_seconds.p90", "elim_p90_s", "消除用时P90(秒)"},
    {"escalations", "escalations", "超时未受理"},
    {"department_answers.routed", "dept_routed", "部门交办"},
    {"department_answers.answered", "dept_answered", "部门已答复"},
    {"department_answers.overdue", "dept_overdue", "部门超时"},
    {"visits.done", "visits_done", "走访"},
    {"visits.due", "visits_due", "应走访"},
    {"satisfaction.count", "ratings", "满意度评价"},
    {"monitored", "monitored", "重点监测"},
    {"candidates.identified", "candidates", "疑似应纳未纳"},
    {"candidates.registered", "candidates_registered", "其后纳入"},
    {"refused", "refused", "驳回销号"},
    {"missed", "missed", "漏监测"},
};

/* A column's value: an integer, or empty for a null (no sample). */
static void cell(const json_t *g, const char *path, char *buf, size_t len)
{
        char k[64];
        snprintf(k, sizeof(k), "%s", path);
        char *dot = strchr(k, '.');
        const json_t *v = dot ? (*dot = 0, json_object_get(json_object_get(g, k), dot + 1))
                              : json_object_get(g, k);
        if (json_is_integer(v))
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
                buf[0] = 0;
}

static void satisfaction_mean(const json_t *g, char *buf, size_t len)
{
        const json_t *m = json_object_get(json_object_get(g, "satisfaction"), "mean");
        if (json_is_number(m))
                snprintf(buf, len, "%.2f", json_number_value(m));
        else
                buf[0] = 0;
}

static void categories_text(const json_t *g, char *buf, size_t len)
{
        size_t off = 0;
        const char *k;
        json_t *v;
        buf[0] = 0;
        json_object_foreach (json_object_get(json_object_get(g, "alerts"), "by_category"), k, v) {
                int n = snprintf(buf + off, len - off, "%s%s:%" JSON_INTEGER_FORMAT, off ? ";" : "",
                                 k, json_integer_value(v));
                if (n < 0 || (size_t)n >= len - off)
                        break;
                off += (size_t)n;
        }
}

static void write_csv(const json_t *rep)
{
        printf("%s", json_string_value(json_object_get(rep, "by")));
        for (size_t c = 0; c < ELEMENTSOF(columns); c++)
                printf(",%s", columns[c].en);
        printf(",satisfaction_mean,categories\n");
        json_t *rows = json_copy(json_object_get(rep, "groups"));
        json_array_append(rows, json_object_get(rep, "total"));
        size_t i;
        json_t *g;
        char buf[1024];
        json_array_foreach (rows, i, g) {
                escape_csv(stdout, json_string_value(json_object_get(g, "name")));
                for (size_t c = 0; c < ELEMENTSOF(columns); c++) {
                        cell(g, columns[c].path, buf, sizeof(buf));
                        printf(",%s", buf);
                }
                satisfaction_mean(g, buf, sizeof(buf));
                printf(",%s,", buf);
                categories_text(g, buf, sizeof(buf));
                escape_csv(stdout, buf);
                printf("\n");
        }
        json_decref(rows);
}

static void write_text(const json_t *rep)
{
        char buf[1024], e[512];
        printf("supervision report by %s, alerts raised %s .. %s\n",
               json_string_value(json_object_get(rep, "by")),
               *json_string_value(json_object_get(rep, "from"))
                   ? json_string_value(json_object_get(rep, "from"))
                   : "(start)",
               json_string_value(json_object_get(rep, "to")));
        json_t *rows = json_copy(json_object_get(rep, "groups"));
        json_array_append(rows, json_object_get(rep, "total"));
        size_t i;
        json_t *g;
        json_array_foreach (rows, i, g) {
                printf("\n%s\n",
                       escape_str(json_string_value(json_object_get(g, "name")), e, sizeof(e)));
                for (size_t c = 0; c < ELEMENTSOF(columns); c++) {
                        cell(g, columns[c].path, buf, sizeof(buf));
                        printf("  %-22s %s\n", columns[c].en, *buf ? buf : "-");
                }
                satisfaction_mean(g, buf, sizeof(buf));
                printf("  %-22s %s\n", "satisfaction_mean", *buf ? buf : "-");
                categories_text(g, buf, sizeof(buf));
                printf("  %-22s %s\n", "categories", escape_str(buf, e, sizeof(e)));
        }
        json_decref(rows);
        const json_t *missed = json_object_get(rep, "missed");
        printf("\nmissed monitoring (data meets a rule, no alert open): %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(missed, "count")));
        json_array_foreach (json_object_get(missed, "households"), i, g)
                printf("  %s\n", json_string_value(g));
}

static void write_html(const json_t *rep)
{
        char buf[1024];
        printf("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
               "<title>防返贫监测督查报表</title><style>body{font-family:sans-serif;margin:2em}"
               "table{border-collapse:collapse}td,th{border:1px solid #888;padding:4px 8px}"
               "td{text-align:right}td:first-child{text-align:left}</style></head><body>\n"
               "<h1>防返贫监测督查报表</h1>\n<p>预警时间：%s 至 %s</p>\n<table><tr><th>%s</th>",
               json_string_value(json_object_get(rep, "from")),
               json_string_value(json_object_get(rep, "to")),
               streq_ptr(json_string_value(json_object_get(rep, "by")), "town") ? "乡镇（街道）"
               : streq_ptr(json_string_value(json_object_get(rep, "by")), "cadre") ? "帮促干部"
                                                                                   : "部门");
        for (size_t c = 0; c < ELEMENTSOF(columns); c++)
                printf("<th>%s</th>", columns[c].zh);
        printf("<th>满意度均分</th></tr>\n");
        json_t *rows = json_copy(json_object_get(rep, "groups"));
        json_array_append(rows, json_object_get(rep, "total"));
        size_t i;
        json_t *g;
        json_array_foreach (rows, i, g) {
                printf("<tr><td>");
                escape_html(stdout, json_string_value(json_object_get(g, "name")));
                printf("</td>");
                for (size_t c = 0; c < ELEMENTSOF(columns); c++) {
                        cell(g, columns[c].path, buf, sizeof(buf));
                        printf("<td>%s</td>", buf);
                }
                satisfaction_mean(g, buf, sizeof(buf));
                printf("<td>%s</td></tr>\n", buf);
        }
        json_decref(rows);
        const json_t *missed = json_object_get(rep, "missed");
        printf("</table>\n<h2>漏监测核查</"
               "h2>\n<p>数据已触发预警规则而无在办预警的农户：%" JSON_INTEGER_FORMAT
               " 户</p>\n<ul>\n",
               json_integer_value(json_object_get(missed, "count")));
        json_array_foreach (json_object_get(missed, "households"), i, g)
                printf("<li>%s</li>\n", json_string_value(g));
        printf("</ul>\n</body></html>\n");
}

/* --from and --to: YYYY-MM-DD, days of China Standard Time. */
static int parse(int argc, char **args, int64_t *from, int64_t *to)
{
        *from = 0;
        *to = ((clock_wall_ms() + CST_MS) / DAY_MS + 1) * DAY_MS - CST_MS;
        for (int i = 0; i < argc; i++) {
                int32_t d;
                bool f = streq(args[i], "--from");
                if ((!f && !streq(args[i], "--to")) || i + 1 >= argc ||
                    date_parse(args[i + 1], &d) < 0)
                        return -EINVAL;
                if (f)
                        *from = (int64_t)d * DAY_MS - CST_MS;
                else
                        *to = (int64_t)(d + 1) * DAY_MS - CST_MS;
                i++;
        }
        return *from < *to ? 0 : -EINVAL;
}

int ctl_report(const CtlArgs *a, const Config *cfg, int argc, char **args)
{
        static const char usage[] = "Usage: hearthctl report --by rule|town|cadre|department "
                                    "[--from YYYY-MM-DD] [--to YYYY-MM-DD] "
                                    "[--format text|json|csv|html]\n";
        const char *by = a->by ? a->by : "";
        if (streq(by, "rule") && argc == 0)
                return report_by_rule(a, cfg);
        const char *format = a->format ? a->format : a->json ? "json" : "text";
        ReportOptions o = {.now_ms = clock_wall_ms(), .visit_interval_ms = cfg->visit_interval_ms};
        if (streq(by, "town"))
                o.by = REPORT_BY_TOWN;
        else if (streq(by, "cadre"))
                o.by = REPORT_BY_CADRE;
        else if (streq(by, "department"))
                o.by = REPORT_BY_DEPARTMENT;
        else {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        if (parse(argc, args, &o.from_ms, &o.to_ms) < 0 ||
            (!streq(format, "text") && !streq(format, "json") && !streq(format, "csv") &&
             !streq(format, "html"))) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        Diag *d = diag_new();
        RuleSet *rs = NULL;
        Redis *redis = NULL;
        Store *store = NULL;
        Report *r = NULL;
        json_t *rep = NULL;
        int ret = EXIT_FAILURE;
        ExprFloorLine *lines = calloc(cfg->n_floor_lines + 1, sizeof(ExprFloorLine));
        if (!d || !lines)
                goto out;
        if (rules_load_dir(cfg->rules_dir, cfg, &rs, d) < 0) {
                diag_print(d, stderr, "hearthctl: ");
                goto out;
        }
        rules_floor_lines(cfg, lines, cfg->n_floor_lines);
        o.rules = rs;
        o.lines = lines;
        o.n_lines = cfg->n_floor_lines;
        if (!(r = report_new(&o)) || !(store = ctl_store(a, cfg, &redis)))
                goto out;
        if (scan_into(store, r) < 0) {
                fprintf(stderr, "hearthctl: report: %s\n", store_errstr(store));
                goto out;
        }
        if (!(rep = report_json(r)))
                goto out;
        if (streq(format, "json")) {
                json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
                printf("\n");
        } else if (streq(format, "csv"))
                write_csv(rep);
        else if (streq(format, "html"))
                write_html(rep);
        else
                write_text(rep);
        ret = EXIT_SUCCESS;
out:
        json_decref(rep);
        report_free(r);
        store_free(store);
        redis_free(redis);
        rules_free(rs);
        free(lines);
        diag_free(d);
        return ret;
}
