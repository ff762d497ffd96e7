// `fastdds_peer selftest`: the hand-written CDR against fixed bytes and round trips, without
// any DDS traffic. Prints "N passed, M failed" and exits non-zero on a failure.
#include "selftest.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fastdds/rtps/common/SerializedPayload.h>

#include "ros_msgs.hpp"
#include "ros_type.hpp"

namespace {

int passed = 0, failed = 0;

void check(bool ok, const std::string& what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    std::fprintf(stderr, "selftest FAILED: %s\n", what.c_str());
  }
}

template <class T> std::vector<uint8_t> to_bytes(const T& msg, bool* ok) {
  ros::RosType<T> type;
  const uint32_t size = type.getSerializedSizeProvider(const_cast<T*>(&msg))();
  eprosima::fastrtps::rtps::SerializedPayload_t payload(size);
  *ok = type.serialize(const_cast<T*>(&msg), &payload) && payload.length == size;
  return std::vector<uint8_t>(payload.data, payload.data + payload.length);
}

template <class T> bool from_bytes(const std::vector<uint8_t>& bytes, T* out) {
  ros::RosType<T> type;
  eprosima::fastrtps::rtps::SerializedPayload_t payload(static_cast<uint32_t>(bytes.size()));
  std::memcpy(payload.data, bytes.data(), bytes.size());
  payload.length = static_cast<uint32_t>(bytes.size());
  return type.deserialize(&payload, out);
}

bool same_header(const ros::Header& a, const ros::Header& b) {
  return a.stamp.sec == b.stamp.sec && a.stamp.nanosec == b.stamp.nanosec && a.frame_id == b.frame_id;
}

bool same_image(const ros::Image& a, const ros::Image& b) {
  return same_header(a.header, b.header) && a.height == b.height && a.width == b.width && a.encoding == b.encoding &&
         a.is_bigendian == b.is_bigendian && a.step == b.step && a.data == b.data;
}

}  // namespace

int run_selftest() {
  // Reward, byte for byte (XCDR1 little endian: 4-byte header, then 8-byte alignment for
  // float64 counted from the end of the header).
  ros::Reward r;
  r.header.stamp = {1, 2};
  r.header.frame_id = "f";
  r.spec = "ab";
  r.reward = -0.5;
  r.progress = 0.25;
  r.success = true;
  r.residual = 0.5;
  const std::vector<uint8_t> expected = {
      0x00, 0x01, 0x00, 0x00,                          // CDR_LE, options
      0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,  // stamp
      0x02, 0x00, 0x00, 0x00, 'f', 0x00,               // frame_id
      0x00, 0x00,                                      // pad to 4
      0x03, 0x00, 0x00, 0x00, 'a', 'b', 0x00,          // spec
      0x00,                                            // pad to 8
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0xbf,  // reward -0.5
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x3f,  // progress 0.25
      0x01,                                            // success
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // pad to 8
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f,  // residual 0.5
  };
  bool ok = false;
  check(to_bytes(r, &ok) == expected && ok, "Reward bytes");
  ros::Reward r2;
  check(from_bytes(expected, &r2) && same_header(r2.header, r.header) && r2.spec == r.spec && r2.reward == r.reward &&
            r2.progress == r.progress && r2.success && r2.residual == r.residual,
        "Reward round trip");

  // Image: odd-length strings and data, so that every alignment rule is exercised.
  ros::Image img;
  img.header.stamp = {1700000000, 123456789};
  img.header.frame_id = "camera_color_optical_frame";
  img.height = 1;
  img.width = 3;
  img.encoding = "rgb8";
  img.step = 9;
  img.data = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<uint8_t> img_bytes = to_bytes(img, &ok);
  check(ok, "Image size provider matches the serialized length");
  // header 4 | stamp 8 | frame_id 4+26+1 | pad 1 | height 4 | width 4 | encoding 4+4+1 |
  // is_bigendian 1 | pad 2 | step 4 | data 4+9  = 81
  check(img_bytes.size() == 81, "Image size " + std::to_string(img_bytes.size()) + " == 81");
  ros::Image img2;
  check(from_bytes(img_bytes, &img2) && same_image(img, img2), "Image round trip");

  ros::CameraInfo ci;
  ci.header = img.header;
  ci.height = 480;
  ci.width = 640;
  ci.distortion_model = "plumb_bob";
  ci.d.assign(5, 0.0);
  ci.k = {500, 0, 319.5, 0, 500, 239.5, 0, 0, 1};
  ci.r = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  ci.p = {500, 0, 319.5, 0, 0, 500, 239.5, 0, 0, 0, 1, 0};
  ci.roi.do_rectify = true;
  std::vector<uint8_t> ci_bytes = to_bytes(ci, &ok);
  check(ok, "CameraInfo size provider matches the serialized length");
  ros::CameraInfo ci2;
  check(from_bytes(ci_bytes, &ci2) && same_header(ci2.header, ci.header) && ci2.d == ci.d && ci2.k == ci.k && ci2.r == ci.r &&
            ci2.p == ci.p && ci2.roi.do_rectify && ci2.distortion_model == "plumb_bob" && ci2.width == 640,
        "CameraInfo round trip");
  ci.d.clear();  // an empty float64 sequence: no padding for nothing
  check((to_bytes(ci, &ok), ok), "CameraInfo with empty d");

  ros::InstanceMasks im;
  im.header = img.header;
  im.mask = img;
  im.mask.encoding = "16UC1";
  im.ids = {3, 7, 11};
  im.labels = {"mug", "bowl", ""};
  std::vector<uint8_t> im_bytes = to_bytes(im, &ok);
  check(ok, "InstanceMasks size provider matches the serialized length");
  ros::InstanceMasks im2;
  check(from_bytes(im_bytes, &im2) && same_image(im2.mask, im.mask) && im2.ids == im.ids && im2.labels == im.labels,
        "InstanceMasks round trip");

  ros::RewardSpec spec;
  spec.text = "put the red mug next to the blue bowl";
  std::vector<uint8_t> spec_bytes = to_bytes(spec, &ok);
  ros::RewardSpec spec2;
  check(ok && from_bytes(spec_bytes, &spec2) && spec2.text == spec.text, "RewardSpec round trip");

  // Truncated or lying input is rejected, not read past the end.
  std::vector<uint8_t> cut(img_bytes.begin(), img_bytes.end() - 4);
  check(!from_bytes(cut, &img2), "truncated Image rejected");
  std::vector<uint8_t> lying = img_bytes;
  lying[img_bytes.size() - 13 + 3] = 0x7f;  // the data length word (4 + 64) -> huge
  check(!from_bytes(lying, &img2), "Image with a data length past the end rejected");

  check(std::strcmp(ros::RosType<ros::Image>().getName(), "sensor_msgs::msg::dds_::Image_") == 0, "Image type name");
  check(std::strcmp(ros::RosType<ros::InstanceMasks>().getName(), "spatial_reward_msgs::msg::dds_::InstanceMasks_") == 0,
        "InstanceMasks type name");

  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
