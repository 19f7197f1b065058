/* Translation of ECMA-262 regexes (JSON Schema "pattern") to POSIX EREs. */
#pragma once

#include <stddef.h>

/* Translates the ECMA-262 pattern src[0..len) into a POSIX ERE for
 * regcomp(REG_EXTENDED | REG_NOSUB) in the C locale, where every construct
 * that can match a non-ASCII code point becomes a group of UTF-8 byte
 * sequences. Returns 0 and the ERE in *ret (the caller frees it), -EINVAL
 * with a message in msg[0..msglen) for a pattern it refuses, or -ENOMEM. */
int schema_regex_translate(const char *src, size_t len, char **ret, char *msg, size_t msglen);
