/*
 * `camera`: publishes dumped simulator frames as a RealSense-style ROS 2 camera would, and
 * records every Reward, SpatialAnswer and Detection3DArray the node sends back.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame_dump.h"
#include "modes.h"
#include "peer_common.h"
#include "sensor_msgs.h"
#include "spatial_reward_msgs.h"
#include "std_msgs.h"
#include "vision_msgs.h"

typedef struct sent_frame {
  int64_t stamp;
  bool answered;
} sent_frame_t;

typedef struct camera_state {
  FILE *out;
  sent_frame_t *sent;
  size_t n_sent, cap_sent;
  latencies_t reward_latency;
  uint64_t n_reward, n_answer, n_det;
  /* Writes that found the reader too slow for max_blocking_time: counted, the stream goes on. */
  uint64_t write_timeouts;
} camera_state_t;

static int64_t stamp_ns(const struct std_msgs_msg_dds__Header_ *h)
{
  return (int64_t) h->stamp.sec * 1000000000 + h->stamp.nanosec;
}

static void set_header(struct std_msgs_msg_dds__Header_ *h, int64_t t, char *frame_id)
{
  h->stamp.sec = (int32_t) (t / 1000000000);
  h->stamp.nanosec = (uint32_t) (t % 1000000000);
  h->frame_id = frame_id;
}

static void set_image(sensor_msgs_msg_dds__Image_ *img, const struct std_msgs_msg_dds__Header_ *h, uint32_t w, uint32_t hgt,
                      char *encoding, uint32_t bpp, uint8_t *data)
{
  img->header = *h;
  img->height = hgt;
  img->width = w;
  img->encoding = encoding;
  img->is_bigendian = 0;
  img->step = w * bpp;
  img->data._buffer = data;
  img->data._length = img->data._maximum = w * hgt * bpp;
  img->data._release = false;
}

/* Stamps only grow, so a reward's frame is found by binary search. */
static sent_frame_t *find_sent(camera_state_t *s, int64_t stamp)
{
  size_t lo = 0, hi = s->n_sent;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->sent[mid].stamp < stamp) lo = mid + 1;
    else hi = mid;
  }
  return lo < s->n_sent && s->sent[lo].stamp == stamp ? &s->sent[lo] : NULL;
}

static void take_replies(camera_state_t *s, dds_entity_t reward_rd, dds_entity_t answer_rd, dds_entity_t det_rd)
{
  void *samples[16] = { NULL };
  dds_sample_info_t infos[16];
  dds_return_t n;
  while ((n = dds_take(reward_rd, samples, infos, 16, 16)) > 0) {
    const int64_t recv = now_ns();
    for (dds_return_t i = 0; i < n; i++) {
      if (!infos[i].valid_data) continue;
      const spatial_reward_msgs_msg_dds__Reward_ *r = samples[i];
      const int64_t st = stamp_ns(&r->header);
      s->n_reward++;
      sent_frame_t *f = find_sent(s, st);
      if (f && !f->answered) {
        f->answered = true;
        lat_add(&s->reward_latency, (double) (recv - st) / 1e6);
      }
      if (s->out) {
        fprintf(s->out, "{\"topic\":\"reward\",\"stamp_ns\":%lld,\"recv_ns\":%lld,\"spec\":", (long long) st, (long long) recv);
        json_string(s->out, r->spec);
        fprintf(s->out, ",\"reward\":%.17g,\"progress\":%.17g,\"success\":%s,\"residual\":%.17g}\n", r->reward, r->progress,
                r->success ? "true" : "false", r->residual);
      }
    }
    dds_return_loan(reward_rd, samples, n);
  }
  while ((n = dds_take(answer_rd, samples, infos, 16, 16)) > 0) {
    const int64_t recv = now_ns();
    for (dds_return_t i = 0; i < n; i++) {
      if (!infos[i].valid_data) continue;
      const spatial_reward_msgs_msg_dds__SpatialAnswer_ *a = samples[i];
      s->n_answer++;
      if (!s->out) continue;
      fprintf(s->out, "{\"topic\":\"answer\",\"stamp_ns\":%lld,\"recv_ns\":%lld,\"status\":%u,\"question\":", (long long) stamp_ns(&a->header),
              (long long) recv, a->status);
      json_string(s->out, a->question);
      fputs(",\"type\":", s->out); json_string(s->out, a->type_);
      fputs(",\"subject\":", s->out); json_string(s->out, a->subject);
      fputs(",\"object\":", s->out); json_string(s->out, a->object_);
      char value[40];
      if (isfinite(a->value)) snprintf(value, sizeof value, "%.17g", a->value);
      else snprintf(value, sizeof value, "null");
      fprintf(s->out, ",\"value\":%s,\"unit\":", value);
      json_string(s->out, a->unit);
      fprintf(s->out, ",\"boolean_value\":%s,\"choice\":", a->boolean_value ? "true" : "false");
      json_string(s->out, a->choice);
      fputs(",\"text\":", s->out); json_string(s->out, a->text);
      fprintf(s->out, ",\"confidence\":%.9g,\"source\":", a->confidence);
      json_string(s->out, a->source);
      fputs("}\n", s->out);
    }
    dds_return_loan(answer_rd, samples, n);
  }
  while ((n = dds_take(det_rd, samples, infos, 16, 16)) > 0) {
    const int64_t recv = now_ns();
    for (dds_return_t i = 0; i < n; i++) {
      if (!infos[i].valid_data) continue;
      const vision_msgs_msg_dds__Detection3DArray_ *d = samples[i];
      s->n_det++;
      if (!s->out) continue;
      fprintf(s->out, "{\"topic\":\"detections3d\",\"stamp_ns\":%lld,\"recv_ns\":%lld,\"detections\":[", (long long) stamp_ns(&d->header), (long long) recv);
      for (uint32_t k = 0; k < d->detections._length; k++) {
        const vision_msgs_msg_dds__Detection3D_ *det = &d->detections._buffer[k];
        fputs(k ? ",{\"id\":" : "{\"id\":", s->out);
        json_string(s->out, det->id);
        const bool has = det->results._length > 0;
        fputs(",\"class_id\":", s->out);
        json_string(s->out, has ? det->results._buffer[0].hypothesis.class_id : "");
        fprintf(s->out, ",\"score\":%.9g,\"center\":[%.9g,%.9g,%.9g],\"size\":[%.9g,%.9g,%.9g]}", has ? det->results._buffer[0].hypothesis.score : 0.0,
                det->bbox.center.position.x, det->bbox.center.position.y, det->bbox.center.position.z, det->bbox.size.x, det->bbox.size.y,
                det->bbox.size.z);
      }
      fputs("]}\n", s->out);
    }
    dds_return_loan(det_rd, samples, n);
  }
}

