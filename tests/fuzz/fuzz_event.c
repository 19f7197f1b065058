/* Fuzz target: the event decoder (event_decode) over the shipped schemas.
 *
 * The input is one Kafka message value. Oracles (tests/fuzz/README.md):
 * - never crashes (ASan, UBSan);
 * - accepts only what a strict JSON parser accepts: an accepted payload is
 *   one RFC 8259 JSON text in UTF-8 (an independent recogniser, fuzz_util.h);
 * - money is exact or rejected: every money field of an accepted event (found
 *   from the schemas' "$ref": "#/$defs/money", not from event.c's table)
 *   converts to fen; the literal as written names exactly fen / 100 (at most
 *   17 significant digits, i.e. a double's rendering, that round to fen / 100
 *   at 15 digits: 12.339999999999999 is 1234 fen, 1e-400 is not 0); and
 *   money_to_json(fen) dumped with JSON_REAL_PRECISION(15) converts back to
 *   the same fen;
 * - an accepted event dumped (as hearth stores it) decodes again to the same
 *   event, also through event_from_json();
 * - the verdict is deterministic, the Kafka key must equal the subject, and
 *   a rejection gives a non-empty one-line reason. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>

#include "event.h"
#include "fuzz_util.h"
#include "money.h"
#include "schema.h"

#define MAX_BYTES (1 << 20)
#define MAX_MONEY 32

/* A money field: the path below "data"; "*" stands for any array index. */
typedef struct {
        unsigned n;
        char comp[4][FJ_MAX_KEY + 1];
} MoneyPath;

static SchemaSet *schemas;
static EventDecoder *decoder;
static struct {
        MoneyPath paths[MAX_MONEY];
        size_t n;
} money[_EV_MAX];

/* Collects the money fields of schema s (within document doc) below path. */
static void collect_money(const json_t *doc, const json_t *s, MoneyPath *path, int t,
                          unsigned depth)
{
        if (!json_is_object(s) || depth > 8)
                return;
        const char *ref = json_string_value(json_object_get(s, "$ref"));
        if (ref && strcmp(ref, "#/$defs/money") == 0) {
                if (money[t].n < MAX_MONEY)
                        money[t].paths[money[t].n++] = *path;
                return;
        }
        if (ref && strncmp(ref, "#/$defs/", 8) == 0)
                collect_money(doc, json_object_get(json_object_get(doc, "$defs"), ref + 8), path, t,
                              depth + 1);
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(s, "properties"), k, v) {
                if (path->n >= 4 || strlen(k) > FJ_MAX_KEY)
                        continue;
                snprintf(path->comp[path->n++], FJ_MAX_KEY + 1, "%s", k);
                collect_money(doc, v, path, t, depth + 1);
                path->n--;
        }
        json_t *items = json_object_get(s, "items");
        if (items && path->n < 4) {
                snprintf(path->comp[path->n++], FJ_MAX_KEY + 1, "*");
                collect_money(doc, items, path, t, depth + 1);
                path->n--;
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        char dir[4096];
        schemas = fuzz_load_schemas("fuzz_event");
        fuzz_path("schemas", dir, sizeof(dir));
        decoder = event_decoder_new(schemas, MAX_BYTES);
        if (!decoder)
                abort();
        for (int t = 0; t < _EV_MAX; t++) {
                char path[4200];
                snprintf(path, sizeof(path), "%s/%s.json", dir, event_type_name(t));
                json_t *doc = json_load_file(path, 0, NULL);
                MoneyPath p = {0};
                collect_money(doc, doc, &p, t, 0);
                json_decref(doc);
        }
        /* The schemas must declare the money of at least the relief payment. */
        if (money[EV_RELIEF_PAID].n == 0)
                abort();
        return 0;
}

/* Whether the literal's path is data.<p> (with "*" matching an index). */
static bool path_matches(const FjNumber *num, const MoneyPath *p)
{
        if (num->n != p->n + 1 || num->comp[0].is_index || strcmp(num->comp[0].key, "data") != 0)
                return false;
        for (unsigned i = 0; i < p->n; i++) {
                const FjComp *c = &num->comp[i + 1];
                if (strcmp(p->comp[i], "*") == 0 ? !c->is_index
                                                 : c->is_index || strcmp(c->key, p->comp[i]) != 0)
                        return false;
        }
        return true;
}

