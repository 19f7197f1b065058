/* The HTTP endpoint of the metrics registry: GET /metrics (the exposition
 * text) and GET /healthz on libmicrohttpd's internal thread, with the
 * METRICS_HTTP_* bounds of metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "metrics_internal.h"

/* Queues a response with body: malloc'ed and taken when take, else copied. */
static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body, bool take)
{
        /* MHD's buffer is not const; it frees a taken body, copies the rest. */
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            strlen(body), (void *)body, take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
        if (!resp) {
                if (take)
                        free((void *)body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        enum MHD_Result r = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return r;
}

/* Runs on the HTTP thread. url is the path without the query string. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
        static const char text[] = "text/plain; charset=utf-8";
        Metrics *m = cls;
        char buf[64];

        (void)version;
        (void)upload_data;
        (void)upload_data_size;
        (void)con_cls;

        if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD))
                return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "method not allowed\n", false);
        if (streq(url, "/metrics")) {
                char *body = metrics_render(m);
                if (!body)
                        return respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "out of memory\n",
                                       false);
                return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body,
                               true);
        }
        if (streq(url, "/healthz")) {
                pthread_mutex_lock(&m->lock);
                bool k = m->kafka_ok, r = m->redis_ok;
                pthread_mutex_unlock(&m->lock);
                snprintf(buf, sizeof(buf), "{\"kafka\":\"%s\",\"redis\":\"%s\"}\n",
                         k ? "ok" : "down", r ? "ok" : "down");
                return respond(c, k && r ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                               "application/json", buf, false);
        }
        return respond(c, MHD_HTTP_NOT_FOUND, text, "not found\n", false);
}

/* Splits "host:port" or "[v6]:port" into host and port (decimal, 0..65535).
 * -EINVAL with a reason otherwise. */
static int parse_listen(const char *address, char *host, size_t hostlen, char *port, size_t portlen,
                        char *err, size_t errlen)
{
        const char *h = address, *colon;
        size_t hl;

        if (address[0] == '[') {
                const char *close = strchr(address, ']');
                if (!close || close[1] != ':') {
                        snprintf(err, errlen, "\"%s\": expected [address]:port", address);
                        return -EINVAL;
                }
                h = address + 1;
                hl = (size_t)(close - h);
                colon = close + 1;
        } else {
                colon = strrchr(address, ':');
                if (!colon || memchr(address, ':', (size_t)(colon - address))) {
                        snprintf(err, errlen,
                                 "\"%s\": expected host:port ([address]:port for "
                                 "IPv6)",
                                 address);
                        return -EINVAL;
                }
                hl = (size_t)(colon - address);
        }
        const char *p = colon + 1;
        size_t pl = strlen(p);
        unsigned long v = 0;
        for (size_t i = 0; i < pl; i++)
                v = (p[i] >= '0' && p[i] <= '9' && v <= 65535) ? v * 10 + (unsigned)(p[i] - '0')
                                                               : 65536;
        if (hl == 0 || hl >= hostlen || pl == 0 || pl >= portlen || v > 65535) {
                snprintf(err, errlen, "\"%s\": expected host:port with a port 0..65535", address);
                return -EINVAL;
        }
        memcpy(host, h, hl);
        host[hl] = '\0';
        memcpy(port, p, pl + 1);
        return 0;
}

/* A listening, non-blocking, close-on-exec TCP socket on the first address
 * of host:port that binds. The fd, or a negative errno with err set. */
static int listen_socket(const char *address, char *err, size_t errlen)
{
        char host[256], port[8];
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV},
                        *res = NULL;
        int r = parse_listen(address, host, sizeof(host), port, sizeof(port), err, errlen);
        if (r < 0)
                return r;
        r = getaddrinfo(host, port, &hints, &res);
        if (r != 0) {
                snprintf(err, errlen, "%s: %s", address,
                         r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
                return r == EAI_MEMORY ? -ENOMEM : r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
        }
        r = -EADDRNOTAVAIL;
        snprintf(err, errlen, "%s: no address", address);
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                int one = 1;
                int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                ai->ai_protocol);
                if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
                    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) {
                        freeaddrinfo(res);
                        return fd;
                }
                r = -errno;
                snprintf(err, errlen, "%s: %s", address, strerror(errno));
                if (fd >= 0)
                        close(fd);
        }
        freeaddrinfo(res);
        return r;
}

static int socket_port(int fd)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
                return -errno;
        if (ss.ss_family == AF_INET)
                return ntohs(((struct sockaddr_in *)&ss)->sin_port);
        if (ss.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        return -EAFNOSUPPORT;
}

int metrics_serve(Metrics *m, const char *address, char *err, size_t errlen)
{
        sigset_t all, old;
        struct stat before, after;

        if (m->httpd) {
                snprintf(err, errlen, "already serving on port %d", m->port);
                return -EALREADY;
        }
        if (!address || !*address) {
                snprintf(err, errlen, "empty listen address");
                return -EINVAL;
        }
        int fd = listen_socket(address, err, errlen);
        if (fd < 0)
                return fd;
        int port = socket_port(fd);
        /* Whether MHD_start_daemon() closes a listen socket it was given when
         * it fails depends on its version and on where it failed. A duplicate
         * taken before tells: fd is ours to close only if it still names the
         * same socket. */
        int keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (port < 0 || keep < 0 || fstat(keep, &before) < 0) {
                int r = port < 0 ? port : -errno;
                snprintf(err, errlen, "%s: %s", address, strerror(-r));
                if (keep >= 0)
                        close(keep);
                close(fd);
                return r;
        }

        /* The server thread inherits the signal mask: block everything so that
         * signals reach the daemon loop's signalfd, never this thread. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        m->httpd = MHD_start_daemon(
            MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, handle, m, MHD_OPTION_LISTEN_SOCKET, fd,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_MAX_CONNECTIONS,
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_MAX_PER_ADDRESS,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT_S, MHD_OPTION_END);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!m->httpd) {
                if (fstat(fd, &after) == 0 && after.st_dev == before.st_dev &&
                    after.st_ino == before.st_ino)
                        close(fd);
                close(keep);
                snprintf(err, errlen, "%s: the HTTP server did not start", address);
                return -EIO;
        }
        close(keep);
        m->port = port;
        return 0;
}

int metrics_port(const Metrics *m)
{
        return m->httpd ? m->port : -ENOTCONN;
}

void metrics_stop(Metrics *m)
{
        if (!m || !m->httpd)
                return;
        /* Joins the server thread and closes the listen socket and every
         * connection; no handler runs after this returns. */
        MHD_stop_daemon(m->httpd);
        m->httpd = NULL;
        m->port = -ENOTCONN;
}
