/* Fuzz target: the Kafka binding of the event decoder (event_decode_message)
 * over the shipped schemas: headers, content mode, binary-mode attributes.
 *
 * Input format (the binding fixtures' tests/fixtures/events/binary/<type>
 * .headers, a blank line, then .value): header lines "name=value" ending in
 * '\n' (a line without '=' is a header without a value), then an empty
 * line, then the message value (all remaining bytes). Without the empty line
 * the message has no value. The Kafka key is the first ce_subject header's
 * value, else "H1".
 *
 * Oracles (tests/fuzz/README.md):
 * - never crashes (ASan, UBSan); the verdict and reason are deterministic;
 * - a rejection has a non-empty one-line reason without control bytes; in
 *   binary mode it names a header, the value, data or the key;
 * - the content mode is the binding's: an accepted event is binary exactly
 *   when there are ce_ headers and no application/cloudevents content type;
 * - a structured-mode message decodes as its value alone does (headers other
 *   than content-type change nothing, not even the reason);
 * - a well-formed binary-mode message (attribute headers unique, lower-case,
 *   valid UTF-8; the value one JSON object) has the verdict of its
 *   structured equivalent built from the same attributes and the same data
 *   text, and when accepted is the same event: same document, type, date,
 *   id, source, subject and dedup key;
 * - an accepted binary event, dumped as hearth stores it, decodes again to
 *   the same event. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <strings.h>

#include "event.h"
#include "fuzz_util.h"
#include "macro.h"
#include "schema.h"

#define MAX_BYTES (1 << 20)
#define MAX_LINES 128

static SchemaSet *schemas;
static EventDecoder *decoder;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        schemas = fuzz_load_schemas("fuzz_headers");
        decoder = event_decoder_new(schemas, MAX_BYTES);
        if (!decoder)
                abort();
        return 0;
}

/* The message parsed from the input: names are copies (NUL-terminated),
 * values point into the input. */
typedef struct {
        char *names[MAX_LINES];
        EventHeader h[MAX_LINES];
        size_t n;
        const uint8_t *value;
        size_t len;
        char key[300];
} Input;

static void input_parse(const uint8_t *data, size_t size, Input *in)
{
        size_t i = 0;
        memset(in, 0, sizeof(*in));
        while (i < size) {
                const uint8_t *nl = memchr(data + i, '\n', size - i);
                if (!nl) /* a last line without '\n': a header, and no value */
                        nl = data + size;
                size_t l = (size_t)(nl - (data + i));
                if (l == 0 && nl < data + size) { /* the empty line */
                        in->value = data + i + 1;
                        in->len = size - i - 1;
                        break;
                }
                if (in->n < MAX_LINES) {
                        const uint8_t *eq = memchr(data + i, '=', l);
                        size_t nlen = eq ? (size_t)(eq - (data + i)) : l;
                        char *name = fuzz_strndup(data + i, nlen);
                        in->names[in->n] = name;
                        in->h[in->n].name = name; /* stops at a NUL in the name */
                        in->h[in->n].value = eq ? eq + 1 : NULL;
                        in->h[in->n].len = eq ? l - nlen - 1 : 0;
                        in->n++;
                }
                i += l + 1;
        }
        snprintf(in->key, sizeof(in->key), "H1");
        for (size_t k = 0; k < in->n; k++)
                if (strcmp(in->h[k].name, "ce_subject") == 0 && in->h[k].value) {
                        size_t l =
                            in->h[k].len < sizeof(in->key) - 1 ? in->h[k].len : sizeof(in->key) - 1;
                        memcpy(in->key, in->h[k].value, l);
                        in->key[l] = '\0';
                        break;
                }
}

static void input_free(Input *in)
{
        for (size_t k = 0; k < in->n; k++)
                free(in->names[k]);
}

static int decode(const Input *in, size_t n_headers, Event *ev, char *err, size_t errlen)
{
        EventMessage m = {.key = in->key,
                          .keylen = strlen(in->key),
                          .headers = in->h,
                          .n_headers = n_headers,
                          .value = in->value,
                          .len = in->len};
        err[0] = '\0';
        return event_decode_message(decoder, &m, ev, err, errlen);
}

static bool ce_name(const char *name)
{
        return strncasecmp(name, "ce_", 3) == 0;
}

/* What the binding says, computed apart from event.c: is the message
 * binary, are the headers within the limits, is there at most one
 * content-type. */
