/* Reading every household: SCAN (master after master on a cluster) and
 * the pipelined GET of many records, for hearthctl's report, preview and
 * migrate. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "household.h"
#include "store_impl.h"

/* Writes the MATCH pattern of every household's state key, <p>:{*}:h,
 * escaping glob characters of the prefix. */
static void households_pattern(const Store *s, char *buf, size_t len)
{
        size_t n = 0;
        for (const char *p = s->prefix; *p && n + 8 < len; p++) {
                if (strchr("*?[]\\", *p))
                        buf[n++] = '\\';
                buf[n++] = *p;
        }
        snprintf(buf + n, len - n, ":{*}:h");
}

/* A cluster is scanned master after master: the cursor's top byte is the
 * master's index, the rest that master's own cursor. */
#define SCAN_NODE_SHIFT 56

int store_scan_households(Store *s, uint64_t *cursor, size_t count, json_t **ids)
{
        char pattern[600], cur[24], cnt[24];
        size_t node = (size_t)(*cursor >> SCAN_NODE_SHIFT);
        households_pattern(s, pattern, sizeof(pattern));
        snprintf(cur, sizeof(cur), "%" PRIu64, *cursor & (((uint64_t)1 << SCAN_NODE_SHIFT) - 1));
        snprintf(cnt, sizeof(cnt), "%zu", count ? count : 100);
        const char *argv[6] = {"SCAN", cur, "MATCH", pattern, "COUNT", cnt};
        *ids = NULL;
        _cleanup_(freeReplyObjectp) redisReply *r =
            redis_command_node(s->redis, node, 6, argv, NULL);
        if (!r)
                return store_io_error(s, "SCAN");
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
                snprintf(s->err, sizeof(s->err), "SCAN: %s",
                         r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
                return -EINVAL;
        }
        *cursor = strtoull(r->element[0]->str, NULL, 10);
        if (*cursor >> SCAN_NODE_SHIFT) {
                snprintf(s->err, sizeof(s->err), "SCAN: cursor out of range");
                return -EINVAL;
        }
        if (*cursor == 0) /* this master done: the next one, or the end */
                *cursor = node + 1 < redis_node_count(s->redis)
                              ? (uint64_t)(node + 1) << SCAN_NODE_SHIFT
                              : 0;
        else
                *cursor |= (uint64_t)node << SCAN_NODE_SHIFT;
        json_t *out = json_array();
        if (!out)
                return -ENOMEM;
        size_t plen = strlen(s->prefix);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
                const redisReply *k = r->element[1]->element[i];
                /* <prefix>:{<id>}:h; a key that merely matches the glob (an
                 * id with "}:" in it cannot exist) is skipped. */
                if (k->type != REDIS_REPLY_STRING || k->len < plen + 5 ||
                    memcmp(k->str, s->prefix, plen) != 0 || memcmp(k->str + plen, ":{", 2) != 0 ||
                    memcmp(k->str + k->len - 3, "}:h", 3) != 0)
                        continue;
                size_t idlen = k->len - plen - 5;
                if (!household_id_valid(k->str + plen + 2, idlen))
                        continue;
                json_array_append_new(out, json_stringn(k->str + plen + 2, idlen));
        }
        *ids = out;
        return 0;
}

int store_docs_get(Store *s, const char *const *households, size_t n, char **docs, size_t *lens)
{
        char k[300];
        for (size_t i = 0; i < n; i++) {
                docs[i] = NULL;
                lens[i] = 0;
                store_key(k, sizeof(k), s, households[i], "h");
                const char *argv[2] = {"GET", k};
                redis_append(s->redis, 2, argv, NULL);
        }
        int ret = 0;
        for (size_t i = 0; i < n; i++) {
                redisReply *r = NULL;
                if (redis_get_reply(s->redis, &r) < 0) {
                        for (size_t j = 0; j < i; j++) {
                                free(docs[j]);
                                docs[j] = NULL;
                        }
                        return store_io_error(s, "GET household");
                }
                Record rec;
                char why[160];
                if (r->type == REDIS_REPLY_STRING) {
                        /* The text, not a parsed document: parsing is the
                         * caller's costliest step, which it may spread over
                         * threads. */
                        if (record_decode_recent(s->codec, r->str, r->len, &rec, why, sizeof(why)) <
                            0) {
                                if (!ret)
                                        snprintf(s->err, sizeof(s->err), "%s: %s", households[i],
                                                 why);
                                ret = ret ? ret : -EINVAL;
                        } else if ((docs[i] = malloc(rec.doc.len + 1))) {
                                memcpy(docs[i], rec.doc.s, rec.doc.len);
                                docs[i][rec.doc.len] = '\0';
                                lens[i] = rec.doc.len;
                        }
                        record_done(&rec);
                } else if (r->type == REDIS_REPLY_ERROR && !ret) {
                        snprintf(s->err, sizeof(s->err), "GET household: %s", r->str);
                        ret = -EINVAL;
                }
                freeReplyObject(r);
        }
        return ret;
}
