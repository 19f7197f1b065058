#include "event.h"

#include <errno.h>
#include <stdio.h>
#include "macro.h"
#include "money.h"

static const struct {
        const char *name;
        const char *money[4]; /* money fields of data, dotted paths */
        const char *date;     /* the data field that dates the event */
} types[_EV_MAX] = {
    [EV_HOUSEHOLD_REGISTERED] = {"household.registered", {"income_last_year.disposable"}},
    [EV_HOUSEHOLD_REMOVED] = {"household.removed", {NULL}},
    [EV_ASSISTANCE_CHANGED] = {"civil.assistance.changed", {"monthly_amount"}, "effective"},
    [EV_RELIEF_PAID] = {"civil.relief.paid", {"amount"}, "paid_on"},
    [EV_INCOME_VERIFIED] = {"civil.income.verified", {"disposable"}},
    [EV_CLAIM_SETTLED] = {"medical.claim.settled",
                          {"total", "fund_paid", "out_of_pocket"},
                          "settled_on"},
    [EV_DISASTER_REPORTED] = {"disaster.loss.reported",
                              {"property_loss", "income_loss"},
                              "occurred_on"},
    [EV_ACCIDENT_REPORTED] = {"accident.reported", {"medical_cost", "income_loss"}, "occurred_on"},
    [EV_NEED_REPORTED] = {"need.reported", {NULL}},
    [EV_NEED_RESOLVED] = {"need.resolved", {NULL}},
    [EV_EXPENSE_REPORTED] = {"expense.reported", {"amount"}, "incurred_on"},
    [EV_VISIT_RECORDED] = {"visit.recorded", {NULL}, "visited_on"},
    [EV_ALERT_ACKNOWLEDGED] = {"alert.acknowledged", {NULL}},
    [EV_MEASURE_APPLIED] = {"measure.applied", {"amount"}, "applied_on"},
    [EV_ALERT_RESOLVED] = {"alert.resolved", {NULL}},
    [EV_SATISFACTION_RATED] = {"satisfaction.rated", {NULL}},
};

struct EventDecoder {
        const SchemaSet *schemas;
        const Schema *envelope;
        const Schema *data[_EV_MAX];
        size_t max_bytes;
};

const char *event_type_name(EventType t)
{
        return t < _EV_MAX ? types[t].name : "?";
}

int event_type_from_name(const char *s)
{
        for (int i = 0; i < _EV_MAX; i++)
                if (streq(types[i].name, s))
                        return i;
        return -EINVAL;
}

int event_decoder_check(const SchemaSet *schemas, char *err, size_t errlen)
{
        if (!schema_set_get(schemas, "cloudevent")) {
                snprintf(err, errlen, "schema 'cloudevent' (cloudevent.json) is missing");
                return -ENOENT;
        }
        for (int i = 0; i < _EV_MAX; i++)
                if (!schema_set_get(schemas, types[i].name)) {
                        snprintf(err, errlen, "schema of input type '%s' (%s.json) is missing",
                                 types[i].name, types[i].name);
                        return -ENOENT;
                }
        return 0;
}

EventDecoder *event_decoder_new(const SchemaSet *schemas, size_t max_bytes)
{
        char err[256];
        if (event_decoder_check(schemas, err, sizeof(err)) < 0)
                return NULL;
        EventDecoder *d = calloc(1, sizeof(EventDecoder));
        if (!d)
                return NULL;
        d->schemas = schemas;
        d->envelope = schema_set_get(schemas, "cloudevent");
        for (int i = 0; i < _EV_MAX; i++)
                d->data[i] = schema_set_get(schemas, types[i].name);
        d->max_bytes = max_bytes;
        return d;
}

EventDecoder *event_decoder_free(EventDecoder *d)
{
        free(d);
        return NULL;
}

void event_done(Event *ev)
{
        if (ev->root)
                json_decref(ev->root);
        *ev = (Event){0};
}

