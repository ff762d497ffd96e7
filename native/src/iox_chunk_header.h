/* iceoryx 2.0's ChunkHeader, version 1 (iceoryx_posh/mepoo/chunk_header.hpp), which the C binding
   has no accessors for. It lives in the chunk, in memory every publisher of the segment can write:
   raw_sertype.c checks a received chunk's fields against each other, and the interop peer's
   iox-hostile mode (test/interop/cyclone_peer) writes lies into them, both through this one layout. */
#pragma once
#include <stdint.h>

struct iox_chunk_header_v1 {
  uint32_t chunk_size;
  uint8_t version;
  uint8_t reserved;
  uint16_t user_header_id;
  uint64_t origin_id;
  uint64_t sequence_number;
  uint32_t user_header_size;
  uint32_t user_payload_size;
  uint32_t user_payload_alignment;
  uint32_t user_payload_offset;
};
