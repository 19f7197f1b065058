/* bconsume: the Kafka limit. A bare librdkafka consumer (no group join, no
 * processing) reads exactly the messages one bgen run delivered (its -R
 * ranges file) from the test broker, as fast as the broker serves them,
 * with hearthd's fetch settings (fetch.wait.max.ms=10).
 *
 *   bconsume -b BROKERS -R RANGES
 *
 * Prints key=value lines: messages, bytes, seconds (first message to last)
 * and msgs_per_s. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bcommon.h"

#define USAGE "usage: bconsume -b BROKERS -R RANGES\n"

int main(int argc, char **argv)
{
        const char *brokers = NULL, *rfile = NULL;
        int c;
        while ((c = getopt(argc, argv, "b:R:")) >= 0) {
                if (!bench_range_opt(c, optarg, &brokers, &rfile)) {
                        fputs(USAGE, stderr);
                        return 2;
                }
        }
        Range *ranges = NULL;
        int n = bench_ranges_load(brokers, rfile, USAGE, &ranges);
        if (n < 0)
                return n == -2 ? 2 : 1;
        ReadStats st;
        if (bench_read_ranges(brokers, ranges, n, NULL, NULL, NULL, &st) < 0) {
                free(ranges);
                return 1;
        }
        double secs = (double)(st.last_us - st.first_us) / 1e6;
        printf("messages=%" PRIu64 "\nbytes=%" PRIu64 "\nseconds=%.3f\nmsgs_per_s=%.0f\n", st.msgs,
               st.bytes, secs, secs > 0 ? (double)st.msgs / secs : 0.0);
        free(ranges);
        return 0;
}
