// fastdds_peer: a Fast DDS (eProsima) ROS 2 peer for interop tests of the spatial-reward node.
// See README.md beside this file.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fastdds/dds/core/status/PublicationMatchedStatus.hpp>
#include <fastdds/dds/core/status/SubscriptionMatchedStatus.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/topic/Topic.hpp>

#include "dds_setup.hpp"
#include "frame_dump.hpp"
#include "report.hpp"
#include "ros_msgs.hpp"
#include "ros_type.hpp"
#include "selftest.hpp"

namespace fdds = eprosima::fastdds::dds;
using Clock = std::chrono::steady_clock;

namespace {

const char* const USAGE = R"(usage:
  fastdds_peer camera --dir DIR [--rate HZ] [--seconds S] [--prefix /camN] [--out FILE]
                      [--wait-subscribers MS] [--settle-ms 500] [--spec-file FILE | --spec TEXT]
                      [--interface IP] [--throughput-mb-s 0]
  fastdds_peer listen-reward [--prefix P] [--seconds S] [--out FILE] [--interface IP]
  fastdds_peer selftest

camera: publishes the frame dump DIR (written by `spatial-reward sim-dump`) cycling at HZ
(default 30) for S seconds (default 10) on rt/<prefix>/camera/{color/image_raw,
aligned_depth_to_color/image_raw, color/camera_info, instances}, latches the reward spec
(DIR/spec.txt by default) on rt/<prefix>/reward/spec, and listens to rt/<prefix>/reward.
Prints one JSON summary line on stdout; --out gets one JSON line per sent frame and per
received Reward. --wait-subscribers MS: wait (at most MS) for a reader of the color image,
then up to 2 s for the other topics' readers, the reward writer and the spec's
acknowledgment, then --settle-ms for discovery to settle. --throughput-mb-s paces sending
(0: as fast as possible).
listen-reward: only subscribes to rt/<prefix>/reward for S seconds and prints a summary;
exits 1 when nothing arrived.
Domain: ROS_DOMAIN_ID (default 0). --interface restricts Fast DDS to one IPv4 address.)";

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

/** `--key value` options after the subcommand; unknown keys are an error. */
std::map<std::string, std::string> parse_options(int argc, char** argv, const std::set<std::string>& known) {
  std::map<std::string, std::string> out;
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") throw std::invalid_argument("");
    if (a.rfind("--", 0) != 0 || !known.count(a.substr(2))) throw std::invalid_argument("unknown argument " + a);
    if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
    out[a.substr(2)] = argv[++i];
  }
  return out;
}

double number_option(const std::map<std::string, std::string>& o, const std::string& key, double dflt, double min) {
  auto it = o.find(key);
  if (it == o.end()) return dflt;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v) || v < min)
  {
    std::ostringstream msg;
    msg << "--" << key << " must be a number >= " << min << ", got '" << it->second << "'";
    throw std::invalid_argument(msg.str());
  }
  return v;
}

std::string string_option(const std::map<std::string, std::string>& o, const std::string& key, const std::string& dflt = "") {
  auto it = o.find(key);
  return it == o.end() ? dflt : it->second;
}

bool file_exists(const std::string& path) {
  std::ifstream in(path);
  return static_cast<bool>(in);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

void set_stamp(ros::Header& h, int64_t ns, const std::string& frame_id) {
  h.stamp.sec = static_cast<int32_t>(ns / 1000000000LL);
  h.stamp.nanosec = static_cast<uint32_t>(ns % 1000000000LL);
  h.frame_id = frame_id;
}

int64_t stamp_ns(const ros::Header& h) {
  return static_cast<int64_t>(h.stamp.sec) * 1000000000LL + h.stamp.nanosec;
}

/** Sleeps until `until` or a signal, in short slices. Returns false when stopped. */
bool sleep_until(Clock::time_point until) {
  while (!g_stop) {
    auto now = Clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, std::chrono::milliseconds(20)));
  }
  return false;
}

