/*
 * `listen`: a type-aware subscriber for checking what another process publishes (ddsperf only
 * knows its own types). Counts the messages on one ROS topic for a while and prints one JSON
 * line: count, latency (receive time − header stamp, same CLOCK_REALTIME on one machine) and
 * a description of the last message, so a test can see the fields arrived as written.
 */
#define _GNU_SOURCE /* open_memstream */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"
#include "peer_common.h"
#include "sensor_msgs.h"
#include "spatial_reward_msgs.h"
#include "std_msgs.h"

typedef enum { T_IMAGE, T_CAMERA_INFO, T_INSTANCES, T_STRING, T_REWARD_SPEC, T_REWARD } listen_type_t;

static const struct {
  const char *name;
  listen_type_t type;
  const dds_topic_descriptor_t *desc;
} TYPES[] = {
  { "image", T_IMAGE, &sensor_msgs_msg_dds__Image__desc },
  { "camera_info", T_CAMERA_INFO, &sensor_msgs_msg_dds__CameraInfo__desc },
  { "instances", T_INSTANCES, &spatial_reward_msgs_msg_dds__InstanceMasks__desc },
  { "string", T_STRING, &std_msgs_msg_dds__String__desc },
  { "reward_spec", T_REWARD_SPEC, &spatial_reward_msgs_msg_dds__RewardSpec__desc },
  { "reward", T_REWARD, &spatial_reward_msgs_msg_dds__Reward__desc },
};

static void describe_image(FILE *f, const sensor_msgs_msg_dds__Image_ *img)
{
  fprintf(f, "{\"width\":%u,\"height\":%u,\"encoding\":", img->width, img->height);
  json_string(f, img->encoding);
  fprintf(f, ",\"is_bigendian\":%u,\"step\":%u,\"data_bytes\":%u,\"frame_id\":", img->is_bigendian, img->step, img->data._length);
  json_string(f, img->header.frame_id);
  fputc('}', f);
}

/* Writes the JSON description of one sample into f (a memstream: only the last one is kept). */
static void describe(FILE *f, listen_type_t type, const void *sample)
{
  switch (type) {
    case T_IMAGE: describe_image(f, sample); break;
    case T_CAMERA_INFO: {
      const sensor_msgs_msg_dds__CameraInfo_ *ci = sample;
      fprintf(f, "{\"width\":%u,\"height\":%u,\"distortion_model\":", ci->width, ci->height);
      json_string(f, ci->distortion_model);
      fprintf(f, ",\"d_len\":%u,\"k\":[", ci->d._length);
      for (int i = 0; i < 9; i++) fprintf(f, i ? ",%.17g" : "%.17g", ci->k[i]);
      fputs("],\"p\":[", f);
      for (int i = 0; i < 12; i++) fprintf(f, i ? ",%.17g" : "%.17g", ci->p[i]);
      fputs("],\"frame_id\":", f);
      json_string(f, ci->header.frame_id);
      fputc('}', f);
      break;
    }
    case T_INSTANCES: {
      const spatial_reward_msgs_msg_dds__InstanceMasks_ *m = sample;
      fputs("{\"mask\":", f);
      describe_image(f, &m->mask);
      fputs(",\"ids\":[", f);
      for (uint32_t i = 0; i < m->ids._length; i++) fprintf(f, i ? ",%u" : "%u", m->ids._buffer[i]);
      fputs("],\"labels\":[", f);
      for (uint32_t i = 0; i < m->labels._length; i++) {
        if (i) fputc(',', f);
        json_string(f, m->labels._buffer[i]);
      }
      fputs("]}", f);
      break;
    }
    case T_STRING: {
      const std_msgs_msg_dds__String_ *s = sample;
      fputs("{\"data\":", f);
      json_string(f, s->data);
      fputc('}', f);
      break;
    }
    case T_REWARD_SPEC: {
      const spatial_reward_msgs_msg_dds__RewardSpec_ *s = sample;
      fputs("{\"text\":", f);
      json_string(f, s->text);
      fputc('}', f);
      break;
    }
    case T_REWARD: {
      const spatial_reward_msgs_msg_dds__Reward_ *r = sample;
      fputs("{\"spec\":", f);
      json_string(f, r->spec);
      fprintf(f, ",\"reward\":%.17g,\"progress\":%.17g,\"success\":%s,\"residual\":%.17g}", r->reward, r->progress, r->success ? "true" : "false", r->residual);
      break;
    }
  }
}

