/* hearthd: parses the command line and hands over to daemon_run(). */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include "arena.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "redact.h"

static void help(void)
{
        printf("Usage: hearthd --config FILE [--set KEY=VALUE]... [--check]\n"
               "\n"
               "Watches rural low-income households for the risk of falling back into\n"
               "poverty: consumes department events from Kafka, keeps household state in\n"
               "Redis, evaluates the rules and publishes alerts.\n"
               "\n"
               "  -c, --config FILE    configuration file (YAML)\n"
               "  -s, --set KEY=VALUE  override a config key, e.g. kafka.brokers=host:9092\n"
               "  -t, --check          validate config, rules and schemas, then exit 0 or 1\n"
               "      --help-config    list every config key with its default\n"
               "  -h, --help           this text\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
            {"check", no_argument, NULL, 't'},        {"help", no_argument, NULL, 'h'},
            {"help-config", no_argument, NULL, 'K'},  {},
        };
        /* No fastbins: each batch frees large buffers, and every such free
         * walked all fastbins (malloc_consolidate, 9% of hearthd's CPU in a
         * perf profile of make bench); tcache still serves small blocks. */
        mallopt(M_MXFAST, 0);
        /* Two malloc arenas, not one per librdkafka thread: each arena keeps
         * its own free memory, and hearthd's peak RSS in make bench fell
         * from 69.7 to 59.3 MiB at the same throughput. MALLOC_ARENA_MAX in
         * the environment still decides. */
        if (!getenv("MALLOC_ARENA_MAX"))
                mallopt(M_ARENA_MAX, 2);
        /* jansson's values of a batch from a bump region (arena.h). */
        arena_install();
        DaemonArgs args = {0};
        char **sets = calloc((size_t)argc, sizeof(char *));
        bool check = false;
        int c, ret = EXIT_FAILURE;
        if (!sets)
                return EXIT_FAILURE;
        args.sets = sets;
        while ((c = getopt_long(argc, argv, "c:s:th", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        args.config_path = optarg;
                        break;
                case 's':
                        /* A copy for the config; then the password leaves
                         * the command line that ps and /proc show. */
                        if (!(sets[args.n_sets++] = strdup(optarg)))
                                goto out;
                        redact_argument(optarg);
                        break;
                case 't':
                        check = true;
                        break;
                case 'h':
                        help();
                        ret = EXIT_SUCCESS;
                        goto out;
                case 'K':
                        config_dump_keys(stdout);
                        ret = EXIT_SUCCESS;
                        goto out;
                default:
                        fprintf(stderr, "Try 'hearthd --help'.\n");
                        ret = 2;
                        goto out;
                }
        }
        if (optind < argc || !args.config_path) {
                fprintf(stderr, "hearthd: %s\nTry 'hearthd --help'.\n",
                        args.config_path ? "unexpected argument" : "--config FILE is required");
                ret = 2;
                goto out;
        }
        ret = (check ? daemon_check(&args) : daemon_run(&args)) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
out:
        for (size_t i = 0; i < args.n_sets; i++)
                free(sets[i]);
        free(sets);
        arena_shutdown();
        return ret;
}
