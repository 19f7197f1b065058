/* Unit tests of the event decoder in binary content mode (the CloudEvents Kafka binding). */
/* event_decode_message(): every binary fixture is the same event as its
 * structured twin (document, ids, date, money, dedup key); every binary-mode
 * error names its header or field; the header count, name and value limits;
 * how the content mode is chosen; the same source + id in both modes is one
 * event. The fixture is in event_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "event.h"
#include "macro.h"

#include "event_fixture.h"

#define MSG_MAX (EVENT_MAX_HEADERS + 8)

/* A Kafka message under construction: headers (names and values owned),
 * value and key. */
typedef struct {
        char *name[MSG_MAX];
        char *value[MSG_MAX]; /* NULL: a header without a value */
        size_t len[MSG_MAX];
        size_t n;
        char *data; /* the message value; NULL: none */
        size_t datalen;
        char key[128];
        EventHeader h[MSG_MAX];
} Msg;

static void msg_free(Msg *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->name[i]);
                free(m->value[i]);
        }
        free(m->data);
        memset(m, 0, sizeof(*m));
}

/* Appends a header (value of len bytes; NULL for none). */
static void msg_add(Msg *m, const char *name, const char *value, size_t len)
{
        assert_true(m->n < MSG_MAX);
        m->name[m->n] = strdup(name);
        m->value[m->n] = value ? malloc(len + 1) : NULL;
        if (value) {
                memcpy(m->value[m->n], value, len);
                m->value[m->n][len] = '\0';
        }
        m->len[m->n++] = len;
}

static ssize_t msg_find(const Msg *m, const char *name)
{
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->name[i], name))
                        return (ssize_t)i;
        return -1;
}

static void msg_del(Msg *m, const char *name)
{
        ssize_t i = msg_find(m, name);
        assert_true(i >= 0);
        free(m->name[i]);
        free(m->value[i]);
        memmove(&m->name[i], &m->name[i + 1], (m->n - (size_t)i - 1) * sizeof(char *));
        memmove(&m->value[i], &m->value[i + 1], (m->n - (size_t)i - 1) * sizeof(char *));
        memmove(&m->len[i], &m->len[i + 1], (m->n - (size_t)i - 1) * sizeof(size_t));
        m->n--;
}

/* Replaces the value of header name (appends it when absent). */
static void msg_set(Msg *m, const char *name, const char *value, size_t len)
{
        if (msg_find(m, name) >= 0)
                msg_del(m, name);
        msg_add(m, name, value, len);
}

/* Deletes every ce_ header. */
static void msg_del_ce(Msg *m)
{
        for (size_t i = 0; i < m->n;)
                if (strncmp(m->name[i], "ce_", 3) == 0)
                        msg_del(m, m->name[i]);
                else
                        i++;
}

static void msg_value(Msg *m, const char *text, size_t len)
{
        free(m->data);
        m->data = text ? malloc(len + 1) : NULL;
        if (text)
                memcpy(m->data, text, len);
        m->datalen = len;
}

/* tests/fixtures/events/binary/<type>.headers ("name=value" lines) and
 * .value; the key is ce_subject. */
static void msg_load(const Fixture *f, const char *type, Msg *m)
{
        char dir[512], file[300];
        size_t len;
        memset(m, 0, sizeof(*m));
        snprintf(dir, sizeof(dir), "%s/binary", f->fixtures);
        snprintf(file, sizeof(file), "%s.headers", type);
        _cleanup_free_ char *hs = slurp(dir, file, &len);
        for (char *line = hs, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *eq = strchr(line, '=');
                assert_non_null(eq);
                *eq = '\0';
                msg_add(m, line, eq + 1, strlen(eq + 1));
        }
        snprintf(file, sizeof(file), "%s.value", type);
        m->data = slurp(dir, file, &m->datalen);
        ssize_t s = msg_find(m, "ce_subject");
        snprintf(m->key, sizeof(m->key), "%s", s >= 0 ? m->value[s] : "x");
}

