#include "frame_dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *path)
{
  fprintf(stderr, "cyclone_peer: %s: %s\n", what, path);
  exit(1);
}

static uint8_t *read_file(const char *path, size_t *size)
{
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t) n);
  if (fread(buf, 1, (size_t) n, f) != (size_t) n) die("short read", path);
  fclose(f);
  *size = (size_t) n;
  return buf;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t) (p[0] | (p[1] << 8)); }
static uint32_t le32(const uint8_t *p) { return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24); }

void dump_load(frame_dump_t *d, const char *dir)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/meta.txt", dir);
  FILE *m = fopen(path, "r");
  if (!m) die("cannot open", path);
  memset(d, 0, sizeof *d);
  char key[64], value[200];
  while (fscanf(m, "%63s %199s", key, value) == 2) {
    if (!strcmp(key, "width")) d->width = (uint32_t) atoi(value);
    else if (!strcmp(key, "height")) d->height = (uint32_t) atoi(value);
    else if (!strcmp(key, "frames")) d->frames = (uint32_t) atoi(value);
    else if (!strcmp(key, "fx")) d->fx = atof(value);
    else if (!strcmp(key, "fy")) d->fy = atof(value);
    else if (!strcmp(key, "cx")) d->cx = atof(value);
    else if (!strcmp(key, "cy")) d->cy = atof(value);
    else if (!strcmp(key, "frame_id")) snprintf(d->frame_id, sizeof d->frame_id, "%s", value);
  }
  fclose(m);
  if (d->width == 0 || d->height == 0 || d->frames == 0) die("incomplete meta.txt in", dir);
  const size_t px = (size_t) d->width * d->height;
  d->frame = calloc(d->frames, sizeof(dump_frame_t));
  for (uint32_t i = 0; i < d->frames; i++) {
    snprintf(path, sizeof path, "%s/frame_%05u.bin", dir, i);
    size_t size;
    uint8_t *buf = read_file(path, &size);
    if (size < px * 7 + 4) die("frame file too short", path);
    dump_frame_t *f = &d->frame[i];
    f->file = buf;
    f->rgb = buf;
    f->depth = buf + px * 3;
    f->mask = buf + px * 5;
    const uint8_t *p = buf + px * 7;
    f->n_labels = le32(p);
    p += 4;
    f->labels = calloc(f->n_labels ? f->n_labels : 1, sizeof(dump_label_t));
    f->ids = calloc(f->n_labels ? f->n_labels : 1, sizeof(uint16_t));
    f->label_strings = calloc(f->n_labels ? f->n_labels : 1, sizeof(char *));
    for (uint32_t k = 0; k < f->n_labels; k++) {
      if ((size_t) (p + 4 - buf) > size) die("truncated labels in", path);
      f->labels[k].id = le16(p);
      uint16_t len = le16(p + 2);
      if ((size_t) (p + 4 + len - buf) > size) die("truncated label in", path);
      f->labels[k].label = strndup((const char *) p + 4, len);
      f->ids[k] = f->labels[k].id;
      f->label_strings[k] = f->labels[k].label;
      p += 4 + len;
    }
  }
}
