#ifndef MODES_H
#define MODES_H

#include <stdbool.h>
#include <stdint.h>
#include "dds/dds.h"

typedef struct peer_options {
  const char *dir, *prefix, *question, *spec, *out;
  const char *in_topic, *out_topic;
  const char *topic, *type;  /* listen */
  const char *node;          /* graph: stop once a node of this name is announced */
  uint64_t count;            /* listen: stop after this many messages (0: no limit) */
  double rate, seconds;
  uint32_t width, height;
  int64_t wait_subscribers_ms;
  bool keep_all;  /* camera: KEEP_ALL writers instead of KEEP_LAST 10 */
  bool raw;       /* camera-sink: take serialised samples (dds_takecdr), never deserialised */
  int32_t depth;  /* camera-sink: KEEP_LAST depth readers (Cyclone's shared memory needs keep-last); 0: keep-all */
  bool unknown_guid;      /* iox-hostile: a guid no DDS entity has in every chunk */
  uint32_t unknown_count; /* iox-hostile: this many extra chunks from an unknown writer */
  int64_t interval_ms;    /* iox-hostile: between chunks (0: the default) */
  int crash_cases;        /* iox-hostile: 1..5, one chunk that crashes the reader in Cyclone 0.10.2 or iceoryx (see iox_hostile_mode.c) */
} peer_options_t;

dds_domainid_t peer_domain(void);
/* Formats a latency for JSON: null when there is none. */
const char *json_ms(char *buf, size_t n, double v);

int camera_mode(const peer_options_t *o);
int echo_sink_mode(const peer_options_t *o);
int echo_source_mode(const peer_options_t *o);
int listen_mode(const peer_options_t *o);
int graph_mode(const peer_options_t *o);
int camera_sink_mode(const peer_options_t *o);
int fixed_writer_mode(const peer_options_t *o);
int iox_hostile_mode(const peer_options_t *o);

#endif