static int msg_decode(const Fixture *f, Msg *m, Event *ev, char *err, size_t errlen)
{
        for (size_t i = 0; i < m->n; i++)
                m->h[i] = (EventHeader){m->name[i], m->value[i], m->len[i]};
        EventMessage em = {.key = m->key,
                           .keylen = strlen(m->key),
                           .headers = m->h,
                           .n_headers = m->n,
                           .value = m->data,
                           .len = m->datalen};
        err[0] = '\0';
        return event_decode_message(f->dec, &em, ev, err, errlen);
}

static void msg_expect_reject(const Fixture *f, Msg *m, const char *want, const char *what)
{
        Event ev;
        char err[512];
        if (msg_decode(f, m, &ev, err, sizeof(err)) != -EINVAL)
                fail_msg("%s: accepted, want '%s'", what, want);
        if (!strstr(err, want))
                fail_msg("%s: error '%s' does not contain '%s'", what, err, want);
        assert_null(ev.root);
        assert_null(strchr(err, '\n'));
}

/* Every binary fixture is the same event as its structured twin: same
 * type, ids, subject, date, money and document, and the same dedup key. */
static void test_binary_fixtures(void **state)
{
        const Fixture *f = *state;
        for (size_t i = 0; i < ELEMENTSOF(valid); i++) {
                char type[128], err[512];
                snprintf(type, sizeof(type), "%.*s", (int)(strlen(valid[i].file) - 5),
                         valid[i].file);
                Msg m;
                msg_load(f, type, &m);
                Event b, s;
                if (msg_decode(f, &m, &b, err, sizeof(err)) != 0)
                        fail_msg("binary %s: %s", type, err);
                size_t len;
                _cleanup_free_ char *text = slurp(f->fixtures, valid[i].file, &len);
                assert_int_equal(event_decode(f->dec, valid[i].subject, strlen(valid[i].subject),
                                              text, len, &s, err, sizeof(err)),
                                 0);
                assert_true(b.binary);
                assert_false(s.binary);
                assert_int_equal(b.type, valid[i].type);
                assert_int_equal(b.type, s.type);
                assert_string_equal(b.id, s.id);
                assert_string_equal(b.source, s.source);
                assert_string_equal(b.subject, s.subject);
                assert_int_equal(b.date, s.date);
                if (!json_equal(b.root, s.root)) {
                        _cleanup_free_ char *x = json_dumps(b.root, JSON_COMPACT);
                        fail_msg("%s: binary decodes to another document: %s", type, x);
                }
                assert_true(event_dedup_hash(b.source, b.id) == event_dedup_hash(s.source, s.id));
                if (valid[i].money_field)
                        assert_int_equal(event_fen(&b, valid[i].money_field), valid[i].fen);

                /* Headers that are not attributes change nothing. */
                msg_add(&m, "traceparent",
                        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 55);
                msg_add(&m, "x-empty", NULL, 0);
                Event b2;
                assert_int_equal(msg_decode(f, &m, &b2, err, sizeof(err)), 0);
                assert_true(json_equal(b2.root, s.root));
                event_done(&b2);

                /* Stored as hearth stores pending events (the structured
                 * document) and read back: the same event. */
                _cleanup_free_ char *dump = json_dumps(b.root, JSON_COMPACT);
                assert_int_equal(event_decode(f->dec, b.subject, strlen(b.subject), dump,
                                              strlen(dump), &b2, err, sizeof(err)),
                                 0);
                assert_true(json_equal(b2.root, b.root));
                event_done(&b2);
                event_done(&b);
                event_done(&s);
                msg_free(&m);
        }
}

/* One change to the binary need.reported fixture and a substring of the
 * reason it must give. */
