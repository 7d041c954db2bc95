/*
 * bench_ingest.c - net_ingest_raw of the standard 64-byte event, called from C.
 *
 * Same method as ffi/benches/ingest.rs: 1 shard, a 2^16-slot ring under fail_producer, chunks
 * of half a ring timed with the bus flushed between chunks outside the timer. Prints the
 * median ns per call of 7 rounds of 2^20 calls. Run by `make bench-ffi`.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"

#define CHUNK 32768
#define PER_ROUND (1 << 20)
#define ROUNDS 7

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    const char *event = "{\"token\":\"hello\",\"index\":0,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
    size_t len = strlen(event);
    if (len != 64) {
        fprintf(stderr, "event is %zu bytes\n", len);
        return 1;
    }
    net_bus *bus = NULL;
    if (net_init("{\"ring_capacity\": 65536, \"backpressure\": \"fail_producer\", "
                 "\"adapter\": {\"type\": \"memory\", \"max_events_per_shard\": 65536}}",
                 &bus) != NET_OK) {
        fprintf(stderr, "net_init: %s\n", net_last_error());
        return 1;
    }
    double rounds[ROUNDS];
    net_receipt receipt;
    for (int r = -1; r < ROUNDS; r++) { /* round -1 warms up */
        double total = 0;
        for (int done = 0; done < PER_ROUND; done += CHUNK) {
            double start = now_ns();
            for (int i = 0; i < CHUNK; i++) {
                if (net_ingest_raw(bus, (const uint8_t *)event, len, &receipt) != NET_OK) {
                    fprintf(stderr, "ingest: %s\n", net_last_error());
                    return 1;
                }
            }
            total += now_ns() - start;
            net_flush(bus, -1);
        }
        if (r >= 0)
            rounds[r] = total / PER_ROUND;
    }
    qsort(rounds, ROUNDS, sizeof rounds[0], cmp);
    printf("C bench: net_ingest_raw 64 B from C: %.1f ns/call (median of %d x %d)\n",
           rounds[ROUNDS / 2], ROUNDS, PER_ROUND);
    net_free(bus);
    return 0;
}
