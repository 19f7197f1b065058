/* A Redis command's arguments, built one by one for redisAppendCommandArgv:
 * at most the capacity given to rcmd_init(); strings are borrowed
 * (rcmd_push_str, rcmd_push_len) or copied into storage the command owns
 * (rcmd_push_int, rcmd_push_fmt). The first failure is kept in err and
 * later pushes do nothing, so a caller pushes everything and checks once. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "macro.h"

typedef struct RCmdChunk RCmdChunk;

typedef struct {
        const char **argv;
        size_t *lens;
        size_t argc, cap;
        RCmdChunk *chunks; /* copies of pushed numbers and formatted strings */
        int err;           /* 0, -ENOMEM (no memory), -E2BIG (more than cap arguments), -EINVAL */
} RCmd;

/* Room for cap arguments. Returns c->err: 0 or -ENOMEM. Free with
 * rcmd_done() either way. */
int rcmd_init(RCmd *c, size_t cap);
void rcmd_done(RCmd *c);
/* Borrowed: s must outlive the command's use. */
void rcmd_push_len(RCmd *c, const char *s, size_t len);
void rcmd_push_str(RCmd *c, const char *s);
/* Copied. */
void rcmd_push_int(RCmd *c, int64_t v);
/* The n strings (at most 8) joined into one argument, without printf (the
 * hot path's keys). */
void rcmd_push_cat(RCmd *c, size_t n, const char *const *parts);
void rcmd_push_fmt(RCmd *c, const char *fmt, ...) _printf_(2, 3);
