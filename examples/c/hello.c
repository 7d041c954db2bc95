/*
 * hello.c - the README's C example: create a bus, ingest, poll, shut down.
 *
 * Build (after `make libnet`):
 *   gcc -Iinclude examples/c/hello.c target/libnet/debug/libnet.a \
 *       -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o hello
 * or against the shared library:
 *   gcc -Iinclude examples/c/hello.c -Ltarget/libnet/debug -lnet -o hello
 */
#include <stdio.h>
#include <string.h>

#include "net.h"

int main(void) {
    if (net_abi_version() != NET_ABI_VERSION) {
        fprintf(stderr, "libnet ABI %u, built for %u\n", net_abi_version(), NET_ABI_VERSION);
        return 1;
    }
    net_bus *bus = NULL;
    if (net_init("{\"num_shards\": 4}", &bus) != NET_OK) {
        fprintf(stderr, "net_init: %s\n", net_last_error());
        return 1;
    }

    const char *event = "{\"token\": \"hello\"}";
    net_receipt receipt;
    if (net_ingest_raw(bus, (const uint8_t *)event, strlen(event), &receipt) != NET_OK)
        fprintf(stderr, "ingest: %s\n", net_last_error());
    net_flush(bus, -1);

    net_poll_page *page = NULL;
    if (net_poll_ex(bus, "{\"limit\": 100}", &page) == NET_OK) {
        for (size_t i = 0; i < page->count; i++)
            printf("%.*s\n", (int)page->events[i].len, (const char *)page->events[i].ptr);
        net_poll_page_free(page);
    }

    net_shutdown(bus, NULL);
    net_free(bus);
    return 0;
}