typedef struct {
        bool binary, limits_ok, one_ctype;
        const EventHeader *ctype;
} Mode;

static Mode mode_of(const Input *in)
{
        Mode m = {.limits_ok = in->n <= EVENT_MAX_HEADERS, .one_ctype = true};
        bool has_ce = false;
        for (size_t k = 0; k < in->n; k++) {
                const EventHeader *h = &in->h[k];
                if (strlen(h->name) > EVENT_MAX_HEADER_NAME ||
                    (h->value && h->len > EVENT_MAX_HEADER_VALUE))
                        m.limits_ok = false;
                has_ce = has_ce || ce_name(h->name);
                if (strcasecmp(h->name, "content-type") == 0) {
                        m.one_ctype = m.one_ctype && !m.ctype;
                        m.ctype = h;
                }
        }
        bool ce_type = m.ctype && m.ctype->value && m.ctype->len >= 23 &&
                       strncasecmp(m.ctype->value, "application/cloudevents", 23) == 0;
        m.binary = has_ce && !ce_type;
        return m;
}

/* A header value usable as a JSON string: present, no NUL, UTF-8. */
static bool value_clean(const EventHeader *h)
{
        return h->value && !memchr(h->value, '\0', h->len) && fuzz_utf8_valid(h->value, h->len);
}

/* The structured event that a well-formed binary message stands for (the
 * caller frees it), or NULL when the message is not well formed. */
static char *structured_twin(const Input *in, const Mode *mode)
{
        if (!mode->limits_ok || !mode->one_ctype || !in->value)
                return NULL;
        size_t i = 0;
        while (i < in->len && (in->value[i] == ' ' || in->value[i] == '\t' ||
                               in->value[i] == '\n' || in->value[i] == '\r'))
                i++;
        if (i >= in->len || in->value[i] != '{')
                return NULL;
        Fj *fj = malloc(sizeof(Fj));
        if (!fj)
                abort();
        bool json = fj_parse(fj, in->value, in->len);
        free(fj);
        if (!json)
                return NULL;
        json_t *attrs = json_object();
        for (size_t k = 0; k < in->n; k++) {
                const EventHeader *h = &in->h[k];
                if (!ce_name(h->name))
                        continue;
                const char *a = h->name + 3;
                size_t al = strlen(a);
                bool ok = strncmp(h->name, "ce_", 3) == 0 && al >= 1 && al <= 20 &&
                          strcmp(a, "data") != 0 && strcmp(a, "datacontenttype") != 0 &&
                          !json_object_get(attrs, a) && value_clean(h);
                for (size_t c = 0; ok && c < al; c++)
                        ok = (a[c] >= 'a' && a[c] <= 'z') || (a[c] >= '0' && a[c] <= '9');
                if (!ok) {
                        json_decref(attrs);
                        return NULL;
                }
                json_object_set_new(attrs, a, json_stringn(h->value, h->len));
        }
        if (mode->ctype) {
                if (!value_clean(mode->ctype)) {
                        json_decref(attrs);
                        return NULL;
                }
                json_object_set_new(attrs, "datacontenttype",
                                    json_stringn(mode->ctype->value, mode->ctype->len));
        }
        static const char *const required[] = {"specversion", "id", "source", "type", "subject"};
        for (size_t r = 0; r < 5; r++)
                if (!json_object_get(attrs, required[r])) {
                        json_decref(attrs);
                        return NULL;
                }
        /* The attributes' text, its closing brace replaced by the data. */
        char *a = json_dumps(attrs, JSON_COMPACT);
        json_decref(attrs);
        ORACLE(a, "attributes do not dump");
        size_t al = strlen(a), cap = al + in->len + 16;
        char *text = malloc(cap);
        if (!text)
                abort();
        memcpy(text, a, al - 1);
        size_t n = al - 1;
        n += (size_t)snprintf(text + n, cap - n, ",\"data\":");
        memcpy(text + n, in->value, in->len);
        n += in->len;
        text[n++] = '}';
        text[n] = '\0';
        free(a);
        return text;
}

static bool same_event(const Event *a, const Event *b)
{
        return a->type == b->type && a->date == b->date && strcmp(a->id, b->id) == 0 &&
               strcmp(a->source, b->source) == 0 && strcmp(a->subject, b->subject) == 0 &&
               event_dedup_hash(a->source, a->id) == event_dedup_hash(b->source, b->id) &&
               json_equal(a->root, b->root);
}

