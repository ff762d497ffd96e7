/*
 * `camera-sink`: the C floor of bench:dds. It subscribes to one camera's four topics as the
 * node does (reliable, keep-all readers; keep-last --depth N ones where the node's inputs are
 * keep-last for Cyclone's shared memory), takes every sample (deserialised into the idlc types,
 * as a C or C++ ROS 2 subscriber receives it) and does nothing else with it. It prints one JSON
 * line: the counts per topic and the process's CPU (every thread, Cyclone's receive thread
 * included) from the first colour image to the last, per frame. Why: the node's CPU per frame
 * only means something beside what merely receiving the same frames costs on the same host in
 * the same run (copies out of the socket, defragmentation, deserialisation, wake-ups).
 * With --raw it takes the serialised samples (dds_takecdr: the CDR as received and put together,
 * never deserialised), the least any subscriber can do.
 */
#include <math.h>
#include <stdio.h>
#include <sys/resource.h>

#include "dds/ddsi/ddsi_serdata.h"
#include "modes.h"
#include "peer_common.h"
#include "sensor_msgs.h"
#include "spatial_reward_msgs.h"

enum { RGB, DEPTH, INFO, MASKS, N_TOPICS };

/* User + system CPU seconds of the whole process (all threads). */
static double process_cpu_s(void)
{
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double) u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double) u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* Counts a taken sample; the colour images also mark the CPU and time of the first and last frame. */
static void count_sample(int i, uint64_t *counts, double *cpu_first, double *cpu_last, int64_t *t_first, int64_t *t_last)
{
  counts[i]++;
  if (i != RGB) return;
  const double cpu = process_cpu_s();
  const int64_t t = now_ns();
  if (counts[RGB] == 1) { *cpu_first = cpu; *t_first = t; }
  *cpu_last = cpu;
  *t_last = t;
}

int camera_sink_mode(const peer_options_t *o)
{
  static const struct {
    const char *ros;
    const dds_topic_descriptor_t *desc;
  } TOPICS[N_TOPICS] = {
    [RGB] = { "camera/color/image_raw", &sensor_msgs_msg_dds__Image__desc },
    [DEPTH] = { "camera/aligned_depth_to_color/image_raw", &sensor_msgs_msg_dds__Image__desc },
    [INFO] = { "camera/color/camera_info", &sensor_msgs_msg_dds__CameraInfo__desc },
    [MASKS] = { "camera/instances", &spatial_reward_msgs_msg_dds__InstanceMasks__desc },
  };
  const dds_entity_t pp = check(dds_create_participant(peer_domain(), NULL, NULL), "dds_create_participant");
  dds_qos_t *rq = qos_reliable(1, false);
  if (o->depth > 0) dds_qset_history(rq, DDS_HISTORY_KEEP_LAST, o->depth);
  else dds_qset_history(rq, DDS_HISTORY_KEEP_ALL, DDS_LENGTH_UNLIMITED);
  const dds_entity_t ws = check(dds_create_waitset(pp), "dds_create_waitset");
  dds_entity_t readers[N_TOPICS];
  char name[512];
  for (int i = 0; i < N_TOPICS; i++) {
    ros_topic(name, sizeof name, o->prefix, TOPICS[i].ros);
    const dds_entity_t t = check(dds_create_topic(pp, TOPICS[i].desc, name, NULL, NULL), "dds_create_topic");
    readers[i] = check(dds_create_reader(pp, t, rq, NULL), "dds_create_reader");
    check(dds_waitset_attach(ws, check(dds_create_readcondition(readers[i], DDS_ANY_STATE), "dds_create_readcondition"), i), "dds_waitset_attach");
  }
  dds_delete_qos(rq);

  uint64_t counts[N_TOPICS] = { 0 };
  double cpu_first = 0, cpu_last = 0;
  int64_t t_first = 0, t_last = 0;
  const int64_t end = now_ns() + (int64_t) (o->seconds * 1e9);
  dds_attach_t triggered[N_TOPICS];
  while (!stop_requested && now_ns() < end) {
    const dds_return_t n = dds_waitset_wait(ws, triggered, N_TOPICS, DDS_MSECS(100));
    for (dds_return_t k = 0; k < n; k++) {
      const int i = (int) triggered[k];
      void *buf[1] = { NULL };
      dds_sample_info_t info;
      dds_return_t got;
      if (o->raw) {
        struct ddsi_serdata *sd;
        while ((got = dds_takecdr(readers[i], &sd, 1, &info, DDS_ANY_STATE)) > 0) {
          if (info.valid_data) count_sample(i, counts, &cpu_first, &cpu_last, &t_first, &t_last);
          ddsi_serdata_unref(sd);
        }
        check(got, "dds_takecdr");
        continue;
      }
      /* A NULL buffer makes Cyclone lend one: taken, deserialised, returned. */
      while ((got = dds_take(readers[i], buf, &info, 1, 1)) > 0) {
        if (info.valid_data) count_sample(i, counts, &cpu_first, &cpu_last, &t_first, &t_last);
        check(dds_return_loan(readers[i], buf, got), "dds_return_loan");
        buf[0] = NULL;
      }
      check(got, "dds_take");
    }
  }
  const uint64_t frames = counts[RGB] > 1 ? counts[RGB] - 1 : 0;
  const double cpu_s = cpu_last - cpu_first;
  const double span_s = (double) (t_last - t_first) / 1e9;
  char a[32], b[32];
  printf("{\"raw\":%s,\"received\":{\"rgb\":%llu,\"depth\":%llu,\"camera_info\":%llu,\"instances\":%llu},\"frames_timed\":%llu,\"span_s\":%.3f,"
         "\"cpu_ms_per_frame\":%s,\"cpu_percent\":%s}\n",
         o->raw ? "true" : "false", (unsigned long long) counts[RGB], (unsigned long long) counts[DEPTH], (unsigned long long) counts[INFO], (unsigned long long) counts[MASKS],
         (unsigned long long) frames, span_s, json_ms(a, sizeof a, frames ? 1000.0 * cpu_s / (double) frames : NAN),
         json_ms(b, sizeof b, span_s > 0 ? 100.0 * cpu_s / span_s : NAN));
  dds_delete(pp);
  return 0;
}