typedef enum { OP_DEL, OP_SET, OP_ADD, OP_NULL, OP_VALUE, OP_KEY } MsgOp;
static const struct {
        MsgOp op;
        const char *name, *value, *error;
} binary_bad[] = {
    {OP_DEL, "ce_specversion", NULL, "header ce_specversion: missing"},
    {OP_DEL, "ce_id", NULL, "header ce_id: missing"},
    {OP_DEL, "ce_source", NULL, "header ce_source: missing"},
    {OP_DEL, "ce_type", NULL, "header ce_type: missing"},
    {OP_DEL, "ce_subject", NULL, "header ce_subject: missing"},
    {OP_SET, "ce_specversion", "0.3", "header ce_specversion: must equal \"1.0\""},
    {OP_SET, "ce_id", "", "header ce_id: must be at least 1"},
    {OP_SET, "ce_source", "", "header ce_source: must be at least 1"},
    {OP_SET, "ce_type", "need.unknown", "header ce_type: unknown event type 'need.unknown'"},
    {OP_SET, "ce_type", "", "header ce_type: must be at least 1"},
    {OP_SET, "ce_subject", "H 42", "header ce_subject: "},
    {OP_SET, "ce_time", "2026-03-15 20:41:13", "header ce_time: "},
    {OP_SET, "ce_time", "2026-03-15T20:41:13", "header ce_time: "},
    {OP_SET, "ce_dataschema", "", "header ce_dataschema: must be at least 1"},
    {OP_SET, "content-type", "text/plain", "header content-type: "},
    {OP_SET, "content-type", "application/json; charset=utf-8", "header content-type: "},
    {OP_ADD, "content-type", "application/json", "header content-type: appears more than once"},
    {OP_ADD, "Content-Type", "application/json", "header content-type: appears more than once"},
    {OP_ADD, "ce_id", "zlb-2", "header ce_id: appears more than once"},
    {OP_ADD, "ce_partitionkey", "H1", NULL}, /* accepted: an extension */
    {OP_ADD, "CE_ID", "zlb-2", "header CE_ID: not a CloudEvents attribute header"},
    {OP_ADD, "Ce_traceparent", "x", "header Ce_traceparent: not a CloudEvents attribute header"},
    {OP_ADD, "ce_traceParent", "x", "header ce_traceParent: not a CloudEvents attribute header"},
    {OP_ADD, "ce_", "x", "header ce_: not a CloudEvents attribute header"},
    {OP_ADD, "ce_trace-parent", "x", "header ce_trace-parent: not a CloudEvents attribute"},
    {OP_ADD, "ce_data_base64", "eA==", "header ce_data_base64: not a CloudEvents attribute"},
    {OP_ADD, "ce_abcdefghijklmnopqrstu", "x", "header ce_abcdefghijklmnopqrstu: not a CloudEv"},
    {OP_ADD, "ce_data", "{}", "header ce_data: not an attribute: the message value is the data"},
    {OP_ADD, "ce_datacontenttype", "application/json",
     "header ce_datacontenttype: not an attribute in the Kafka binding"},
    {OP_SET, "ce_source", "app/\xff", "header ce_source: value is not valid UTF-8"},
    {OP_SET, "ce_id", "\xc0\xaf", "header ce_id: value is not valid UTF-8"},
    {OP_SET, "ce_id", "\xed\xa0\x80", "header ce_id: value is not valid UTF-8"},
    {OP_SET, "ce_id", "\xf4\x90\x80\x80", "header ce_id: value is not valid UTF-8"},
    {OP_SET, "ce_id", "\xe6\xb0", "header ce_id: value is not valid UTF-8"},
    {OP_SET, "content-type", "application/\x80json", "header content-type: value is not valid"},
    {OP_NULL, "ce_id", NULL, "header ce_id: no value"},
    {OP_NULL, "content-type", NULL, "header content-type: no value"},
    {OP_VALUE, NULL, "not json", "value: not JSON: "},
    {OP_VALUE, NULL, "", "value: not JSON: "},
    {OP_VALUE, NULL, "{\"need_id\":\"N1\",\"need_id\":\"N2\"}", "value: not JSON: duplicate"},
    {OP_VALUE, NULL, "[1,2]", "value: the data of a binary-mode event must be a JSON object"},
    {OP_VALUE, NULL, "\"text\"", "value: the data of a binary-mode event must be a JSON object"},
    {OP_VALUE, NULL, "12", "value: the data of a binary-mode event must be a JSON object"},
    {OP_VALUE, NULL, "null", "value: the data of a binary-mode event must be a JSON object"},
    {OP_VALUE, NULL, "{}", "data: missing required property 'need_id'"},
    {OP_VALUE, NULL,
     "{\"need_id\":\"N1\",\"channel\":\"fax\",\"category\":\"water\",\"urgent\":true}",
     "data.channel: must be one of"},
    {OP_VALUE, NULL,
     "{\"need_id\":\"N1\",\"channel\":\"self\",\"category\":\"water\",\"urgent\":true,\"x\":1}",
     "data: unexpected property 'x'"},
    {OP_VALUE, NULL,
     "{\"need_id\":\"N1\",\"channel\":\"self\",\"category\":\"water\",\"urgent\":1."
     "00000000000000000001}",
     "value: number 1.00000000000000000001 is not exact"},
    /* A structured event sent with ce_ headers and no cloudevents media
     * type is binary: its envelope is data, and data refuses it. */
    {OP_VALUE, NULL,
     "{\"specversion\":\"1.0\",\"id\":\"n\",\"source\":\"s\",\"type\":\"need.resolved\","
     "\"subject\":\"H3311210042\",\"data\":{\"need_id\":\"N1\"}}",
     "data: "},
    {OP_KEY, NULL, "H3311210043", "key: the Kafka key must be the household id"},
    {OP_KEY, NULL, "", "key: the Kafka key must be the household id"},
    {OP_SET, "content-type", "application/cloudevents-batch+json",
     "header content-type: batched CloudEvents are not supported"},
};