/* The value at the literal's concrete path in root. */
static const json_t *value_at(const json_t *root, const FjNumber *num)
{
        const json_t *v = root;
        for (unsigned i = 0; v && i < num->n; i++)
                v = num->comp[i].is_index ? json_array_get(v, num->comp[i].index)
                                          : json_object_get(v, num->comp[i].key);
        return v;
}

static void check_money(const Event *ev, const Fj *fj)
{
        for (size_t i = 0; i < fj->n_nums; i++) {
                const FjNumber *num = &fj->nums[i];
                bool is_money = false;
                for (size_t m = 0; m < money[ev->type].n && !is_money; m++)
                        is_money = path_matches(num, &money[ev->type].paths[m]);
                if (!is_money)
                        continue;
                const json_t *v = value_at(ev->root, num);
                int64_t fen = -1;
                const char *why = NULL;
                ORACLE(v && money_from_json(v, &fen, &why) == 0,
                       "accepted money field %.*s is not money: %s", (int)num->len, num->text,
                       why ? why : "absent");
                ORACLE(fen >= 0 && fen <= MONEY_MAX_FEN, "fen %lld out of range", (long long)fen);
                ORACLE(decimal_names_fen(num->text, num->len, fen),
                       "money literal %.*s accepted as %lld fen", (int)num->len, num->text,
                       (long long)fen);

                /* fen -> JSON (as hearth writes alerts) -> fen. */
                json_t *j = money_to_json(fen);
                char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
                ORACLE(s, "money_to_json(%lld) does not dump", (long long)fen);
                ORACLE(decimal_is_fen(s, strlen(s), fen), "money_to_json(%lld) dumps as %s",
                       (long long)fen, s);
                json_t *back = json_loads(s, JSON_DECODE_ANY, NULL);
                int64_t fen2 = -1;
                ORACLE(back && money_from_json(back, &fen2, &why) == 0 && fen2 == fen,
                       "fen %lld -> %s -> %lld", (long long)fen, s, (long long)fen2);
                char f[64];
                money_format(fen, f, sizeof(f));
                ORACLE(decimal_is_fen(f, strlen(f), fen), "money_format(%lld) = %s", (long long)fen,
                       f);
                json_decref(back);
                free(s);
                json_decref(j);
        }
        /* event_fen() of the decoder's own table agrees with the literal. */
        for (size_t m = 0; m < money[ev->type].n; m++) {
                const MoneyPath *p = &money[ev->type].paths[m];
                char dotted[300] = "";
                bool plain = true;
                for (unsigned i = 0; i < p->n; i++) {
                        plain = plain && strcmp(p->comp[i], "*") != 0;
                        snprintf(dotted + strlen(dotted), sizeof(dotted) - strlen(dotted), "%s%s",
                                 i ? "." : "", p->comp[i]);
                }
                const json_t *v = json_object_get(ev->data, p->comp[0]);
                for (unsigned i = 1; plain && v && i < p->n; i++)
                        v = json_object_get(v, p->comp[i]);
                int64_t fen;
                const char *why;
                if (plain && v && money_from_json(v, &fen, &why) == 0)
                        ORACLE(event_fen(ev, dotted) == fen, "event_fen(%s)", dotted);
        }
}

static void check_rejection(int r, const Event *ev, const char *err)
{
        ORACLE(r == -EINVAL, "event_decode returned %d", r);
        ORACLE(err[0] != '\0', "rejection without a reason");
        ORACLE(!strchr(err, '\n'), "reason has a newline: %s", err);
        ORACLE(!ev->root && !ev->data && !ev->subject, "rejected event not zeroed");
}

