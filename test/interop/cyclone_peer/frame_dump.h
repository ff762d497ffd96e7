/* Reads the simulator's frame dump (see sim/frame_dump.ts and ../README.md). */
#ifndef FRAME_DUMP_H
#define FRAME_DUMP_H

#include <stdint.h>

typedef struct dump_label {
  uint16_t id;
  char *label;
} dump_label_t;

typedef struct dump_frame {
  uint8_t *rgb;    /* w*h*3 */
  uint8_t *depth;  /* w*h uint16 LE, mm */
  uint8_t *mask;   /* w*h uint16 LE, instance ids */
  uint32_t n_labels;
  dump_label_t *labels;
  /* The same ids and labels as two arrays, the layout of InstanceMasks' two sequences, so a
     frame's message can point at them instead of copying per send. */
  uint16_t *ids;
  char **label_strings;
  uint8_t *file;   /* owns the bytes above */
} dump_frame_t;

typedef struct frame_dump {
  uint32_t width, height, frames;
  double fx, fy, cx, cy;
  char frame_id[256];
  dump_frame_t *frame;
} frame_dump_t;

/* Loads every frame into memory (publishing must not wait on the disk); exits on error. */
void dump_load(frame_dump_t *d, const char *dir);

#endif
