#include "event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "arena.h"
#include "calendar.h"
#include "jsonfast.h"
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
    [EV_DEPARTMENT_ANSWERED] = {"department.answered", {NULL}},
    [EV_AID_OFFER_REGISTERED] = {"aid.offer.registered", {"amount_per_household"}},
    [EV_AID_OFFER_WITHDRAWN] = {"aid.offer.withdrawn", {NULL}},
    [EV_AID_MATCH_ANSWERED] = {"aid.match.answered", {NULL}},
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
        arena_decref(ev->root);
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

int date_parse(const char *s, int32_t *days)
{
        return calendar_date_parse(s, strlen(s), days);
}

void date_format(int32_t days, char *buf, size_t len)
{
        calendar_date_format(days, buf, len);
}

int date_year(int32_t days)
{
        return calendar_year(days);
}

int date_month(int32_t days)
{
        return calendar_month(days);
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
 * that no later step meets an absurd value. path NULL: only whether the
 * value is within them (no paths built, err untouched); a path ("" at the
 * root): the first value beyond them named in err. */
static int walk_limits(const json_t *v, unsigned depth, const char *path, char *err, size_t errlen)
{
        char p[256];
        int r;
        if (depth > EVENT_MAX_DEPTH) {
                if (path)
                        snprintf(err, errlen, "%s: nested deeper than %d levels",
                                 *path ? path : "event", EVENT_MAX_DEPTH);
                return -EINVAL;
        }
        /* Counted in characters, as the schemas' maxLength is: a valid text
         * of 2000 Chinese characters is 6000 bytes and was refused in bytes. */
        if (json_is_string(v) && json_string_length(v) > EVENT_MAX_STRING &&
            utf8_length(v) > EVENT_MAX_STRING) {
                if (path)
                        snprintf(err, errlen, "%s: string longer than %d characters",
                                 *path ? path : "event", EVENT_MAX_STRING);
                return -EINVAL;
        }
        if (json_is_object(v)) {
                const char *k;
                json_t *c;
                json_object_foreach ((json_t *)v, k, c) {
                        if (path)
                                snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", k);
                        if ((r = walk_limits(c, depth + 1, path ? p : NULL, err, errlen)) < 0)
                                return r;
                }
        } else if (json_is_array(v)) {
                size_t i;
                json_t *c;
                json_array_foreach (v, i, c) {
                        if (path)
                                snprintf(p, sizeof(p), "%s[%zu]", path, i);
                        if ((r = walk_limits(c, depth + 1, path ? p : NULL, err, errlen)) < 0)
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
        /* The common case builds no paths; a refusal walks again to name
         * the value. */
        if (walk_limits(root, 1, NULL, NULL, 0) < 0 && walk_limits(root, 1, "", err, errlen) < 0)
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
        const json_t *time = json_object_get(root, "time");
        int32_t days = 0;
        if (ds ? date_parse(ds, &days) == 0
               : json_is_string(time) &&
                     calendar_time_parse(json_string_value(time), json_string_length(time), &days,
                                         NULL) == 0)
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

/* Case-insensitive prefix test of a byte string (not NUL-terminated). */
static bool prefix_ci(const void *s, size_t len, const char *prefix)
{
        size_t n = strlen(prefix);
        return s && len >= n && strncasecmp(s, prefix, n) == 0;
}

/* A header name as a reason may quote it: at most 64 bytes of printable
 * ASCII, anything else as '?'. Why: reasons go to a Kafka header and the
 * log, and a header name is the sender's bytes. */
static const char *header_label(const char *name, char *buf, size_t len)
{
        size_t n = 0, l = strlen(name);
        for (size_t i = 0; i < l && i < 64 && n + 1 < len; i++)
                buf[n++] = name[i] > 0x20 && name[i] < 0x7f ? name[i] : '?';
        buf[n] = '\0';
        if (l > 64 && n + 4 < len)
                memcpy(buf + n, "...", 4);
        return buf;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF
 * (what jansson accepts inside a JSON string). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                size_t k;
                uint32_t cp;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xC2 && c <= 0xDF)
                        k = 1, cp = c & 0x1F;
                else if (c >= 0xE0 && c <= 0xEF)
                        k = 2, cp = c & 0x0F;
                else if (c >= 0xF0 && c <= 0xF4)
                        k = 3, cp = c & 0x07;
                else
                        return false;
                if (n - i <= k)
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if ((s[i + j] & 0xC0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + j] & 0x3F);
                }
                if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                    (cp >= 0xD800 && cp <= 0xDFFF))
                        return false;
                i += k + 1;
        }
        return true;
}

