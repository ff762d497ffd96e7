/* Shared by the cyclone_peer subcommands: DDS setup as a ROS 2 node does it, clocks, stats. */
#ifndef PEER_COMMON_H
#define PEER_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "dds/dds.h"

/* Exits with the call's name and Cyclone's message when rc < 0. */
dds_return_t check(dds_return_t rc, const char *what);

/* ROS 2 topic name → DDS topic name with the `rt` prefix; prefix may be "" or "/camN". */
void ros_topic(char *out, size_t n, const char *prefix, const char *topic);

dds_qos_t *qos_reliable(int32_t depth, bool transient_local);

int64_t now_ns(void);          /* CLOCK_REALTIME: the same clock the stamps use */

/* Wait until a writer has at least one matched reader or timeout; returns ms waited, -1 on timeout. */
int64_t wait_matched(dds_entity_t writer, int64_t timeout_ms);

typedef struct latencies {
  double *ms;
  size_t n, cap;
} latencies_t;
void lat_add(latencies_t *l, double ms);
/* Nearest-rank percentile (q in 0..100), NaN when empty. */
double lat_pct(latencies_t *l, double q);

void json_string(FILE *f, const char *s);

extern volatile int stop_requested;
void install_signal_handlers(void);

#endif
