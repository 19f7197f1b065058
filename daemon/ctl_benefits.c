/* hearthctl benefits: a household's benefits statement (幸福清单, REQ-13) as text, JSON or
 * printable HTML. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "ctl.h"
#include "escape.h"
#include "event.h"
#include "household.h"
#include "lifecycle.h"
#include "macro.h"
#include "money.h"
#include "statement.h"

static const char *item_str(const json_t *it, const char *k)
{
        return json_string_value(json_object_get(it, k));
}

static int64_t yuan_fen(const json_t *v)
{
        int64_t fen = 0;
        const char *err;
        return money_from_json(v, &fen, &err) == 0 ? fen : 0;
}

static void write_text(const json_t *s, const char *period_id)
{
        char buf[40], e1[256], e3[512];
        const json_t *period = json_object_get(s, "period");
        printf("幸福清单 benefits statement of household %s, %s (%s .. %s)\n",
               item_str(s, "household_id"), period_id, item_str(period, "from"),
               item_str(period, "to"));
        printf("  %-10s  %-20s %-18s %12s  %s\n", "date", "kind", "项目", "yuan", "payer");
        size_t i;
        json_t *it;
        json_array_foreach (json_object_get(s, "items"), i, it) {
                money_format(yuan_fen(json_object_get(it, "amount")), buf, sizeof(buf));
                printf("  %-10s  %-20s %-18s %12s  %s\n", item_str(it, "date"),
                       escape_str(item_str(it, "kind"), e1, sizeof(e1)), item_str(it, "label"), buf,
                       escape_str(item_str(it, "payer"), e3, sizeof(e3)));
        }
        money_format(yuan_fen(json_object_get(s, "period_total")), buf, sizeof(buf));
        printf("  period total: %s yuan\n", buf);
        money_format(yuan_fen(json_object_get(s, "year_total")), buf, sizeof(buf));
        printf("  year total (%.4s-01-01 .. %s): %s yuan\n", item_str(period, "to"),
               item_str(period, "to"), buf);
}

/* The paper copy (线下纸质送达): one A4 page in Chinese. */
static void write_html(const json_t *s, const json_t *doc)
{
        char buf[40];
        const json_t *period = json_object_get(s, "period");
        const json_t *prof = json_object_get(doc, "profile");
        printf("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
               "<title>幸福清单</title><style>@page{size:A4;margin:2cm}"
               "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%%}"
               "td,th{border:1px solid #888;padding:4px 8px}td.n{text-align:right}"
               "</style></head><body>\n<h1>幸福清单</h1>\n<p>户号：");
        escape_html(stdout, item_str(s, "household_id"));
        printf("　乡镇（街道）：");
        escape_html(stdout, json_string_value(json_object_get(prof, "town")));
        printf("　村（社区）：");
        escape_html(stdout, json_string_value(json_object_get(prof, "village")));
        printf("</p>\n<p>统计期间：%s 至 %s</p>\n", item_str(period, "from"),
               item_str(period, "to"));
        printf("<table><tr><th>日期</th><th>项目</th><th>金额（元）</th><th>发放单位</th></tr>\n");
        size_t i;
        json_t *it;
        json_array_foreach (json_object_get(s, "items"), i, it) {
                money_format(yuan_fen(json_object_get(it, "amount")), buf, sizeof(buf));
                printf("<tr><td>%s</td><td>", item_str(it, "date"));
                escape_html(stdout, item_str(it, "label"));
                printf("</td><td class=\"n\">%s</td><td>", buf);
                escape_html(stdout, item_str(it, "payer"));
                printf("</td></tr>\n");
        }
        if (!json_array_size(json_object_get(s, "items")))
                printf("<tr><td colspan=\"4\">本期无帮扶收入记录</td></tr>\n");
        money_format(yuan_fen(json_object_get(s, "period_total")), buf, sizeof(buf));
        printf("</table>\n<p>本期合计：%s 元</p>\n", buf);
        money_format(yuan_fen(json_object_get(s, "year_total")), buf, sizeof(buf));
        printf("<p>%.4s年累计（截至 %s）：%s 元</p>\n", item_str(period, "to"),
               item_str(period, "to"), buf);
        printf("<p>如有疑问，请联系结对帮扶干部或拨打 12317 热线。</p>\n</body></html>\n");
}

/* The verb's own options: ID and --period. */
static int parse(const CtlArgs *a, const Config *cfg, int argc, char **args, const char **id,
                 StatementPeriod *p)
{
        const char *period = NULL;
        *id = NULL;
        for (int i = 0; i < argc; i++) {
                if (streq(args[i], "--period") && i + 1 < argc)
                        period = args[++i];
                else if (!*id && args[i][0] != '-')
                        *id = args[i];
                else
                        return -EINVAL;
        }
        if (!*id)
                return -EINVAL;
        char year[8];
        if (a->year && !period) {
                snprintf(year, sizeof(year), "%04d", a->year);
                period = year;
        }
        if (period)
                return statement_period_parse(period, p);
        /* The latest period that has ended. */
        statement_period_latest(clock_wall_ms(),
                                streq_ptr(cfg->benefits_period, "quarterly") ? 3 : 1, 0, p);
        return 0;
}

int ctl_benefits(const CtlArgs *a, const Config *cfg, int argc, char **args)
{
        const char *id;
        StatementPeriod p;
        const char *format = a->format ? a->format : a->json ? "json" : "text";
        if (parse(a, cfg, argc, args, &id, &p) < 0) {
                fprintf(stderr, "Usage: hearthctl benefits ID [--period YYYY-MM|YYYY-Qn|YYYY] "
                                "[--year Y] [--format text|json|html]\n");
                return EXIT_USAGE;
        }
        if (!household_id_valid(id, strlen(id))) {
                char e[256];
                fprintf(stderr, "hearthctl: '%s' is not a household id\n",
                        escape_str(id, e, sizeof(e)));
                return EXIT_USAGE;
        }
        if (!streq(format, "text") && !streq(format, "json") && !streq(format, "html")) {
                fprintf(stderr, "hearthctl: --format must be text, json or html\n");
                return EXIT_USAGE;
        }
        Redis *redis = NULL;
        Store *store = ctl_store(a, cfg, &redis);
        if (!store)
                return EXIT_FAILURE;
        json_t *s = NULL;
        StoreDump d;
        int r = store_household_dump(store, id, &d);
        json_t *doc = d.doc, *ledger = d.ledger;
        int ret = EXIT_FAILURE;
        if (r == -ENOENT) {
                fprintf(stderr, "hearthctl: household %s: no state\n", id);
                ret = EXIT_NOT_FOUND;
        } else if (r < 0) {
                fprintf(stderr, "hearthctl: household %s: %s\n", id, store_errstr(store));
        } else if (!(s = statement_build(doc, ledger, id, &p))) {
                fprintf(stderr, "hearthctl: out of memory\n");
        } else {
                if (streq(format, "json")) {
                        /* The data of the CloudEvent, as lifecycle_render() writes it. */
                        json_dumpf(s, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));
                        printf("\n");
                } else if (streq(format, "html")) {
                        write_html(s, doc);
                } else
                        write_text(s, p.id);
                ret = EXIT_SUCCESS;
        }
        json_decref(s);
        store_dump_done(&d);
        store_free(store);
        redis_free(redis);
        return ret;
}
