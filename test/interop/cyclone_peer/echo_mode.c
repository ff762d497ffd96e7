/*
 * `echo-sink` returns every image it receives; `echo-source` sends images and times their
 * round trip. Together they are the C-to-C baseline the node's own echo is compared with.
 */
#include <stdlib.h>
#include <string.h>

#include "modes.h"
#include "peer_common.h"
#include "sensor_msgs.h"

static dds_entity_t image_topic(dds_entity_t pp, const char *ros)
{
  char name[512];
  ros_topic(name, sizeof name, "", ros);
  return check(dds_create_topic(pp, &sensor_msgs_msg_dds__Image__desc, name, NULL, NULL), "dds_create_topic");
}

int echo_sink_mode(const peer_options_t *o)
{
  const dds_entity_t pp = check(dds_create_participant(peer_domain(), NULL, NULL), "dds_create_participant");
  dds_qos_t *q = qos_reliable(10, false);
  const dds_entity_t rd = check(dds_create_reader(pp, image_topic(pp, o->in_topic), q, NULL), "dds_create_reader");
  const dds_entity_t wr = check(dds_create_writer(pp, image_topic(pp, o->out_topic), q, NULL), "dds_create_writer");
  dds_delete_qos(q);
  const dds_entity_t ws = check(dds_create_waitset(pp), "dds_create_waitset");
  const dds_entity_t rc = check(dds_create_readcondition(rd, DDS_ANY_STATE), "dds_create_readcondition");
  check(dds_waitset_attach(ws, rc, 0), "dds_waitset_attach");
  const int64_t end = o->seconds > 0 ? now_ns() + (int64_t) (o->seconds * 1e9) : INT64_MAX;
  uint64_t echoed = 0;
  while (!stop_requested && now_ns() < end) {
    dds_waitset_wait(ws, NULL, 0, DDS_MSECS(100));
    void *samples[8] = { NULL };
    dds_sample_info_t infos[8];
    dds_return_t n;
    while ((n = dds_take(rd, samples, infos, 8, 8)) > 0) {
      for (dds_return_t i = 0; i < n; i++) {
        if (!infos[i].valid_data) continue;
        check(dds_write(wr, samples[i]), "dds_write echo");
        echoed++;
      }
      dds_return_loan(rd, samples, n);
    }
  }
  fprintf(stderr, "{\"echoed\":%llu}\n", (unsigned long long) echoed);
  check(dds_delete(pp), "dds_delete participant");
  return 0;
}

int echo_source_mode(const peer_options_t *o)
{
  const dds_entity_t pp = check(dds_create_participant(peer_domain(), NULL, NULL), "dds_create_participant");
  dds_qos_t *q = qos_reliable(10, false);
  const dds_entity_t wr = check(dds_create_writer(pp, image_topic(pp, o->out_topic), q, NULL), "dds_create_writer");
  const dds_entity_t rd = check(dds_create_reader(pp, image_topic(pp, o->in_topic), q, NULL), "dds_create_reader");
  dds_delete_qos(q);
  if (o->wait_subscribers_ms > 0 && wait_matched(wr, o->wait_subscribers_ms) < 0) {
    fprintf(stderr, "cyclone_peer: echo sink not found after %lld ms\n", (long long) o->wait_subscribers_ms);
  }
  /* The echo path is ready when our reader sees the sink's writer too. */
  for (int i = 0; i < 500; i++) {
    dds_subscription_matched_status_t st;
    check(dds_get_subscription_matched_status(rd, &st), "dds_get_subscription_matched_status");
    if (st.current_count > 0) break;
    dds_sleepfor(DDS_MSECS(10));
  }
  const dds_entity_t ws = check(dds_create_waitset(pp), "dds_create_waitset");
  check(dds_waitset_attach(ws, check(dds_create_readcondition(rd, DDS_ANY_STATE), "dds_create_readcondition"), 0), "dds_waitset_attach");
  const size_t size = (size_t) o->width * o->height * 3;
  uint8_t *pixels = malloc(size);
  for (size_t i = 0; i < size; i++) pixels[i] = (uint8_t) (i * 7);
  char encoding[] = "rgb8", frame_id[32];
  latencies_t rtt = { 0 };
  uint64_t sent = 0, received = 0;
  const int64_t period = (int64_t) (1e9 / o->rate);
  const int64_t start = now_ns(), end = start + (int64_t) (o->seconds * 1e9);
  int64_t next = start;
  void *samples[8] = { NULL };
  dds_sample_info_t infos[8];
  for (; !stop_requested && next < end; next += period) {
    /* Receive while waiting for the next send time, so replies are timed when they arrive
       (a waitset, not polling: the peer must not steal the CPU the node is measured on). */
    for (int64_t t0 = now_ns(); t0 < next; t0 = now_ns()) {
      dds_waitset_wait(ws, NULL, 0, next - t0);
      dds_return_t n;
      while ((n = dds_take(rd, samples, infos, 8, 8)) > 0) {
        const int64_t t = now_ns();
        for (dds_return_t i = 0; i < n; i++) {
          if (!infos[i].valid_data) continue;
          const sensor_msgs_msg_dds__Image_ *img = samples[i];
          lat_add(&rtt, (double) (t - ((int64_t) img->header.stamp.sec * 1000000000 + img->header.stamp.nanosec)) / 1e6);
          received++;
        }
        dds_return_loan(rd, samples, n);
      }
    }
    const int64_t t = now_ns();
    snprintf(frame_id, sizeof frame_id, "%llu", (unsigned long long) sent);
    sensor_msgs_msg_dds__Image_ img = {
      .header = { .stamp = { .sec = (int32_t) (t / 1000000000), .nanosec = (uint32_t) (t % 1000000000) }, .frame_id = frame_id },
      .height = o->height, .width = o->width, .encoding = encoding, .is_bigendian = 0, .step = o->width * 3,
      .data = { ._maximum = (uint32_t) size, ._length = (uint32_t) size, ._buffer = pixels, ._release = false },
    };
    check(dds_write(wr, &img), "dds_write");
    sent++;
  }
  const int64_t drain_end = now_ns() + 2000000000;
  while (received < sent && now_ns() < drain_end && !stop_requested) {
    dds_waitset_wait(ws, NULL, 0, DDS_MSECS(10));
    dds_return_t n;
    while ((n = dds_take(rd, samples, infos, 8, 8)) > 0) {
      const int64_t t = now_ns();
      for (dds_return_t i = 0; i < n; i++) {
        if (!infos[i].valid_data) continue;
        const sensor_msgs_msg_dds__Image_ *img = samples[i];
        lat_add(&rtt, (double) (t - ((int64_t) img->header.stamp.sec * 1000000000 + img->header.stamp.nanosec)) / 1e6);
        received++;
      }
      dds_return_loan(rd, samples, n);
    }
  }
  char b50[32], b90[32], b99[32], bmax[32];
  printf("{\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"rtt_ms\":{\"p50\":%s,\"p90\":%s,\"p99\":%s,\"max\":%s}}\n", (unsigned long long) sent,
         (unsigned long long) received, (unsigned long long) (sent - received), json_ms(b50, sizeof b50, lat_pct(&rtt, 50)),
         json_ms(b90, sizeof b90, lat_pct(&rtt, 90)), json_ms(b99, sizeof b99, lat_pct(&rtt, 99)), json_ms(bmax, sizeof bmax, lat_pct(&rtt, 100)));
  free(pixels);
  check(dds_delete(pp), "dds_delete participant");
  return 0;
}
