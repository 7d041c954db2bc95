/* check.h - a tiny assertion helper for the libnet C tests. */
#ifndef NET_CHECK_H
#define NET_CHECK_H

#include <stdio.h>
#include <string.h>

#include "net.h"

extern int g_checks;
extern int g_failures;

/* Records one check; prints the location and libnet's last error when it fails. */
#define CHECK(cond)                                                                       \
    do {                                                                                  \
        g_checks++;                                                                       \
        if (!(cond)) {                                                                    \
            g_failures++;                                                                 \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__,       \
                    __LINE__, #cond, net_last_error());                                   \
        }                                                                                 \
    } while (0)

/* Checks that `expr` returns status `want`. */
#define CHECK_RC(expr, want)                                                              \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        g_checks++;                                                                       \
        if (rc_ != (want)) {                                                              \
            g_failures++;                                                                 \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s); last error: %s\n", \
                    __FILE__, __LINE__, #expr, rc_, net_code_name(rc_), (int)(want),      \
                    net_code_name(want), net_last_error());                               \
        }                                                                                 \
    } while (0)

/* Checks that the last error message contains `needle`. */
#define CHECK_MSG(needle) CHECK(strstr(net_last_error(), (needle)) != NULL)

#endif
