#define _GNU_SOURCE
#include "peer_common.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile int stop_requested = 0;

static void on_signal(int sig) { (void) sig; stop_requested = 1; }

void install_signal_handlers(void)
{
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
}

dds_return_t check(dds_return_t rc, const char *what)
{
  if (rc < 0) {
    fprintf(stderr, "cyclone_peer: %s failed: %s\n", what, dds_strretcode(rc));
    exit(1);
  }
  return rc;
}

void ros_topic(char *out, size_t n, const char *prefix, const char *topic)
{
  snprintf(out, n, "rt%s/%s", prefix, topic);
}

dds_qos_t *qos_reliable(int32_t depth, bool transient_local)
{
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, depth);
  dds_qset_durability(q, transient_local ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
  if (transient_local)
    dds_qset_durability_service(q, 0, DDS_HISTORY_KEEP_LAST, depth, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED);
  return q;
}

int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t wait_matched(dds_entity_t writer, int64_t timeout_ms)
{
  const int64_t start = now_ns();
  for (;;) {
    dds_publication_matched_status_t st;
    check(dds_get_publication_matched_status(writer, &st), "dds_get_publication_matched_status");
    const int64_t waited = (now_ns() - start) / 1000000;
    if (st.current_count > 0) return waited;
    if (waited >= timeout_ms || stop_requested) return -1;
    dds_sleepfor(DDS_MSECS(10));
  }
}

void lat_add(latencies_t *l, double ms)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 1024;
    l->ms = realloc(l->ms, l->cap * sizeof(double));
  }
  l->ms[l->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double lat_pct(latencies_t *l, double q)
{
  if (l->n == 0) return NAN;
  qsort(l->ms, l->n, sizeof(double), cmp_double);
  size_t k = (size_t) ceil(q / 100.0 * (double) l->n);
  if (k > 0) k--;
  if (k >= l->n) k = l->n - 1;
  return l->ms[k];
}

void json_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p; p++) {
    switch (*p) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '\n': fputs("\\n", f); break;
      case '\r': fputs("\\r", f); break;
      case '\t': fputs("\\t", f); break;
      default:
        if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
  }
  fputc('"', f);
}