static void test_binary_errors(void **state)
{
        const Fixture *f = *state;
        for (size_t i = 0; i < ELEMENTSOF(binary_bad); i++) {
                Msg m;
                char what[128];
                msg_load(f, "need.reported", &m);
                const char *n = binary_bad[i].name, *v = binary_bad[i].value;
                switch (binary_bad[i].op) {
                case OP_DEL:
                        msg_del(&m, n);
                        break;
                case OP_SET:
                        msg_set(&m, n, v, strlen(v));
                        break;
                case OP_ADD:
                        msg_add(&m, n, v, strlen(v));
                        break;
                case OP_NULL:
                        msg_set(&m, n, NULL, 0);
                        break;
                case OP_VALUE:
                        msg_value(&m, v, strlen(v));
                        break;
                case OP_KEY:
                        snprintf(m.key, sizeof(m.key), "%s", v);
                        break;
                }
                snprintf(what, sizeof(what), "case %zu (%s)", i, n ? n : v);
                if (binary_bad[i].error)
                        msg_expect_reject(f, &m, binary_bad[i].error, what);
                else {
                        Event ev;
                        char err[512];
                        if (msg_decode(f, &m, &ev, err, sizeof(err)) != 0)
                                fail_msg("%s: %s", what, err);
                        event_done(&ev);
                }
                msg_free(&m);
        }

        /* A NUL inside a value, a value with no message value at all. */
        Msg m;
        msg_load(f, "need.reported", &m);
        msg_set(&m, "ce_id", "n\0-1", 4);
        msg_expect_reject(f, &m, "header ce_id: NUL byte in the value", "NUL");
        msg_free(&m);
        msg_load(f, "need.reported", &m);
        msg_value(&m, NULL, 0);
        msg_expect_reject(f, &m, "value: the message has no value (the data of a binary-mode", "");
        msg_free(&m);
        msg_load(f, "need.reported", &m);
        msg_value(&m, "{\"need_id\":\"N\0\"}", 16);
        msg_expect_reject(f, &m, "value: not JSON: NUL byte at offset 13", "NUL in value");
        msg_free(&m);
        /* Money is checked exactly in binary mode too. */
        msg_load(f, "expense.reported", &m);
        const char *three = "{\"category\":\"disability\",\"amount\":2450.805,"
                            "\"incurred_on\":\"2026-03-10\"}";
        msg_value(&m, three, strlen(three));
        msg_expect_reject(f, &m, "data.amount: amount has more than 2 decimals", "money");
        msg_free(&m);
        /* Header names never reach a reason as raw bytes. */
        msg_load(f, "need.reported", &m);
        msg_add(&m, "ce_\n\xff", "x", 1);
        msg_expect_reject(f, &m, "header ce_??: not a CloudEvents attribute header", "raw name");
        msg_free(&m);
}

