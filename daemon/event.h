/* Decoding one input message into a validated event: size and depth
 * limits, strict JSON, the CloudEvents envelope (structured or binary
 * content mode of the Kafka protocol binding), the JSON Schema of its type,
 * exact money and the household id. Anything wrong gives a one-line reason
 * naming the offending field or header, for the dead-letter header. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "schema.h"

typedef enum {
        EV_HOUSEHOLD_REGISTERED,
        EV_HOUSEHOLD_REMOVED,
        EV_ASSISTANCE_CHANGED,
        EV_RELIEF_PAID,
        EV_INCOME_VERIFIED,
        EV_CLAIM_SETTLED,
        EV_DISASTER_REPORTED,
        EV_ACCIDENT_REPORTED,
        EV_NEED_REPORTED,
        EV_NEED_RESOLVED,
        EV_EXPENSE_REPORTED,
        EV_VISIT_RECORDED,
        EV_ALERT_ACKNOWLEDGED,
        EV_MEASURE_APPLIED,
        EV_ALERT_RESOLVED,
        EV_SATISFACTION_RATED,
        EV_DEPARTMENT_ANSWERED,
        EV_AID_OFFER_REGISTERED, /* subject is the offer id (aidstore.h) */
        EV_AID_OFFER_WITHDRAWN,
        EV_AID_MATCH_ANSWERED,
        _EV_MAX,
} EventType;

typedef struct {
        EventType type;
        const char *id;      /* CloudEvents id (borrowed from root) */
        const char *source;  /* CloudEvents source */
        const char *subject; /* household id */
        int32_t date;        /* event date in days since 1970-01-01 (see event_date) */
        json_t *root;        /* the whole event, owned */
        json_t *data;        /* borrowed from root */
        bool binary;         /* arrived in binary content mode (ce_ headers) */
} Event;

#define EVENT_MAX_DEPTH 32
#define EVENT_MAX_STRING 4096
/* Kafka headers of one input message: at most this many, names of at most
 * EVENT_MAX_HEADER_NAME bytes, values of at most EVENT_MAX_HEADER_VALUE
 * bytes (EVENT_MAX_STRING characters of UTF-8 at 4 bytes each). */
#define EVENT_MAX_HEADERS 64
#define EVENT_MAX_HEADER_NAME 256
#define EVENT_MAX_HEADER_VALUE (4 * EVENT_MAX_STRING)

/* One Kafka header, borrowed from the message. */
typedef struct {
        const char *name;  /* NUL-terminated */
        const void *value; /* NULL for a header without a value */
        size_t len;
} EventHeader;

/* One Kafka message as the decoder sees it; everything borrowed. */
typedef struct {
        const void *key; /* NULL when the message has none */
        size_t keylen;
        const EventHeader *headers;
        size_t n_headers;
        const void *value; /* NULL when the message has none */
        size_t len;
} EventMessage;

typedef struct EventDecoder EventDecoder;

/* Borrows schemas (must outlive the decoder). */
EventDecoder *event_decoder_new(const SchemaSet *schemas, size_t max_bytes);
EventDecoder *event_decoder_free(EventDecoder *d);
/* Checks that the schema set has the envelope and every input type. */
int event_decoder_check(const SchemaSet *schemas, char *err, size_t errlen);

/* Decodes one Kafka message (borrowed) in either content mode of the
 * CloudEvents Kafka binding: structured when the content-type header starts
 * with application/cloudevents, binary when there are ce_ headers (then the
 * attributes are the ce_ headers, content-type is datacontenttype and the
 * value is data), structured otherwise. Both modes give the same Event for
 * the same attributes and data. On success fills ev (free with
 * event_done()); on failure -EINVAL and a one-line reason naming the field
 * or the header in err. */
int event_decode_message(const EventDecoder *d, const EventMessage *m, Event *ev, char *err,
                         size_t errlen);
/* event_decode_message() of a message without headers: payload is a
 * structured-mode event. key is the Kafka key (may be NULL). */
int event_decode(const EventDecoder *d, const void *key, size_t keylen, const void *payload,
                 size_t len, Event *ev, char *err, size_t errlen);
/* Decodes an event already parsed (steals root): for pending events stored
 * in the household state and for offline replay. */
int event_from_json(const EventDecoder *d, json_t *root, Event *ev, char *err, size_t errlen);
void event_done(Event *ev);

const char *event_type_name(EventType t);
int event_type_from_name(const char *s);

/* Money field of data in fen (already checked by the decoder); 0 if absent. */
int64_t event_fen(const Event *ev, const char *field);
/* String field of data, or NULL. */
const char *event_str(const Event *ev, const char *field);
bool event_bool(const Event *ev, const char *field);
int64_t event_int(const Event *ev, const char *field);

/* Exactly "YYYY-MM-DD" to days since 1970-01-01; -EINVAL, also for any
 * trailing text (calendar_date_parse()). */
int date_parse(const char *s, int32_t *days);
/* days to "YYYY-MM-DD" (buf of 11 bytes at least). The date helpers of the
 * rest of hearth, over calendar.h. */
void date_format(int32_t days, char *buf, size_t len);
int date_year(int32_t days);
int date_month(int32_t days);
/* The 64-bit FNV-1a hash of source + NUL + id: the dedup key. */
uint64_t event_dedup_hash(const char *source, const char *id);
/* True if s is 1..64 characters of A-Z a-z 0-9 _ - (the household id). */
bool household_id_valid(const char *s, size_t len);