int listen_mode(const peer_options_t *o)
{
  size_t t = 0;
  while (t < sizeof TYPES / sizeof TYPES[0] && strcmp(TYPES[t].name, o->type)) t++;
  if (t == sizeof TYPES / sizeof TYPES[0]) {
    fprintf(stderr, "cyclone_peer listen: unknown --type %s (image, camera_info, instances, string, reward_spec, reward)\n", o->type);
    return 2;
  }
  const listen_type_t type = TYPES[t].type;
  const dds_entity_t pp = check(dds_create_participant(peer_domain(), NULL, NULL), "dds_create_participant");
  char name[512];
  /* "/camera/x" and "camera/x" are the same ROS topic. */
  ros_topic(name, sizeof name, "", o->topic[0] == '/' ? o->topic + 1 : o->topic);
  const dds_entity_t topic = check(dds_create_topic(pp, TYPES[t].desc, name, NULL, NULL), "dds_create_topic");
  /* The spec is latched (transient local) by its publisher; a volatile reader would miss it
     when started late, and a transient-local one would not match the volatile topics. */
  dds_qos_t *q = qos_reliable(100, type == T_REWARD_SPEC);
  const dds_entity_t rd = check(dds_create_reader(pp, topic, q, NULL), "dds_create_reader");
  dds_delete_qos(q);
  const dds_entity_t ws = check(dds_create_waitset(pp), "dds_create_waitset");
  check(dds_waitset_attach(ws, check(dds_create_readcondition(rd, DDS_ANY_STATE), "dds_create_readcondition"), 0), "dds_waitset_attach");

  latencies_t lat = { 0 };
  uint64_t received = 0, bytes = 0;
  int64_t first_recv = 0, last_recv = 0;
  char *last = NULL;
  size_t last_len = 0;
  const int64_t end = o->seconds > 0 ? now_ns() + (int64_t) (o->seconds * 1e9) : INT64_MAX;
  void *samples[16] = { NULL };
  dds_sample_info_t infos[16];
  while (!stop_requested && now_ns() < end && (o->count == 0 || received < o->count)) {
    const int64_t left = end - now_ns();
    dds_waitset_wait(ws, NULL, 0, left < DDS_MSECS(100) ? left : DDS_MSECS(100));
    dds_return_t n;
    while ((n = dds_take(rd, samples, infos, 16, 16)) > 0) {
      const int64_t recv = now_ns();
      for (dds_return_t i = 0; i < n; i++) {
        if (!infos[i].valid_data) continue;
        received++;
        if (!first_recv) first_recv = recv;
        last_recv = recv;
        if (type != T_STRING) {
          /* Every type but String starts with the header, so the sample's first member is it. */
          const struct std_msgs_msg_dds__Header_ *h = samples[i];
          lat_add(&lat, (double) (recv - ((int64_t) h->stamp.sec * 1000000000 + h->stamp.nanosec)) / 1e6);
        }
        if (type == T_IMAGE) bytes += ((const sensor_msgs_msg_dds__Image_ *) samples[i])->data._length;
        if (type == T_INSTANCES) bytes += ((const spatial_reward_msgs_msg_dds__InstanceMasks_ *) samples[i])->mask.data._length;
        free(last);
        FILE *m = open_memstream(&last, &last_len);
        describe(m, type, samples[i]);
        fclose(m);
      }
      dds_return_loan(rd, samples, n);
    }
  }
  const double span_s = received > 1 ? (double) (last_recv - first_recv) / 1e9 : 0;
  char b50[32], b90[32], b99[32], bmax[32], rate[32];
  printf("{\"topic\":");
  json_string(stdout, name);
  printf(",\"type\":\"%s\",\"received\":%llu,\"data_bytes\":%llu,\"rate_hz\":%s,\"latency_ms\":{\"p50\":%s,\"p90\":%s,\"p99\":%s,\"max\":%s},\"last\":%s}\n",
         TYPES[t].name, (unsigned long long) received, (unsigned long long) bytes,
         json_ms(rate, sizeof rate, span_s > 0 ? (double) (received - 1) / span_s : NAN), json_ms(b50, sizeof b50, lat_pct(&lat, 50)),
         json_ms(b90, sizeof b90, lat_pct(&lat, 90)), json_ms(b99, sizeof b99, lat_pct(&lat, 99)), json_ms(bmax, sizeof bmax, lat_pct(&lat, 100)),
         last ? last : "null");
  free(last);
  free(lat.ms);
  check(dds_delete(pp), "dds_delete participant");
  return 0;
}