/* The header limits (EVENT_MAX_HEADERS...), and the one content-type
 * header, in either mode. Sets *ctype (NULL when absent) and *has_ce (any
 * header named ce_..., in any case). */
static int headers_check(const EventMessage *m, const EventHeader **ctype, bool *has_ce, char *err,
                         size_t errlen)
{
        char label[80];
        *ctype = NULL;
        *has_ce = false;
        if (m->n_headers > EVENT_MAX_HEADERS) {
                snprintf(err, errlen, "headers: %zu headers, at most %d", m->n_headers,
                         EVENT_MAX_HEADERS);
                return -EINVAL;
        }
        for (size_t i = 0; i < m->n_headers; i++) {
                const EventHeader *h = &m->headers[i];
                size_t nl = strlen(h->name);
                if (nl > EVENT_MAX_HEADER_NAME) {
                        snprintf(err, errlen, "header %s: name of %zu bytes exceeds %d",
                                 header_label(h->name, label, sizeof(label)), nl,
                                 EVENT_MAX_HEADER_NAME);
                        return -EINVAL;
                }
                if (h->value && h->len > EVENT_MAX_HEADER_VALUE) {
                        snprintf(err, errlen, "header %s: value of %zu bytes exceeds %d",
                                 header_label(h->name, label, sizeof(label)), h->len,
                                 EVENT_MAX_HEADER_VALUE);
                        return -EINVAL;
                }
                *has_ce = *has_ce || prefix_ci(h->name, nl, "ce_");
                if (strcasecmp(h->name, "content-type") != 0)
                        continue;
                if (*ctype) {
                        snprintf(err, errlen, "header content-type: appears more than once");
                        return -EINVAL;
                }
                *ctype = h;
        }
        return 0;
}

/* A header value as a JSON string: present, no NUL, valid UTF-8. */
static json_t *header_string(const EventHeader *h, char *err, size_t errlen)
{
        char label[80];
        const char *why = NULL;
        if (!h->value)
                why = "no value";
        else if (memchr(h->value, '\0', h->len))
                why = "NUL byte in the value";
        else if (!utf8_valid(h->value, h->len))
                why = "value is not valid UTF-8";
        if (why) {
                snprintf(err, errlen, "header %s: %s", header_label(h->name, label, sizeof(label)),
                         why);
                return NULL;
        }
        json_t *s = json_stringn(h->value, h->len);
        if (!s)
                snprintf(err, errlen, "header %s: out of memory",
                         header_label(h->name, label, sizeof(label)));
        return s;
}

/* True for a CloudEvents attribute name as the envelope allows it: 1 to 20
 * lower-case letters or digits. */
