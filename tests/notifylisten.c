/* notifylisten SOCKET: receives sd_notify datagrams on a unix socket and
 * prints each one on a line (its newlines turned into spaces), prefixed by
 * a monotonic time in ms, so integration tests can see READY=1, STATUS=,
 * WATCHDOG=1 and STOPPING=1 and their order. Runs until SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
        (void)sig;
        stop = 1;
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: notifylisten SOCKET\n");
                return 2;
        }
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (fd < 0 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                perror("socket");
                return 1;
        }
        memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
        unlink(argv[1]);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("bind");
                return 1;
        }
        struct sigaction act = {.sa_handler = on_term};
        sigaction(SIGTERM, &act, NULL);
        sigaction(SIGINT, &act, NULL);
        printf("listening\n");
        fflush(stdout);
        char buf[4096];
        while (!stop) {
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                buf[n] = 0;
                for (ssize_t i = 0; i < n; i++)
                        if (buf[i] == '\n')
                                buf[i] = ' ';
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                printf("%lld %s\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, buf);
                fflush(stdout);
        }
        unlink(argv[1]);
        return 0;
}
