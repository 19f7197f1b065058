/* recset: for tests that play "Redis lost hearth's last commit" (as after a
 * power loss under appendfsync everysec): replaces the document inside a
 * household's record by the JSON read from stdin, keeping the record's
 * version, offsets, dedup ids, ledger and timeline, and writes it back with
 * a plain SET (the record is compressed, daemon/record.h, so redis-cli
 * cannot edit it).
 *
 *   recset REDIS_URL PREFIX HOUSEHOLD < doc.json
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record.h"
#include "redis.h"
#include "store.h"

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: recset REDIS_URL PREFIX HOUSEHOLD < doc.json\n");
                return 2;
        }
        char err[256];
        static char doc[1 << 20];
        size_t n = fread(doc, 1, sizeof(doc) - 1, stdin);
        doc[n] = 0;
        Redis *redis = redis_new(argv[1], NULL, 5000, 5000, err, sizeof(err));
        if (!redis || redis_connect(redis) < 0) {
                fprintf(stderr, "recset: redis: %s\n", redis ? redis_errstr(redis) : err);
                return 1;
        }
        Store *store = store_new(redis, argv[2], "recset", 1000LL * 86400 * 3650);
        RecordCodec *codec = record_codec_new();
        StoreRead rd = {.household = argv[3]};
        int ret = 1;
        if (!store || !codec || store_read(store, &rd, 1) < 0 || rd.err || !rd.doc) {
                fprintf(stderr, "recset: household %s: no readable record\n", argv[3]);
                goto out;
        }
        RecordChange ch = {.version = rd.version,
                           .doc = doc,
                           .now_ms = 0,
                           .dedup_window_ms = 0,
                           .dedup_max = rd.rec.n_seen,
                           .ledger_max = rd.rec.n_ledger,
                           .timeline_max = rd.rec.n_timeline};
        char *val = NULL;
        size_t len = 0;
        if (record_encode(codec, &rd.rec, &ch, &val, &len) < 0) {
                fprintf(stderr, "recset: encoding failed\n");
                goto out;
        }
        char key[300];
        snprintf(key, sizeof(key), "%s:{%s}:h", argv[2], argv[3]);
        const char *av[3] = {"SET", key, val};
        size_t lens[3] = {3, strlen(key), len};
        redisReply *r = redis_command_argv(redis, 3, av, lens);
        ret = r && r->type == REDIS_REPLY_STATUS ? 0 : 1;
        if (ret)
                fprintf(stderr, "recset: SET failed\n");
        freeReplyObject(r);
        free(val);
out:
        store_read_done(&rd);
        record_codec_free(codec);
        store_free(store);
        redis_free(redis);
        return ret;
}
