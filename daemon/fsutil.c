/* Bounded whole-file reads and sorted folder listings for the loaders. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "macro.h"

/* Reads fd to its end into *buf (cap + 1 bytes allocated), growing it up
 * to max + 1 bytes: more than max is -EFBIG. */
static int read_all(int fd, char **buf, size_t cap, size_t max, size_t *ret_len)
{
        size_t off = 0;
        for (;;) {
                if (off == cap) {
                        if (cap > max)
                                return -EFBIG;
                        size_t ncap = cap > max / 2 ? max + 1 : 2 * cap;
                        char *b = realloc(*buf, ncap + 1);
                        if (!b)
                                return -ENOMEM;
                        *buf = b;
                        cap = ncap;
                }
                ssize_t k = read(fd, *buf + off, cap - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                off += (size_t)k;
        }
        if (off > max)
                return -EFBIG;
        *ret_len = off;
        return 0;
}

/* "larger than 1 MiB", "larger than 4 KiB", "larger than 100 bytes". */
static void too_large(Diag *diag, const char *path, size_t max)
{
        if (max >= 1024 * 1024 && max % (1024 * 1024) == 0)
                diag_add(diag, path, 0, 0, "larger than %zu MiB", max / (1024 * 1024));
        else if (max >= 1024 && max % 1024 == 0)
                diag_add(diag, path, 0, 0, "larger than %zu KiB", max / 1024);
        else
                diag_add(diag, path, 0, 0, "larger than %zu bytes", max);
}

int fsutil_read_file(const char *path, size_t max, char **ret, size_t *ret_len, Diag *diag)
{
        struct stat st;
        size_t len = 0;
        int r;

        *ret = NULL;
        if (ret_len)
                *ret_len = 0;
        /* O_NONBLOCK: opening a FIFO without a writer must not hang (it is
         * refused below); reads of a regular file ignore it. */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                diag_add(diag, path, 0, 0, "cannot open: %s", strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                diag_add(diag, path, 0, 0, "not a regular file");
                return -EINVAL;
        }
        /* Checked before allocating, and again while reading: the file may
         * grow in between. One byte more than its size finds its end. */
        if ((uintmax_t)st.st_size > max) {
                close(fd);
                too_large(diag, path, max);
                return -EFBIG;
        }
        size_t cap = (size_t)st.st_size + 1;
        _cleanup_free_ char *buf = malloc(cap + 1);
        r = buf ? read_all(fd, &buf, cap, max, &len) : -ENOMEM;
        close(fd);
        if (r == -EFBIG)
                too_large(diag, path, max);
        else if (r < 0 && r != -ENOMEM)
                diag_add(diag, path, 0, 0, "cannot read: %s", strerror(-r));
        if (r < 0)
                return r;
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

char **fsutil_names_free(char **names, size_t n)
{
        for (size_t i = 0; names && i < n; i++)
                free(names[i]);
        free(names);
        return NULL;
}

static int cmp_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *name, const char *suffix)
{
        size_t n = strlen(name), s = strlen(suffix);
        return name[0] != '.' && n > s && streq(name + n - s, suffix);
}

int fsutil_list(const char *dir, const char *suffix, size_t max, char ***ret, size_t *ret_n)
{
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        *ret = NULL;
        *ret_n = 0;
        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (!has_suffix(de->d_name, suffix))
                        continue;
                if (n >= max) {
                        r = -E2BIG;
                        break;
                }
                if (n == cap) {
                        size_t ncap = cap ? 2 * cap : 16;
                        char **v = realloc(names, ncap * sizeof(*v));
                        if (!v) {
                                r = -ENOMEM;
                                break;
                        }
                        names = v;
                        cap = ncap;
                }
                if (!(names[n] = strdup(de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0) {
                fsutil_names_free(names, n);
                return r;
        }
        if (n)
                qsort(names, n, sizeof(*names), cmp_name);
        *ret = names;
        *ret_n = n;
        return 0;
}