/** Takes Reward samples off the reader thread, logs them and matches them to sent frames. */
class RewardCollector : public fdds::DataReaderListener {
 public:
  explicit RewardCollector(std::ostream* out) : out_(out) {}

  void on_data_available(fdds::DataReader* reader) override {
    ros::Reward msg;
    fdds::SampleInfo info;
    while (reader->take_next_sample(&msg, &info) == ReturnCode_t::RETCODE_OK) {
      if (!info.valid_data) continue;
      int64_t recv = realtime_ns();
      int64_t stamp = stamp_ns(msg.header);
      std::lock_guard<std::mutex> lock(mu_);
      received_++;
      if (sent_.count(stamp)) {
        if (rewarded_.insert(stamp).second) latencies_.push_back(recv - stamp);
      } else {
        unmatched_++;
      }
      all_latencies_.push_back(recv - stamp);
      last_ = msg;
      last_recv_ = recv;
      if (out_) {
        *out_ << "{\"topic\":\"reward\",\"stamp_ns\":" << stamp << ",\"recv_ns\":" << recv
              << ",\"spec\":" << json_string(msg.spec) << ",\"reward\":" << json_number(msg.reward)
              << ",\"progress\":" << json_number(msg.progress) << ",\"success\":" << (msg.success ? "true" : "false")
              << ",\"residual\":" << json_number(msg.residual) << "}\n";
      }
    }
  }

  /** Registers a frame about to be published and logs it. */
  void sent(uint64_t index, uint32_t frame, int64_t stamp) {
    std::lock_guard<std::mutex> lock(mu_);
    sent_.insert(stamp);
    if (out_) *out_ << "{\"topic\":\"sent\",\"index\":" << index << ",\"frame\":" << frame << ",\"stamp_ns\":" << stamp << "}\n";
  }

  bool all_rewarded() {
    std::lock_guard<std::mutex> lock(mu_);
    return rewarded_.size() >= sent_.size();
  }

  std::string camera_summary() {
    std::lock_guard<std::mutex> lock(mu_);
    if (out_) out_->flush();
    std::ostringstream s;
    s << "{\"sent_frames\":" << sent_.size() << ",\"received\":{\"reward\":" << received_ << "}"
      << ",\"reward_latency_ms\":" << latency_json_ms(latencies_)
      << ",\"frames_without_reward\":" << (sent_.size() - rewarded_.size())
      << ",\"rewards_not_matching_a_sent_frame\":" << unmatched_ << "}";
    return s.str();
  }

  std::string listen_summary(uint64_t* received) {
    std::lock_guard<std::mutex> lock(mu_);
    if (out_) out_->flush();
    *received = received_;
    std::ostringstream s;
    s << "{\"received\":{\"reward\":" << received_ << "},\"last\":";
    if (last_) {
      s << "{\"stamp_ns\":" << stamp_ns(last_->header) << ",\"recv_ns\":" << last_recv_
        << ",\"frame_id\":" << json_string(last_->header.frame_id) << ",\"spec\":" << json_string(last_->spec)
        << ",\"reward\":" << json_number(last_->reward) << ",\"progress\":" << json_number(last_->progress)
        << ",\"success\":" << (last_->success ? "true" : "false") << ",\"residual\":" << json_number(last_->residual) << "}";
    } else {
      s << "null";
    }
    s << ",\"stamp_to_recv_ms\":" << latency_json_ms(all_latencies_) << "}";
    return s.str();
  }

 private:
  std::mutex mu_;
  std::ostream* out_;
  std::unordered_set<int64_t> sent_;
  std::unordered_set<int64_t> rewarded_;
  std::vector<int64_t> latencies_;
  std::vector<int64_t> all_latencies_;
  uint64_t received_ = 0;
  uint64_t unmatched_ = 0;
  std::optional<ros::Reward> last_;
  int64_t last_recv_ = 0;
};

struct FrameMsgs {
  ros::Image rgb;
  ros::Image depth;
  ros::InstanceMasks masks;
};

