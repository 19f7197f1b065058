/* Files and folders as the loaders read them: one bounded read of a whole
 * file, one sorted listing of a folder. */
#pragma once

#include <stddef.h>
#include "diag.h"

/* Reads the regular file at path whole, at most max bytes, into a new
 * NUL-terminated buffer: *ret (the caller frees it), *ret_len (may be NULL)
 * bytes without the NUL. Something that is not a regular file (a FIFO would
 * block, a folder reads as nothing) is -EINVAL, more than max bytes -EFBIG;
 * otherwise -errno of open or read, or -ENOMEM. On failure *ret is NULL and,
 * when diag is not NULL, one message naming path says why ("cannot open: ...",
 * "not a regular file", "larger than 1 MiB", "cannot read: ..."). */
int fsutil_read_file(const char *path, size_t max, char **ret, size_t *ret_len, Diag *diag);

/* The names in folder dir that end in suffix (e.g. ".yaml", longer than it)
 * and do not start with '.', sorted by strcmp, at most max of them:
 * *ret is a new array of *ret_n new strings, freed with
 * fsutil_names_free(*ret, *ret_n). -E2BIG when there are more than max,
 * -errno of opendir or readdir, -ENOMEM; then *ret is NULL and *ret_n 0. */
int fsutil_list(const char *dir, const char *suffix, size_t max, char ***ret, size_t *ret_n);
/* Frees names and its n strings; accepts NULL. Returns NULL. */
char **fsutil_names_free(char **names, size_t n);