static void test_binary_limits(void **state)
{
        const Fixture *f = *state;
        Msg m;
        Event ev;
        char err[512], name[64];

        /* EVENT_MAX_HEADERS headers pass; one more does not, in either mode. */
        msg_load(f, "need.reported", &m);
        for (size_t i = m.n; i < EVENT_MAX_HEADERS; i++) {
                snprintf(name, sizeof(name), "x-%zu", i);
                msg_add(&m, name, "v", 1);
        }
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        event_done(&ev);
        msg_add(&m, "x-last", "v", 1);
        msg_expect_reject(f, &m, "headers: 65 headers, at most 64", "count");
        msg_free(&m);

        /* Name and value sizes. */
        _cleanup_free_ char *big = malloc(EVENT_MAX_HEADER_VALUE + 2);
        assert_non_null(big);
        memset(big, 'a', EVENT_MAX_HEADER_VALUE + 1);
        big[EVENT_MAX_HEADER_VALUE + 1] = '\0';
        msg_load(f, "need.reported", &m);
        msg_add(&m, "x-big", big, EVENT_MAX_HEADER_VALUE);
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        event_done(&ev);
        msg_set(&m, "x-big", big, EVENT_MAX_HEADER_VALUE + 1);
        msg_expect_reject(f, &m, "header x-big: value of 16385 bytes exceeds 16384", "value");
        msg_free(&m);
        char longname[EVENT_MAX_HEADER_NAME + 2];
        memset(longname, 'n', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        msg_load(f, "need.reported", &m);
        msg_add(&m, longname, "v", 1);
        msg_expect_reject(f, &m, "name of 257 bytes exceeds 256", "name");
        msg_expect_reject(
            f, &m, "header nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...",
            "name label");
        msg_free(&m);

        /* An extension is bounded as in structured mode: the envelope
         * schema allows 256 characters (schemas/cloudevent.json). */
        msg_load(f, "need.reported", &m);
        msg_add(&m, "ce_note", big, 256);
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        assert_int_equal(json_string_length(json_object_get(ev.root, "note")), 256);
        event_done(&ev);
        msg_set(&m, "ce_note", big, 257);
        msg_expect_reject(f, &m, "ce_note", "ext");
        msg_del(&m, "ce_note");
        msg_set(&m, "ce_id", big, 257);
        msg_expect_reject(f, &m, "header ce_id: must be at most 256", "id");
        msg_free(&m);

        /* Depth: the value is data, at level 2 as in structured mode. */
        _cleanup_free_ char *deep = nested(EVENT_MAX_DEPTH + 1);
        char *data = strstr(deep, "\"data\":") + 7;
        msg_load(f, "need.reported", &m);
        msg_value(&m, data, strlen(data) - 1);
        msg_expect_reject(f, &m, "nested deeper than 32 levels", "depth");
        msg_free(&m);

        /* Size: the value against max_bytes, as in structured mode. */
        EventDecoder *tight = event_decoder_new(f->schemas, 10);
        const Fixture small = {.schemas = f->schemas, .dec = tight, .fixtures = f->fixtures};
        msg_load(f, "need.reported", &m);
        msg_expect_reject(&small, &m, "value: message of", "size");
        msg_free(&m);
        event_decoder_free(tight);
}

/* The content mode: structured when the content type says so or when there
 * are no ce_ headers; binary when there are ce_ headers without it. */
static void test_content_mode(void **state)
{
        const Fixture *f = *state;
        size_t len;
        _cleanup_free_ char *text = slurp(f->fixtures, "need.reported.json", &len);
        Msg m;
        Event ev;
        char err[512];

        static const char *const structured_types[] = {
            "application/cloudevents+json",
            "application/cloudevents+json; charset=UTF-8",
            "Application/CloudEvents+JSON",
            "application/json", /* no ce_ headers: structured */
            "text/plain",
        };
        for (size_t i = 0; i < ELEMENTSOF(structured_types); i++) {
                msg_load(f, "need.reported", &m);
                msg_value(&m, text, len);
                msg_set(&m, "content-type", structured_types[i], strlen(structured_types[i]));
                bool cloudevents =
                    strncasecmp(structured_types[i], "application/cloudevents", 23) == 0;
                if (!cloudevents) /* ce_ headers would make it binary */
                        msg_del_ce(&m);
                else /* ce_ headers are ignored, even wrong ones */
                        msg_set(&m, "ce_id", "other", 5);
                if (msg_decode(f, &m, &ev, err, sizeof(err)) != 0)
                        fail_msg("%s: %s", structured_types[i], err);
                assert_false(ev.binary);
                assert_string_equal(ev.id, "zlb-7c1d2e90-4b1a-4f0e-9a53-0c6d1f2b8e41");
                event_done(&ev);
                msg_free(&m);
        }

        /* No headers at all: structured. */
        memset(&m, 0, sizeof(m));
        msg_value(&m, text, len);
        snprintf(m.key, sizeof(m.key), "H3311210042");
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        assert_false(ev.binary);
        event_done(&ev);
        msg_free(&m);
        /* A data object without attributes anywhere: neither mode. */
        msg_load(f, "need.reported", &m);
        while (m.n)
                msg_del(&m, m.name[0]);
        msg_expect_reject(f, &m,
                          "not a CloudEvent: the value has no specversion and the message "
                          "has no ce_ headers",
                          "neither");
        msg_add(&m, "content-type", "application/json", 16);
        msg_expect_reject(f, &m, "neither structured nor binary mode", "neither, json");
        /* Declared structured, but no specversion: the envelope says so. */
        msg_set(&m, "content-type", "application/cloudevents+json", 28);
        msg_expect_reject(f, &m, "not a CloudEvent: missing required property", "declared");
        msg_free(&m);
        /* A binary message without content-type: datacontenttype absent. */
        msg_load(f, "need.reported", &m);
        msg_del(&m, "content-type");
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        assert_true(ev.binary);
        assert_null(json_object_get(ev.root, "datacontenttype"));
        event_done(&ev);
        msg_free(&m);
}

/* The same source + id is one event whichever the mode: the dedup key. */
static void test_binary_dedup(void **state)
{
        const Fixture *f = *state;
        size_t len;
        _cleanup_free_ char *text = slurp(f->fixtures, "civil.relief.paid.json", &len);
        Msg m;
        Event b, s;
        char err[512];
        msg_load(f, "civil.relief.paid", &m);
        /* Other optional attributes and another time: still the same pair. */
        msg_del(&m, "ce_time");
        msg_add(&m, "ce_partitionkey", "H3311210001", 11);
        assert_int_equal(msg_decode(f, &m, &b, err, sizeof(err)), 0);
        assert_int_equal(event_decode(f->dec, "H3311210001", 11, text, len, &s, err, sizeof(err)),
                         0);
        assert_true(event_dedup_hash(b.source, b.id) == event_dedup_hash(s.source, s.id));
        assert_true(event_dedup_hash(b.source, b.id) ==
                    event_dedup_hash("civil-affairs/qingtian", "mz-000131"));
        event_done(&b);
        event_done(&s);
        msg_free(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_binary_fixtures), cmocka_unit_test(test_binary_errors),
            cmocka_unit_test(test_binary_limits),   cmocka_unit_test(test_content_mode),
            cmocka_unit_test(test_binary_dedup),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
