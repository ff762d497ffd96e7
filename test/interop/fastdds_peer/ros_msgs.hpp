// ROS 2 messages used by the Fast DDS interop peer, written by hand (no fastddsgen): plain
// structs plus one `visit` per message that lists the fields in wire order. The same visit
// drives serialization, deserialization and the exact serialized size (cdr_visitors.hpp), so
// the three can never disagree.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ros {

struct Time {
  int32_t sec = 0;
  uint32_t nanosec = 0;
};

struct Header {
  Time stamp;
  std::string frame_id;
};

struct Image {
  Header header;
  uint32_t height = 0;
  uint32_t width = 0;
  std::string encoding;
  uint8_t is_bigendian = 0;
  uint32_t step = 0;
  std::vector<uint8_t> data;
};

struct RegionOfInterest {
  uint32_t x_offset = 0;
  uint32_t y_offset = 0;
  uint32_t height = 0;
  uint32_t width = 0;
  bool do_rectify = false;
};

struct CameraInfo {
  Header header;
  uint32_t height = 0;
  uint32_t width = 0;
  std::string distortion_model;
  std::vector<double> d;
  std::array<double, 9> k{};
  std::array<double, 9> r{};
  std::array<double, 12> p{};
  uint32_t binning_x = 0;
  uint32_t binning_y = 0;
  RegionOfInterest roi;
};

struct InstanceMasks {
  Header header;
  Image mask;
  std::vector<uint16_t> ids;
  std::vector<std::string> labels;
};

struct Reward {
  Header header;
  std::string spec;
  double reward = 0;
  double progress = 0;
  bool success = false;
  double residual = 0;
};

struct RewardSpec {
  Header header;
  std::string text;
};

// Field lists in declaration (= wire) order. `V` is one of the visitors in cdr_visitors.hpp;
// `M` is the message, const or not.
template <class V, class M> void visit_time(V& v, M& m) { v(m.sec); v(m.nanosec); }
template <class V, class M> void visit_header(V& v, M& m) { visit_time(v, m.stamp); v(m.frame_id); }
template <class V, class M> void visit_image(V& v, M& m) {
  visit_header(v, m.header);
  v(m.height); v(m.width); v(m.encoding); v(m.is_bigendian); v(m.step); v(m.data);
}
template <class V, class M> void visit_roi(V& v, M& m) {
  v(m.x_offset); v(m.y_offset); v(m.height); v(m.width); v(m.do_rectify);
}
template <class V, class M> void visit_camera_info(V& v, M& m) {
  visit_header(v, m.header);
  v(m.height); v(m.width); v(m.distortion_model); v(m.d); v(m.k); v(m.r); v(m.p);
  v(m.binning_x); v(m.binning_y);
  visit_roi(v, m.roi);
}
template <class V, class M> void visit_instance_masks(V& v, M& m) {
  visit_header(v, m.header); visit_image(v, m.mask); v(m.ids); v(m.labels);
}
template <class V, class M> void visit_reward(V& v, M& m) {
  visit_header(v, m.header);
  v(m.spec); v(m.reward); v(m.progress); v(m.success); v(m.residual);
}
template <class V, class M> void visit_reward_spec(V& v, M& m) { visit_header(v, m.header); v(m.text); }

// Type traits for the TopicDataType template: the ROS 2 mangled DDS type name and the visit.
template <class T> struct MsgTraits;
#define ROS_MSG_TRAITS(T, NAME, VISIT)                                   \
  template <> struct MsgTraits<T> {                                      \
    static constexpr const char* dds_name = NAME;                        \
    template <class V, class M> static void visit(V& v, M& m) { VISIT(v, m); } \
  };
ROS_MSG_TRAITS(Image, "sensor_msgs::msg::dds_::Image_", visit_image)
ROS_MSG_TRAITS(CameraInfo, "sensor_msgs::msg::dds_::CameraInfo_", visit_camera_info)
ROS_MSG_TRAITS(InstanceMasks, "spatial_reward_msgs::msg::dds_::InstanceMasks_", visit_instance_masks)
ROS_MSG_TRAITS(Reward, "spatial_reward_msgs::msg::dds_::Reward_", visit_reward)
ROS_MSG_TRAITS(RewardSpec, "spatial_reward_msgs::msg::dds_::RewardSpec_", visit_reward_spec)
#undef ROS_MSG_TRAITS

}  // namespace ros
