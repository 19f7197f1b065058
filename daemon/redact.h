/* Keeping secrets out of what hearth prints: passwords in URLs
 * (redis://user:***@host), values of keys that name a secret, and the
 * process's own command line as `ps` shows it. Every log line, diagnostic
 * and message that may carry a URL or a secret goes through here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define REDACTED "***"

/* True for a config key or librdkafka property whose value is a secret:
 * its name contains "password" or "secret" (case-insensitive), e.g.
 * sasl.password, ssl.key.password, sasl.oauthbearer.client.secret. A
 * name ending in "_file" (redis.password_file) names the file that holds
 * the secret and is not one; NULL is not secret. */
bool redact_key_is_secret(const char *key);

/* Where the password of the first URL in s lies: after "scheme://", the
 * userinfo runs to the last '@' of the URL (as redis_url_parse() reads
 * it); its password is what follows the first ':' in it, or the whole
 * userinfo when it has no ':' (redis-cli reads `redis://pw@host` so).
 * A URL at the start of s runs to its end (a password may hold any
 * character); one inside free text ends at white space or a quote. Sets
 * *off and returns the length (0: no password in s). */
size_t redact_url_password(const char *s, size_t *off);

/* Copies text into buf (len bytes, always terminated) with the password
 * of every URL in it replaced by REDACTED:
 *   rediss://:S3cret@host:6380/0    -> rediss://:***@host:6380/0
 *   redis://hearth:S3cret@h/0       -> redis://hearth:***@h/0
 *   unix://:S3cret@/run/redis.sock  -> unix://:***@/run/redis.sock
 * NULL prints as "(null)". Returns buf, so it can be a printf argument. */
const char *redact_url(const char *text, char *buf, size_t len);

/* Copies text into buf with every occurrence of secret (when non-empty)
 * replaced by REDACTED: for messages of libraries that may quote a value
 * they refused. Returns buf. */
const char *redact_secret(const char *text, const char *secret, char *buf, size_t len);

/* Overwrites, in place and keeping its length, the secret part of one
 * command-line argument: URL passwords become '*', and so does the value
 * of a "key=value" whose key is secret. Call it on argv[] entries after
 * copying them, so that `ps` and /proc/PID/cmdline stop showing the
 * secret. Returns true when something was hidden. */
bool redact_argument(char *arg);