static void write_frame_part(camera_state_t *s, dds_entity_t w, const void *msg, const char *what)
{
  const dds_return_t rc = dds_write(w, msg);
  if (rc == DDS_RETCODE_TIMEOUT) s->write_timeouts++;
  else check(rc, what);
}

int camera_mode(const peer_options_t *o)
{
  frame_dump_t dump;
  dump_load(&dump, o->dir);
  camera_state_t s = { 0 };
  if (o->out) {
    s.out = fopen(o->out, "w");
    if (!s.out) { fprintf(stderr, "cyclone_peer: cannot write %s\n", o->out); return 1; }
  }
  const dds_entity_t pp = check(dds_create_participant(peer_domain(), NULL, NULL), "dds_create_participant");
  char name[512];
  dds_qos_t *wq = qos_reliable(10, false);
  if (o->keep_all) dds_qset_history(wq, DDS_HISTORY_KEEP_ALL, DDS_LENGTH_UNLIMITED);
  dds_qos_t *rq = qos_reliable(100, false);
#define TOPIC(var, desc, ros) \
  ros_topic(name, sizeof name, o->prefix, ros); \
  const dds_entity_t var = check(dds_create_topic(pp, &desc, name, NULL, NULL), "dds_create_topic " ros)
  TOPIC(t_rgb, sensor_msgs_msg_dds__Image__desc, "camera/color/image_raw");
  TOPIC(t_depth, sensor_msgs_msg_dds__Image__desc, "camera/aligned_depth_to_color/image_raw");
  TOPIC(t_info, sensor_msgs_msg_dds__CameraInfo__desc, "camera/color/camera_info");
  TOPIC(t_masks, spatial_reward_msgs_msg_dds__InstanceMasks__desc, "camera/instances");
  TOPIC(t_reward, spatial_reward_msgs_msg_dds__Reward__desc, "reward");
  TOPIC(t_answer, spatial_reward_msgs_msg_dds__SpatialAnswer__desc, "spatial/answer");
  TOPIC(t_det, vision_msgs_msg_dds__Detection3DArray__desc, "scene/detections3d");
#undef TOPIC
  const dds_entity_t w_rgb = check(dds_create_writer(pp, t_rgb, wq, NULL), "dds_create_writer rgb");
  const dds_entity_t w_depth = check(dds_create_writer(pp, t_depth, wq, NULL), "dds_create_writer depth");
  const dds_entity_t w_info = check(dds_create_writer(pp, t_info, wq, NULL), "dds_create_writer camera_info");
  const dds_entity_t w_masks = check(dds_create_writer(pp, t_masks, wq, NULL), "dds_create_writer instances");
  const dds_entity_t r_reward = check(dds_create_reader(pp, t_reward, rq, NULL), "dds_create_reader reward");
  const dds_entity_t r_answer = check(dds_create_reader(pp, t_answer, rq, NULL), "dds_create_reader answer");
  const dds_entity_t r_det = check(dds_create_reader(pp, t_det, rq, NULL), "dds_create_reader detections3d");

  if (o->spec) {
    dds_qos_t *lq = qos_reliable(1, true);
    ros_topic(name, sizeof name, o->prefix, "reward/spec");
    const dds_entity_t t_spec = check(dds_create_topic(pp, &spatial_reward_msgs_msg_dds__RewardSpec__desc, name, NULL, NULL), "dds_create_topic reward/spec");
    const dds_entity_t w_spec = check(dds_create_writer(pp, t_spec, lq, NULL), "dds_create_writer reward/spec");
    dds_delete_qos(lq);
    spatial_reward_msgs_msg_dds__RewardSpec_ msg = { .text = (char *) o->spec };
    set_header(&msg.header, now_ns(), "");
    check(dds_write(w_spec, &msg), "dds_write reward/spec");
  }
  dds_entity_t w_question = 0;
  if (o->question) {
    ros_topic(name, sizeof name, o->prefix, "spatial/question");
    const dds_entity_t t_q = check(dds_create_topic(pp, &std_msgs_msg_dds__String__desc, name, NULL, NULL), "dds_create_topic spatial/question");
    w_question = check(dds_create_writer(pp, t_q, wq, NULL), "dds_create_writer spatial/question");
  }

  /* matched_wait_ms in the summary: time spent waiting for readers, -1 if none came. */
  int64_t matched_ms = 0;
  if (o->wait_subscribers_ms > 0) {
    const int64_t wait_start = now_ns();
    matched_ms = wait_matched(w_rgb, o->wait_subscribers_ms);
    if (matched_ms < 0) {
      fprintf(stderr, "cyclone_peer: no subscriber after %lld ms, publishing anyway\n", (long long) o->wait_subscribers_ms);
    } else {
      /* Also let the depth, masks and info writers match: the node needs all of them per
         frame. Bounded by what is left of the budget, and by 2 s each, since a subscriber to
         the colour image alone (e.g. `listen`) is legitimate. */
      const dds_entity_t others[] = { w_depth, w_masks, w_info };
      const char *names[] = { "depth", "instances", "camera_info" };
      for (int i = 0; i < 3; i++) {
        int64_t left = o->wait_subscribers_ms - (now_ns() - wait_start) / 1000000;
        if (left > 2000) left = 2000;
        if (wait_matched(others[i], left > 0 ? left : 0) < 0)
          fprintf(stderr, "cyclone_peer: no subscriber on %s, publishing anyway\n", names[i]);
      }
      matched_ms = (now_ns() - wait_start) / 1000000;
      /* Discovery is asymmetric: our writers may see the node's readers before those readers
         know our writers, and a volatile reader ignores data from writers it has not matched. */
      dds_sleepfor(DDS_MSECS(500));
    }
  }

  /* Replies are taken as they arrive (waitset), so their latency is not rounded to frames. */
  const dds_entity_t ws = check(dds_create_waitset(pp), "dds_create_waitset");
  check(dds_waitset_attach(ws, check(dds_create_readcondition(r_reward, DDS_ANY_STATE), "dds_create_readcondition"), 0), "dds_waitset_attach");
  check(dds_waitset_attach(ws, check(dds_create_readcondition(r_answer, DDS_ANY_STATE), "dds_create_readcondition"), 1), "dds_waitset_attach");
  check(dds_waitset_attach(ws, check(dds_create_readcondition(r_det, DDS_ANY_STATE), "dds_create_readcondition"), 2), "dds_waitset_attach");
  const int64_t period = (int64_t) (1e9 / o->rate);
  const int64_t start = now_ns();
  const int64_t end = start + (int64_t) (o->seconds * 1e9);
  int64_t next = start, next_question = start;
  char encoding_rgb[] = "rgb8", encoding_16[] = "16UC1", plumb_bob[] = "plumb_bob";
  char *frame_id = dump.frame_id;
  double d[5] = { 0 };
  for (uint64_t k = 0; !stop_requested && next < end; k++) {
    for (int64_t t0 = now_ns(); t0 < next && !stop_requested; t0 = now_ns()) {
      dds_waitset_wait(ws, NULL, 0, next - t0);
      take_replies(&s, r_reward, r_answer, r_det);
    }
    const uint32_t f = (uint32_t) (k % dump.frames);
    const dump_frame_t *fr = &dump.frame[f];
    const int64_t t = now_ns();
    struct std_msgs_msg_dds__Header_ h;
    set_header(&h, t, frame_id);
    if (s.n_sent == s.cap_sent) {
      s.cap_sent = s.cap_sent ? 2 * s.cap_sent : 4096;
      s.sent = realloc(s.sent, s.cap_sent * sizeof(sent_frame_t));
    }
    s.sent[s.n_sent++] = (sent_frame_t) { .stamp = t, .answered = false };
    if (s.out) fprintf(s.out, "{\"topic\":\"sent\",\"index\":%llu,\"frame\":%u,\"stamp_ns\":%lld}\n", (unsigned long long) k, f, (long long) t);

    sensor_msgs_msg_dds__CameraInfo_ info = {
      .header = h, .height = dump.height, .width = dump.width, .distortion_model = plumb_bob,
      .d = { ._maximum = 5, ._length = 5, ._buffer = d, ._release = false },
      .k = { dump.fx, 0, dump.cx, 0, dump.fy, dump.cy, 0, 0, 1 },
      .r = { 1, 0, 0, 0, 1, 0, 0, 0, 1 },
      .p = { dump.fx, 0, dump.cx, 0, 0, dump.fy, dump.cy, 0, 0, 0, 1, 0 },
    };
    write_frame_part(&s, w_info, &info, "dds_write camera_info");
    sensor_msgs_msg_dds__Image_ rgb, depth;
    set_image(&rgb, &h, dump.width, dump.height, encoding_rgb, 3, fr->rgb);
    set_image(&depth, &h, dump.width, dump.height, encoding_16, 2, fr->depth);
    write_frame_part(&s, w_rgb, &rgb, "dds_write rgb");
    write_frame_part(&s, w_depth, &depth, "dds_write depth");
    spatial_reward_msgs_msg_dds__InstanceMasks_ masks = {
      .header = h,
      .ids = { ._maximum = fr->n_labels, ._length = fr->n_labels, ._buffer = fr->ids, ._release = false },
      .labels = { ._maximum = fr->n_labels, ._length = fr->n_labels, ._buffer = fr->label_strings, ._release = false },
    };
    set_image(&masks.mask, &h, dump.width, dump.height, encoding_16, 2, fr->mask);
    write_frame_part(&s, w_masks, &masks, "dds_write instances");
    if (w_question && t >= next_question) {
      std_msgs_msg_dds__String_ q = { .data = (char *) o->question };
      check(dds_write(w_question, &q), "dds_write spatial/question");
      next_question += 1000000000;
    }
    take_replies(&s, r_reward, r_answer, r_det);
    next += period;
  }
  /* Late replies: give the node up to 2 s to answer the last frames. */
  const int64_t drain_end = now_ns() + 2000000000;
  while (now_ns() < drain_end && !stop_requested) {
    dds_waitset_wait(ws, NULL, 0, DDS_MSECS(10));
    take_replies(&s, r_reward, r_answer, r_det);
    size_t unanswered = 0;
    for (size_t i = 0; i < s.n_sent; i++) unanswered += !s.sent[i].answered;
    if (unanswered == 0) break;
  }
  size_t unanswered = 0;
  for (size_t i = 0; i < s.n_sent; i++) unanswered += !s.sent[i].answered;
  char b50[32], b90[32], b99[32], bmax[32];
  printf("{\"sent_frames\":%zu,\"matched_wait_ms\":%lld,\"received\":{\"reward\":%llu,\"answer\":%llu,\"detections3d\":%llu},"
         "\"reward_latency_ms\":{\"p50\":%s,\"p90\":%s,\"p99\":%s,\"max\":%s},\"frames_without_reward\":%zu,\"write_timeouts\":%llu}\n",
         s.n_sent, (long long) matched_ms, (unsigned long long) s.n_reward, (unsigned long long) s.n_answer, (unsigned long long) s.n_det,
         json_ms(b50, sizeof b50, lat_pct(&s.reward_latency, 50)), json_ms(b90, sizeof b90, lat_pct(&s.reward_latency, 90)),
         json_ms(b99, sizeof b99, lat_pct(&s.reward_latency, 99)), json_ms(bmax, sizeof bmax, lat_pct(&s.reward_latency, 100)), unanswered,
         (unsigned long long) s.write_timeouts);
  if (s.out) fclose(s.out);
  dds_delete_qos(wq);
  dds_delete_qos(rq);
  check(dds_delete(pp), "dds_delete participant");
  return 0;
}
