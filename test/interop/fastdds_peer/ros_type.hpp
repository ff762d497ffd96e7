// One Fast DDS TopicDataType for every message of ros_msgs.hpp: keyless, CDR little endian
// (XCDR1, what rmw puts on the wire), the ROS 2 mangled type name, no type object or type
// information (as rmw_fastrtps does for interop with Cyclone DDS).
#pragma once

#include <cstdint>
#include <exception>

#include <fastcdr/Cdr.h>
#include <fastcdr/FastBuffer.h>
#include <fastdds/dds/topic/TopicDataType.hpp>

#include "cdr_visitors.hpp"
#include "ros_msgs.hpp"

namespace ros {

/** Serialized size of `msg` including the 4-byte encapsulation header. */
template <class T> uint32_t serialized_size(const T& msg) {
  CdrSizer sizer;
  MsgTraits<T>::visit(sizer, msg);
  return static_cast<uint32_t>(4 + sizer.off);
}

template <class T> class RosType : public eprosima::fastdds::dds::TopicDataType {
 public:
  /** `max_size`: the preallocation hint (m_typeSize); samples are sized exactly anyway. */
  explicit RosType(uint32_t max_size = 4096) {
    setName(MsgTraits<T>::dds_name);
    m_typeSize = max_size;
    m_isGetKeyDefined = false;
    auto_fill_type_information(false);
    auto_fill_type_object(false);
  }

  bool serialize(void* data, eprosima::fastrtps::rtps::SerializedPayload_t* payload) override {
    const T& msg = *static_cast<const T*>(data);
    eprosima::fastcdr::FastBuffer buffer(reinterpret_cast<char*>(payload->data), payload->max_size);
    eprosima::fastcdr::Cdr ser(buffer, eprosima::fastcdr::Cdr::LITTLE_ENDIANNESS, eprosima::fastcdr::Cdr::DDS_CDR);
    payload->encapsulation = CDR_LE;
    try {
      ser.serialize_encapsulation();
      CdrWriter w{ser};
      MsgTraits<T>::visit(w, msg);
    } catch (const std::exception&) {
      return false;
    }
    payload->length = static_cast<uint32_t>(ser.getSerializedDataLength());
    return true;
  }

  bool deserialize(eprosima::fastrtps::rtps::SerializedPayload_t* payload, void* data) override {
    T& msg = *static_cast<T*>(data);
    eprosima::fastcdr::FastBuffer buffer(reinterpret_cast<char*>(payload->data), payload->length);
    eprosima::fastcdr::Cdr deser(buffer, eprosima::fastcdr::Cdr::DEFAULT_ENDIAN, eprosima::fastcdr::Cdr::DDS_CDR);
    try {
      deser.read_encapsulation();
      payload->encapsulation = deser.endianness() == eprosima::fastcdr::Cdr::BIG_ENDIANNESS ? CDR_BE : CDR_LE;
      CdrReader r{deser, payload->length};
      MsgTraits<T>::visit(r, msg);
    } catch (const std::exception&) {
      return false;
    }
    return true;
  }

  std::function<uint32_t()> getSerializedSizeProvider(void* data) override {
    return [data]() { return serialized_size(*static_cast<const T*>(data)); };
  }

  void* createData() override { return new T(); }
  void deleteData(void* data) override { delete static_cast<T*>(data); }

  bool getKey(void*, eprosima::fastrtps::rtps::InstanceHandle_t*, bool) override { return false; }
};

}  // namespace ros