ros::Image make_image(const DumpMeta& m, const char* encoding, uint32_t bytes_per_pixel, std::vector<uint8_t> data) {
  ros::Image img;
  img.height = m.height;
  img.width = m.width;
  img.encoding = encoding;
  img.is_bigendian = 0;
  img.step = m.width * bytes_per_pixel;
  img.data = std::move(data);
  return img;
}

FrameMsgs make_frame(const DumpMeta& m, DumpFrame f) {
  FrameMsgs out;
  out.rgb = make_image(m, "rgb8", 3, std::move(f.rgb));
  out.depth = make_image(m, "16UC1", 2, std::move(f.depth));
  out.masks.mask = make_image(m, "16UC1", 2, std::move(f.mask));
  for (auto& [id, label] : f.labels) {
    out.masks.ids.push_back(id);
    out.masks.labels.push_back(label);
  }
  return out;
}

ros::CameraInfo make_camera_info(const DumpMeta& m) {
  ros::CameraInfo ci;
  ci.height = m.height;
  ci.width = m.width;
  ci.distortion_model = "plumb_bob";
  ci.d.assign(5, 0.0);
  ci.k = {m.fx, 0, m.cx, 0, m.fy, m.cy, 0, 0, 1};
  ci.r = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  ci.p = {m.fx, 0, m.cx, 0, 0, m.fy, m.cy, 0, 0, 0, 1, 0};
  return ci;
}

int32_t writer_matches(fdds::DataWriter* w) {
  fdds::PublicationMatchedStatus s;
  w->get_publication_matched_status(s);
  return s.current_count;
}

int32_t reader_matches(fdds::DataReader* r) {
  fdds::SubscriptionMatchedStatus s;
  r->get_subscription_matched_status(s);
  return s.current_count;
}