static bool attribute_name_valid(const char *s)
{
        size_t l = strlen(s);
        if (l < 1 || l > 20)
                return false;
        for (size_t i = 0; i < l; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

/* The attributes of a binary-mode message as the members of a structured
 * event: each ce_<name> header as <name>, content-type as datacontenttype. */
static int binary_attributes(const EventMessage *m, const EventHeader *ctype, json_t *root,
                             char *err, size_t errlen)
{
        char label[80];
        for (size_t i = 0; i < m->n_headers; i++) {
                const EventHeader *h = &m->headers[i];
                if (!prefix_ci(h->name, strlen(h->name), "ce_"))
                        continue;
                const char *attr = h->name + 3;
                const char *why = NULL;
                if (strncmp(h->name, "ce_", 3) != 0 || !attribute_name_valid(attr))
                        why = "not a CloudEvents attribute header (ce_ and 1 to 20 lower-case "
                              "letters or digits)";
                else if (streq(attr, "data"))
                        why = "not an attribute: the message value is the data";
                else if (streq(attr, "datacontenttype"))
                        why = "not an attribute in the Kafka binding: the data's media type is "
                              "the content-type header";
                else if (json_object_get(root, attr))
                        why = "appears more than once";
                if (why) {
                        snprintf(err, errlen, "header %s: %s",
                                 header_label(h->name, label, sizeof(label)), why);
                        return -EINVAL;
                }
                json_t *v = header_string(h, err, errlen);
                if (!v || json_object_set_new(root, attr, v) < 0)
                        return -EINVAL;
        }
        if (ctype) {
                json_t *v = header_string(ctype, err, errlen);
                if (!v || json_object_set_new(root, "datacontenttype", v) < 0)
                        return -EINVAL;
        }
        static const char *const required[] = {"specversion", "id", "source", "type", "subject"};
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!json_object_get(root, required[i])) {
                        snprintf(err, errlen, "header ce_%s: missing", required[i]);
                        return -EINVAL;
                }
        return 0;
}

/* A reason about a binary-mode event's attribute names its header: "id: ..."
 * or "not a CloudEvent: id: ..." becomes "header ce_id: ...", and
 * datacontenttype the content-type header. Reasons about data stay. */
static void reason_to_header(const json_t *root, const char *e, char *err, size_t errlen)
{
        const char *s = e, *colon;
        if (strncmp(s, "not a CloudEvent: ", 18) == 0)
                s += 18;
        if ((colon = strstr(s, ": ")) && (size_t)(colon - s) <= 20) {
                char attr[24];
                memcpy(attr, s, (size_t)(colon - s));
                attr[colon - s] = '\0';
                if (!streq(attr, "data") && json_object_get(root, attr)) {
                        if (streq(attr, "datacontenttype"))
                                snprintf(err, errlen, "header content-type: %s", colon + 2);
                        else
                                snprintf(err, errlen, "header ce_%s: %s", attr, colon + 2);
                        return;
                }
        }
        snprintf(err, errlen, "%s", e);
}

/* Parses a message value as JSON text: no NUL, strict, exact numbers. any
 * also takes a scalar at the top. what names the value in reasons. */
static json_t *value_parse(const void *value, size_t len, bool any, const char *what, char *err,
                           size_t errlen)
{
        /* JSON text has no raw NUL, but jansson skips one after a number or
         * a literal, so {"n":0<NUL>} was accepted (found by
         * tests/fuzz/fuzz_event.c). */
        const char *nul = memchr(value, '\0', len);
        if (nul) {
                snprintf(err, errlen, "%snot JSON: NUL byte at offset %zu", what,
                         (size_t)(nul - (const char *)value));
                return NULL;
        }
        /* jsonfast takes what jansson takes (tests/fuzz/fuzz_jsonfast.c),
         * faster; what it refuses is parsed again by jansson, whose message
         * the reason quotes. */
        size_t flags = JSON_REJECT_DUPLICATES | (any ? JSON_DECODE_ANY : 0);
        json_error_t je;
        json_t *root = jsonfast_loadf(value, len, flags, NULL);
        if (!root)
                root = json_loadb(value, len, flags, &je);
        if (!root) {
                snprintf(err, errlen, "%snot JSON: %s at line %d column %d", what, je.text, je.line,
                         je.column);
                one_line(errlen > 0 ? err : NULL);
                return NULL;
        }
        if (numbers_exact(value, len, err, errlen) < 0) {
                json_decref(root);
                return NULL;
        }
        return root;
}

/* Binary content mode: the ce_ headers and content-type around the value
 * as data, built into the structured event they stand for and decoded as
 * that, so that both modes validate alike and give the same Event. */
static int decode_binary(const EventDecoder *d, const EventMessage *m, const EventHeader *ctype,
                         Event *ev, char *err, size_t errlen)
{
        char e[512];
        json_t *root = json_object();
        if (!root) {
                snprintf(err, errlen, "value: out of memory");
                return -ENOMEM;
        }
        if (binary_attributes(m, ctype, root, err, errlen) < 0)
                goto fail;
        json_t *data = value_parse(m->value, m->len, true, "value: ", err, errlen);
        if (!data)
                goto fail;
        if (!json_is_object(data)) {
                json_decref(data);
                snprintf(err, errlen,
                         "value: the data of a binary-mode event must be a JSON "
                         "object");
                goto fail;
        }
        if (json_object_set_new(root, "data", data) < 0) {
                snprintf(err, errlen, "value: out of memory");
                goto fail;
        }
        /* event_from_json() takes a reference; ours keeps the attributes
         * to name the header of a reason. */
        if (event_from_json(d, json_incref(root), ev, e, sizeof(e)) < 0) {
                reason_to_header(root, e, err, errlen);
                goto fail;
        }
        json_decref(root);
        ev->binary = true;
        return 0;
fail:
        json_decref(root);
        one_line(errlen > 0 ? err : NULL);
        return -EINVAL;
}

int event_decode_message(const EventDecoder *d, const EventMessage *m, Event *ev, char *err,
                         size_t errlen)
{
        const EventHeader *ctype;
        bool has_ce;
        int r;
        *ev = (Event){0};
        if ((r = headers_check(m, &ctype, &has_ce, err, errlen)) < 0) {
                one_line(errlen > 0 ? err : NULL);
                return r;
        }
        /* The content mode, as the Kafka binding decides it: the
         * application/cloudevents media type says structured, ce_ headers
         * say binary; without either, hearth's contract says structured. */
        bool structured_type =
            ctype && prefix_ci(ctype->value, ctype->len, "application/cloudevents");
        if (structured_type &&
            prefix_ci(ctype->value, ctype->len, "application/cloudevents-batch")) {
                snprintf(err, errlen, "header content-type: batched CloudEvents are not supported");
                return -EINVAL;
        }
        bool binary = has_ce && !structured_type;
        if (!m->value) {
                snprintf(err, errlen, "value: the message has no value%s",
                         binary ? " (the data of a binary-mode event)" : "");
                return -EINVAL;
        }
        if (m->len > d->max_bytes) {
                snprintf(err, errlen, "value: message of %zu bytes exceeds %zu", m->len,
                         d->max_bytes);
                return -EINVAL;
        }
        if (binary)
                r = decode_binary(d, m, ctype, ev, err, errlen);
        else {
                json_t *root = value_parse(m->value, m->len, false, "", err, errlen);
                if (!root)
                        return -EINVAL;
                if (json_is_object(root) && !json_object_get(root, "specversion") &&
                    !structured_type) {
                        json_decref(root);
                        snprintf(err, errlen,
                                 "not a CloudEvent: the value has no specversion and the message "
                                 "has no ce_ headers (neither structured nor binary mode)");
                        return -EINVAL;
                }
                r = event_from_json(d, root, ev, err, errlen);
        }
        if (r < 0)
                return r;
        if (!m->key || m->keylen != strlen(ev->subject) ||
            memcmp(m->key, ev->subject, m->keylen) != 0) {
                snprintf(err, errlen, "key: the Kafka key must be the household id (subject)");
                event_done(ev);
                return -EINVAL;
        }
        return 0;
}

int event_decode(const EventDecoder *d, const void *key, size_t keylen, const void *payload,
                 size_t len, Event *ev, char *err, size_t errlen)
{
        const EventMessage m = {.key = key, .keylen = keylen, .value = payload, .len = len};
        return event_decode_message(d, &m, ev, err, errlen);
}