static void check_reason(const char *err, bool binary)
{
        ORACLE(err[0] != '\0', "rejection without a reason");
        for (const unsigned char *p = (const unsigned char *)err; *p; p++)
                ORACLE(*p >= 0x20 && *p != 0x7f, "control byte 0x%02x in reason: %s", *p, err);
        if (binary) {
                static const char *const named[] = {"header ", "headers:", "value:", "data",
                                                    "key:"};
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(named) && !ok; i++)
                        ok = strncmp(err, named[i], strlen(named[i])) == 0;
                ORACLE(ok, "binary-mode reason names no header or field: %s", err);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Input in;
        char err[512], err2[512];
        Event ev, ev2;

        input_parse(data, size, &in);
        Mode mode = mode_of(&in);

        int r = decode(&in, in.n, &ev, err, sizeof(err));
        int r2 = decode(&in, in.n, &ev2, err2, sizeof(err2));
        ORACLE(r == r2 && strcmp(err, err2) == 0, "verdict not deterministic: %d %s / %d %s", r,
               err, r2, err2);
        if (r2 == 0)
                event_done(&ev2);

        if (r < 0) {
                ORACLE(r == -EINVAL, "event_decode_message returned %d", r);
                ORACLE(!ev.root && !ev.data && !ev.subject, "rejected event not zeroed");
                check_reason(err, mode.binary);
        } else {
                ORACLE(mode.limits_ok && mode.one_ctype, "headers over the limits accepted");
                ORACLE(ev.binary == mode.binary, "content mode %s, the binding says %s",
                       ev.binary ? "binary" : "structured", mode.binary ? "binary" : "structured");
                ORACLE(json_is_object(ev.root) && json_is_object(ev.data), "root or data");
                ORACLE(strcmp(in.key, ev.subject) == 0, "accepted with a key that is not the "
                                                        "subject");
                /* Stored and read back (structured, no headers): the same. */
                char *s = json_dumps(ev.root, JSON_COMPACT | JSON_REAL_PRECISION(15));
                ORACLE(s, "accepted event does not dump");
                ORACLE(event_decode(decoder, ev.subject, strlen(ev.subject), s, strlen(s), &ev2,
                                    err2, sizeof(err2)) == 0,
                       "dumped event rejected: %s", err2);
                ORACLE(ev2.type == ev.type && ev2.date == ev.date && json_equal(ev2.root, ev.root),
                       "dumped event decodes differently");
                event_done(&ev2);
                free(s);
        }

        /* Structured mode: the value alone decides, headers change nothing. */
        if (!mode.binary && mode.limits_ok && mode.one_ctype &&
            !(mode.ctype && mode.ctype->value && mode.ctype->len >= 29 &&
              strncasecmp(mode.ctype->value, "application/cloudevents-batch", 29) == 0)) {
                r2 = decode(&in, 0, &ev2, err2, sizeof(err2));
                bool declared = mode.ctype && mode.ctype->value && mode.ctype->len >= 23 &&
                                strncasecmp(mode.ctype->value, "application/cloudevents", 23) == 0;
                /* Declared structured, a value without specversion gets the
                 * envelope's reason instead of "neither mode". */
                if (!declared || r == 0 || r2 == 0)
                        ORACLE(r == r2 && strcmp(err, err2) == 0,
                               "headers changed a structured verdict: %d %s / %d %s", r, err, r2,
                               err2);
                else
                        ORACLE(r == r2, "declared structured: %d %s / %d %s", r, err, r2, err2);
                if (r == 0 && r2 == 0)
                        ORACLE(same_event(&ev, &ev2), "headers changed a structured event");
                if (r2 == 0)
                        event_done(&ev2);
        }

        /* Binary mode: the structured twin from the same fields. */
        char *twin = mode.binary ? structured_twin(&in, &mode) : NULL;
        if (twin) {
                r2 = event_decode(decoder, in.key, strlen(in.key), twin, strlen(twin), &ev2, err2,
                                  sizeof(err2));
                ORACLE(r == r2, "binary %d (%s), structured twin %d (%s): %s", r, err, r2, err2,
                       twin);
                if (r == 0 && r2 == 0) {
                        ORACLE(same_event(&ev, &ev2), "binary and structured twin differ: %s",
                               twin);
                        ORACLE(ev.binary && !ev2.binary, "mode flags");
                }
                if (r2 == 0)
                        event_done(&ev2);
                free(twin);
        }
        if (r == 0)
                event_done(&ev);
        input_free(&in);
        return 0;
}