bool household_id_valid(const char *s, size_t len)
{
        if (len < 1 || len > 64)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* Days from civil date (proleptic Gregorian); Howard Hinnant's algorithm. */
static int32_t days_from_civil(int y, int m, int d)
{
        y -= m <= 2;
        int era = (y >= 0 ? y : y - 399) / 400;
        int yoe = y - era * 400;
        int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
        z += 719468;
        int era = (z >= 0 ? z : z - 146096) / 146097;
        int doe = z - era * 146097;
        int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp + (mp < 10 ? 3 : -9);
        *y = yoe + era * 400 + (*m <= 2);
}

int date_parse(const char *s, int32_t *days)
{
        int v[3] = {0}, widths[3] = {4, 2, 2};
        const char *p = s;
        for (int f = 0; f < 3; f++) {
                for (int i = 0; i < widths[f]; i++, p++) {
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        v[f] = v[f] * 10 + (*p - '0');
                }
                if (f < 2 && *p++ != '-')
                        return -EINVAL;
        }
        if (v[1] < 1 || v[1] > 12 || v[2] < 1)
                return -EINVAL;
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
        if (v[2] > mdays[v[1] - 1] + (v[1] == 2 && leap))
                return -EINVAL;
        *days = days_from_civil(v[0], v[1], v[2]);
        return 0;
}

void date_format(int32_t days, char *buf, size_t len)
{
        int y, m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

int date_year(int32_t days)
{
        int y, m, d;
        civil_from_days(days, &y, &m, &d);
        return y;
}

int date_month(int32_t days)
{
        int y, m, d;
        civil_from_days(days, &y, &m, &d);
        return m;
}

uint64_t event_dedup_hash(const char *source, const char *id)
{
        /* FNV-1a's 64-bit offset basis is 14695981039346656037 (it was
         * written one digit short, so this was not the FNV-1a of the header). */
        uint64_t h = 14695981039346656037ULL;
        for (const unsigned char *p = (const unsigned char *)source; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0) * 1099511628211ULL;
        for (const unsigned char *p = (const unsigned char *)id; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        return h;
}

static const json_t *get_path(const json_t *obj, const char *path)
{
        char part[64];
        const char *p = path;
        while (obj && *p) {
                const char *dot = strchr(p, '.');
                size_t l = dot ? (size_t)(dot - p) : strlen(p);
                if (l >= sizeof(part))
                        return NULL;
                memcpy(part, p, l);
                part[l] = 0;
                obj = json_object_get(obj, part);
                p = dot ? dot + 1 : p + l;
        }
        return obj;
}

int64_t event_fen(const Event *ev, const char *field)
{
        int64_t fen = 0;
        const char *e;
        const json_t *v = get_path(ev->data, field);
        if (!v || money_from_json(v, &fen, &e) < 0)
                return 0;
        return fen;
}

const char *event_str(const Event *ev, const char *field)
{
        return json_string_value(get_path(ev->data, field));
}

bool event_bool(const Event *ev, const char *field)
{
        return json_is_true(get_path(ev->data, field));
}

int64_t event_int(const Event *ev, const char *field)
{
        const json_t *v = get_path(ev->data, field);
        return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* Replaces control characters in a reason with '?'. Why: reasons quote the
 * sender's type names, keys and tokens, and a newline in one broke the
 * one-line reason of the dead-letter header and the log (found by
 * tests/fuzz/fuzz_event.c). */
static void one_line(char *s)
{
        for (; s && *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        *s = '?';
}

/* Characters of a string value (jansson has checked its UTF-8). */
static size_t utf8_length(const json_t *v)
{
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        size_t n = json_string_length(v), chars = 0;
        for (size_t i = 0; i < n; i++)
                chars += (s[i] & 0xC0) != 0x80;
        return chars;
}

/* Bounds nesting depth and string sizes beyond what jansson enforces, so
 * that no later step meets an absurd value. */
static int walk_limits(const json_t *v, unsigned depth, const char *path, char *err, size_t errlen)
{
        char p[256];
        int r;
        if (depth > EVENT_MAX_DEPTH) {
                snprintf(err, errlen, "%s: nested deeper than %d levels", *path ? path : "event",
                         EVENT_MAX_DEPTH);
                return -EINVAL;
        }
        /* Counted in characters, as the schemas' maxLength is: a valid text
         * of 2000 Chinese characters is 6000 bytes and was refused in bytes. */
        if (json_is_string(v) && json_string_length(v) > EVENT_MAX_STRING &&
            utf8_length(v) > EVENT_MAX_STRING) {
                snprintf(err, errlen, "%s: string longer than %d characters",
                         *path ? path : "event", EVENT_MAX_STRING);
                return -EINVAL;
        }
        if (json_is_object(v)) {
                const char *k;
                json_t *c;
                json_object_foreach ((json_t *)v, k, c) {
                        snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", k);
                        if ((r = walk_limits(c, depth + 1, p, err, errlen)) < 0)
                                return r;
                }
        } else if (json_is_array(v)) {
                size_t i;
                json_t *c;
                json_array_foreach (v, i, c) {
                        snprintf(p, sizeof(p), "%s[%zu]", path, i);
                        if ((r = walk_limits(c, depth + 1, p, err, errlen)) < 0)
                                return r;
                }
        }
        return 0;
}

int event_from_json(const EventDecoder *d, json_t *root, Event *ev, char *err, size_t errlen)
{
        char e[512];
        *ev = (Event){.root = root};
        if (!json_is_object(root)) {
                snprintf(err, errlen, "not a CloudEvent: the message is not a JSON object");
                goto fail;
        }
        if (walk_limits(root, 1, "", err, errlen) < 0)
                goto fail;
        if (schema_validate(d->envelope, root, "", e, sizeof(e)) < 0) {
                snprintf(err, errlen, "not a CloudEvent: %s", e);
                goto fail;
        }
        const char *type = json_string_value(json_object_get(root, "type"));
        int t = event_type_from_name(type);
        if (t < 0) {
                snprintf(err, errlen, "type: unknown event type '%.100s'", type);
                goto fail;
        }
        ev->type = (EventType)t;
        ev->id = json_string_value(json_object_get(root, "id"));
        ev->source = json_string_value(json_object_get(root, "source"));
        ev->subject = json_string_value(json_object_get(root, "subject"));
        ev->data = json_object_get(root, "data");
        if (!household_id_valid(ev->subject, strlen(ev->subject))) {
                snprintf(err, errlen, "subject: household id must be 1 to 64 of A-Z a-z 0-9 _ -");
                goto fail;
        }
        if (schema_validate(d->data[t], ev->data, "data", e, sizeof(e)) < 0) {
                snprintf(err, errlen, "%s", e);
                goto fail;
        }
        for (int i = 0; i < 4 && types[t].money[i]; i++) {
                const json_t *v = get_path(ev->data, types[t].money[i]);
                int64_t fen;
                const char *why;
                if (v && money_from_json(v, &fen, &why) < 0) {
                        snprintf(err, errlen, "data.%s: %s", types[t].money[i], why);
                        goto fail;
                }
        }
        if (t == EV_HOUSEHOLD_REGISTERED) {
                /* Member ids must be unique: JSON Schema cannot say that. */
                const json_t *members = json_object_get(ev->data, "members");
                for (size_t i = 0; i < json_array_size(members); i++)
                        for (size_t j = 0; j < i; j++) {
                                const char *a = json_string_value(
                                    json_object_get(json_array_get(members, i), "id"));
                                const char *b = json_string_value(
                                    json_object_get(json_array_get(members, j), "id"));
                                if (a && b && streq(a, b)) {
                                        snprintf(err, errlen,
                                                 "data.members[%zu].id: duplicate member id", i);
                                        goto fail;
                                }
                        }
        }
        /* The event date: the data's own date, else the date part of time as
         * written (local date of the producer), else unknown (0). */
        const char *ds = types[t].date ? event_str(ev, types[t].date) : NULL;
        if (!ds)
                ds = json_string_value(json_object_get(root, "time"));
        int32_t days = 0;
        if (ds && date_parse(ds, &days) == 0)
                ev->date = days;
        return 0;
fail:
        json_decref(root);
        *ev = (Event){0};
        one_line(errlen > 0 ? err : NULL);
        return -EINVAL;
}

/* Refuses a real number literal with more significant digits than any
 * double's rendering (17), or one that underflows. Why: jansson turns every
 * number with a '.' or an exponent into a double and money_from_json() can
 * only check that double, so 12.3400000000000000001 and 1e-400 passed as
 * 12.34 and 0 (found by tests/fuzz/fuzz_event.c). What remains is at most a
 * double's rendering (jansson's default prints 38600.01 as
 * 38600.010000000002), which rounds at 15 digits to the amount that
 * money_from_json() finds. s is a payload jansson accepted: outside strings,
 * every '-' or digit starts a number. */
static int numbers_exact(const char *s, size_t len, char *err, size_t errlen)
{
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                if (in_str) {
                        if (s[i] == '\\')
                                i++;
                        else if (s[i] == '"')
                                in_str = false;
                        continue;
                }
                if (s[i] == '"')
                        in_str = true;
                if (s[i] != '-' && (s[i] < '0' || s[i] > '9'))
                        continue;
                size_t st = i, ndig = 0, nint = 0, first = 0, last = 0;
                bool frac = false, real = false, nonzero = false;
                long exp = 0;
                for (i += s[i] == '-'; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.');
                     i++) {
                        if (s[i] == '.') {
                                frac = real = true;
                                continue;
                        }
                        if (s[i] != '0') {
                                first = nonzero ? first : ndig;
                                last = ndig;
                                nonzero = true;
                        }
                        ndig++;
                        nint += !frac;
                }
                if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                        bool neg = false;
                        real = true;
                        if (++i < len && (s[i] == '+' || s[i] == '-'))
                                neg = s[i++] == '-';
                        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                                exp = exp < 100000 ? exp * 10 + (s[i] - '0') : exp;
                        exp = neg ? -exp : exp;
                }
                if (real && nonzero &&
                    (last - first + 1 > 17 || (long)nint - 1 - (long)first + exp < -300)) {
                        snprintf(err, errlen,
                                 "value: number %.*s%s is not exact as a double (more than "
                                 "17 significant digits, or below 1e-300)",
                                 (int)(i - st > 40 ? 40 : i - st), s + st,
                                 i - st > 40 ? "..." : "");
                        return -EINVAL;
                }
                i--;
        }
        return 0;
}

int event_decode(const EventDecoder *d, const void *key, size_t keylen, const void *payload,
                 size_t len, Event *ev, char *err, size_t errlen)
{
        *ev = (Event){0};
        if (!payload) {
                snprintf(err, errlen, "value: the message has no value");
                return -EINVAL;
        }
        if (len > d->max_bytes) {
                snprintf(err, errlen, "value: message of %zu bytes exceeds %zu", len, d->max_bytes);
                return -EINVAL;
        }
        /* JSON text has no raw NUL, but jansson skips one after a number or
         * a literal, so {"n":0<NUL>} was accepted (found by
         * tests/fuzz/fuzz_event.c). */
        const char *nul = memchr(payload, '\0', len);
        if (nul) {
                snprintf(err, errlen, "not JSON: NUL byte at offset %zu",
                         (size_t)(nul - (const char *)payload));
                return -EINVAL;
        }
        json_error_t je;
        json_t *root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
                snprintf(err, errlen, "not JSON: %s at line %d column %d", je.text, je.line,
                         je.column);
                one_line(errlen > 0 ? err : NULL);
                return -EINVAL;
        }
        if (numbers_exact(payload, len, err, errlen) < 0) {
                json_decref(root);
                return -EINVAL;
        }
        int r = event_from_json(d, root, ev, err, errlen);
        if (r < 0)
                return r;
        if (!key || keylen != strlen(ev->subject) || memcmp(key, ev->subject, keylen) != 0) {
                snprintf(err, errlen, "key: the Kafka key must be the household id (subject)");
                event_done(ev);
                return -EINVAL;
        }
        return 0;
}