/* An accepted event, stored and read back, is the same event. */
static void check_redecode(const Event *ev)
{
        char err[512];
        Event ev2;
        char *s = json_dumps(ev->root, JSON_COMPACT | JSON_REAL_PRECISION(15));
        ORACLE(s, "accepted event does not dump");
        int r = event_decode(decoder, ev->subject, strlen(ev->subject), s, strlen(s), &ev2, err,
                             sizeof(err));
        ORACLE(r == 0, "dumped event rejected: %s: %s", err, s);
        ORACLE(ev2.type == ev->type && ev2.date == ev->date && strcmp(ev2.id, ev->id) == 0 &&
                   strcmp(ev2.source, ev->source) == 0 && strcmp(ev2.subject, ev->subject) == 0,
               "dumped event decodes differently");
        ORACLE(json_equal(ev2.root, ev->root), "dumped event is another document");
        for (size_t m = 0; m < money[ev->type].n; m++) {
                char dotted[300] = "";
                const MoneyPath *p = &money[ev->type].paths[m];
                for (unsigned i = 0; i < p->n; i++)
                        snprintf(dotted + strlen(dotted), sizeof(dotted) - strlen(dotted), "%s%s",
                                 i ? "." : "", p->comp[i]);
                ORACLE(event_fen(&ev2, dotted) == event_fen(ev, dotted), "fen of %s changed",
                       dotted);
        }
        event_done(&ev2);
        free(s);

        /* The pending-event path: already parsed. */
        r = event_from_json(decoder, json_deep_copy(ev->root), &ev2, err, sizeof(err));
        ORACLE(r == 0 && ev2.type == ev->type && ev2.date == ev->date,
               "event_from_json of an accepted event: %s", err);
        event_done(&ev2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[512], err2[512];
        Event ev, ev2;

        /* The Kafka key: the subject as our own parse sees it, so that the
         * decoder can accept; "H1" when there is none. */
        json_t *pre = json_loadb((const char *)data, size, 0, NULL);
        const char *subj = json_string_value(json_object_get(pre, "subject"));
        char *key = strdup(subj ? subj : "H1");
        size_t keylen = strlen(key);
        json_decref(pre);

        err[0] = '\0';
        int r = event_decode(decoder, key, keylen, data, size, &ev, err, sizeof(err));
        err2[0] = '\0';
        int r2 = event_decode(decoder, key, keylen, data, size, &ev2, err2, sizeof(err2));
        ORACLE(r == r2 && strcmp(err, err2) == 0, "verdict not deterministic: %d %s / %d %s", r,
               err, r2, err2);
        if (r2 == 0)
                event_done(&ev2);

        if (r < 0) {
                check_rejection(r, &ev, err);
        } else {
                Fj *fj = malloc(sizeof(Fj));
                if (!fj)
                        abort();
                ORACLE(r == 0, "event_decode returned %d", r);
                ORACLE(fj_parse(fj, data, size), "accepted a payload that is not strict JSON");
                ORACLE(json_is_object(ev.root) && json_is_object(ev.data), "root or data");
                ORACLE(ev.type < _EV_MAX && ev.id && ev.source && ev.subject, "event fields");
                ORACLE(strcmp(event_type_name(ev.type),
                              json_string_value(json_object_get(ev.root, "type"))) == 0,
                       "type");
                ORACLE(household_id_valid(ev.subject, strlen(ev.subject)), "subject %s",
                       ev.subject);
                ORACLE(keylen == strlen(ev.subject) && memcmp(key, ev.subject, keylen) == 0,
                       "accepted with a key that is not the subject");
                check_money(&ev, fj);
                check_redecode(&ev);

                /* Another key is refused. */
                r2 = event_decode(decoder, "X", 1, data, size, &ev2, err2, sizeof(err2));
                if (keylen == 1 && key[0] == 'X')
                        ORACLE(r2 == 0, "same key refused");
                else
                        ORACLE(r2 == -EINVAL && strncmp(err2, "key:", 4) == 0,
                               "a wrong key is accepted");
                if (r2 == 0)
                        event_done(&ev2);
                event_done(&ev);
                free(fj);
        }
        free(key);
        return 0;
}