/** Waits until every writer and the reader have a match, at most until `deadline`. */
void wait_matches(const std::vector<fdds::DataWriter*>& writers, fdds::DataReader* reader, Clock::time_point deadline) {
  while (!g_stop && Clock::now() < deadline) {
    bool all = reader_matches(reader) > 0;
    for (auto* w : writers) all = all && writer_matches(w) > 0;
    if (all) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

/** 4 MB: a 640x480 rgb8 image (921,600 bytes) with header, several times over. */
constexpr uint32_t kImageTypeSize = 4u * 1024u * 1024u;

int run_camera(const std::map<std::string, std::string>& o) {
  const std::string dir = string_option(o, "dir");
  if (dir.empty()) throw std::invalid_argument("camera needs --dir DIR");
  const double rate = number_option(o, "rate", 30, 0.001);
  const double seconds = number_option(o, "seconds", 10, 0);
  const double wait_ms = number_option(o, "wait-subscribers", 0, 0);
  const double settle_ms = number_option(o, "settle-ms", 500, 0);
  const std::string prefix = string_option(o, "prefix");
  const std::string out_path = string_option(o, "out");

  std::optional<std::string> spec;
  if (o.count("spec") && o.count("spec-file")) throw std::invalid_argument("give --spec or --spec-file, not both");
  if (o.count("spec")) spec = o.at("spec");
  else if (o.count("spec-file")) spec = read_text(o.at("spec-file"));
  else if (file_exists(dir + "/spec.txt")) spec = read_text(dir + "/spec.txt");

  const DumpMeta meta = read_dump_meta(dir);
  const uint64_t total = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(rate * seconds)));
  const uint32_t distinct = static_cast<uint32_t>(std::min<uint64_t>(meta.frames, total));
  std::vector<FrameMsgs> frames;
  frames.reserve(distinct);
  for (uint32_t i = 0; i < distinct; i++) frames.push_back(make_frame(meta, read_dump_frame(dir, meta, i)));
  ros::CameraInfo info = make_camera_info(meta);

  std::ofstream out_file;
  if (!out_path.empty()) {
    out_file.open(out_path, std::ios::trunc);
    if (!out_file) throw std::runtime_error("cannot write " + out_path);
  }
  RewardCollector collector(out_path.empty() ? nullptr : &out_file);  // outlives the participant

  peer::Participant part("fastdds_peer_camera", string_option(o, "interface"), number_option(o, "throughput-mb-s", 0, 0));
  fdds::TypeSupport image_type(new ros::RosType<ros::Image>(kImageTypeSize));
  fdds::TypeSupport info_type(new ros::RosType<ros::CameraInfo>());
  fdds::TypeSupport masks_type(new ros::RosType<ros::InstanceMasks>(kImageTypeSize));
  fdds::TypeSupport reward_type(new ros::RosType<ros::Reward>());
  fdds::TypeSupport spec_type(new ros::RosType<ros::RewardSpec>());

  const peer::EndpointQos camera_qos{true, false, 10, true};
  auto* w_rgb = part.writer(part.topic(peer::dds_topic_name(prefix, "camera/color/image_raw"), image_type), camera_qos);
  auto* w_depth = part.writer(part.topic(peer::dds_topic_name(prefix, "camera/aligned_depth_to_color/image_raw"), image_type), camera_qos);
  auto* w_info = part.writer(part.topic(peer::dds_topic_name(prefix, "camera/color/camera_info"), info_type), camera_qos);
  auto* w_masks = part.writer(part.topic(peer::dds_topic_name(prefix, "camera/instances"), masks_type), camera_qos);
  auto* r_reward = part.reader(part.topic(peer::dds_topic_name(prefix, "reward"), reward_type), {true, false, 100}, &collector);

  fdds::DataWriter* w_spec = nullptr;
  if (spec) {
    // Latched (transient local, keep last 1), as a ROS 2 node latches the task.
    w_spec = part.writer(part.topic(peer::dds_topic_name(prefix, "reward/spec"), spec_type), {true, true, 1});
    ros::RewardSpec msg;
    set_stamp(msg.header, realtime_ns(), meta.frame_id);
    msg.text = *spec;
    if (!w_spec->write(&msg)) std::cerr << "fastdds_peer: writing the reward spec failed\n";
  }

  if (wait_ms > 0) {
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::microseconds(static_cast<int64_t>(wait_ms * 1000));
    while (!g_stop && Clock::now() < deadline && writer_matches(w_rgb) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (writer_matches(w_rgb) == 0) {
      std::cerr << "fastdds_peer: no subscriber on " << w_rgb->get_topic()->get_name() << " after " << wait_ms << " ms; publishing anyway\n";
    } else {
      // The image reader is there: give its siblings (depth, info, masks, the reward writer)
      // up to two more seconds to match, or the first frames would go out incomplete.
      const auto grace = std::min(deadline, Clock::now() + std::chrono::seconds(2));
      std::vector<fdds::DataWriter*> siblings{w_depth, w_info, w_masks};
      if (w_spec) siblings.push_back(w_spec);
      wait_matches(siblings, r_reward, grace);
      // The task must be there before the first frame, or the node drops that frame's reward
      // for want of a spec: wait until every matched spec reader acknowledged it.
      if (w_spec && writer_matches(w_spec) > 0) {
        const auto left = std::chrono::duration<double>(std::max(grace, Clock::now() + std::chrono::milliseconds(500)) - Clock::now()).count();
        const eprosima::fastrtps::Duration_t timeout(static_cast<int32_t>(left), static_cast<uint32_t>((left - std::floor(left)) * 1e9));
        if (w_spec->wait_for_acknowledgments(timeout) != ReturnCode_t::RETCODE_OK)
          std::cerr << "fastdds_peer: the reward spec was not acknowledged in time\n";
      }
      // Discovery is asymmetric: a reader we matched may not know our writer yet (it drops
      // what we send), and a reliable Cyclone DDS reader takes the first HEARTBEAT it sees
      // from a writer as its starting point: whatever that heartbeat already lists is
      // skipped as "before the reader existed". Fast DDS 2.9 heartbeats once at matching
      // (too early: the reader may not know us yet) and then only while samples are
      // unacknowledged, so the first frames would be lost. A liveliness assertion on a
      // MANUAL_BY_TOPIC writer heartbeats every matched reader with an empty range, which
      // puts them in sync at sequence number 1. Repeat it while the handshakes settle.
      const auto settle_end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(settle_ms));
      do {
        for (auto* w : {w_rgb, w_depth, w_info, w_masks}) w->assert_liveliness();
      } while (sleep_until(std::min(settle_end, Clock::now() + std::chrono::milliseconds(50))) && Clock::now() < settle_end);
    }
  }

  std::cerr << "fastdds_peer: matched readers: image " << writer_matches(w_rgb) << ", depth " << writer_matches(w_depth)
            << ", camera_info " << writer_matches(w_info) << ", instances " << writer_matches(w_masks) << "; reward writers "
            << reader_matches(r_reward) << (w_spec ? "; spec readers " + std::to_string(writer_matches(w_spec)) : std::string()) << "\n";
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  const auto t0 = Clock::now();
  uint64_t write_failures = 0;
  for (uint64_t k = 0; k < total && !g_stop; k++) {
    if (!sleep_until(t0 + period * static_cast<int64_t>(k))) break;
    const uint32_t f = static_cast<uint32_t>(k % distinct);
    FrameMsgs& fm = frames[f];
    const int64_t stamp = realtime_ns();
    set_stamp(info.header, stamp, meta.frame_id);
    fm.rgb.header = info.header;
    fm.depth.header = info.header;
    fm.masks.header = info.header;
    fm.masks.mask.header = info.header;
    collector.sent(k, f, stamp);
    write_failures += !w_info->write(&info);
    write_failures += !w_depth->write(&fm.depth);
    write_failures += !w_masks->write(&fm.masks);
    write_failures += !w_rgb->write(&fm.rgb);
  }
  // Late replies: up to 2 s more, less when every frame already has its reward.
  const auto late = Clock::now() + std::chrono::seconds(2);
  while (!g_stop && Clock::now() < late && !collector.all_rewarded()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (write_failures) std::cerr << "fastdds_peer: " << write_failures << " write() calls failed\n";
  std::cout << collector.camera_summary() << std::endl;
  return 0;
}

int run_listen_reward(const std::map<std::string, std::string>& o) {
  const double seconds = number_option(o, "seconds", 10, 0);
  const std::string out_path = string_option(o, "out");
  std::ofstream out_file;
  if (!out_path.empty()) {
    out_file.open(out_path, std::ios::trunc);
    if (!out_file) throw std::runtime_error("cannot write " + out_path);
  }
  RewardCollector collector(out_path.empty() ? nullptr : &out_file);
  uint64_t received = 0;
  {
    peer::Participant part("fastdds_peer_listen", string_option(o, "interface"));
    fdds::TypeSupport reward_type(new ros::RosType<ros::Reward>());
    part.reader(part.topic(peer::dds_topic_name(string_option(o, "prefix"), "reward"), reward_type), {true, false, 100}, &collector);
    sleep_until(Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
  }
  std::cout << collector.listen_summary(&received) << std::endl;
  return received > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "camera")
      return run_camera(parse_options(argc, argv, {"dir", "rate", "seconds", "prefix", "out", "wait-subscribers", "spec-file", "spec", "interface", "throughput-mb-s", "settle-ms"}));
    if (cmd == "listen-reward")
      return run_listen_reward(parse_options(argc, argv, {"prefix", "seconds", "out", "interface"}));
    if (cmd == "selftest") return run_selftest();
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << USAGE << "\n";
      return 0;
    }
    std::cerr << (cmd.empty() ? "" : "unknown command " + cmd + "\n") << USAGE << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    if (*e.what()) std::cerr << "fastdds_peer: " << e.what() << "\n";
    std::cerr << USAGE << "\n";
    return *e.what() ? 2 : 0;
  } catch (const std::exception& e) {
    std::cerr << "fastdds_peer: " << e.what() << "\n";
    return 1;
  }
}
