import type * as M from "../src/msgs/generated.js";

/**
 * Hostile variants of the messages the nodes take, as a broken or malicious peer would send
 * them: field values (NaN, infinities, negative, zero, huge, off by one, wrong encodings,
 * stamps an hour away, nanosec ≥ 1e9), sizes (truncated, extended, unaligned buffers), counts
 * (thousands of boxes, mismatched ids), text (megabytes, control characters, deep nesting), and
 * raw CDR bytes (flipped, truncated, length words set to extremes). Deterministic for a seed.
 */
export class MessageMutator {
  constructor(private readonly random: () => number) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  /** A number a field should never hold, or a plausible neighbour of `v`. */
  number(v: number): number {
    return this.pick([
      NaN, Infinity, -Infinity, 0, -1, -v, v + 1, v - 1, v * 2, v / 2, 2 ** 31, 2 ** 32 + 1, -(2 ** 31),
      1e300, Number.MIN_VALUE, 0.5, v + 0.5, Number.MAX_SAFE_INTEGER,
    ]);
  }

  stamp(t: M.builtin_interfaces__msg__Time): M.builtin_interfaces__msg__Time {
    return this.pick([
      { sec: t.sec + 3600, nanosec: t.nanosec },
      { sec: t.sec - 3600, nanosec: t.nanosec },
      { sec: t.sec, nanosec: 1_000_000_000 },
      { sec: t.sec, nanosec: 4_294_967_295 },
      { sec: -1, nanosec: 0 },
      { sec: NaN, nanosec: 0 },
      { sec: t.sec + 0.5, nanosec: t.nanosec },
      { sec: 2 ** 31 - 1, nanosec: 999_999_999 },
      { sec: 0, nanosec: 0 },
      { sec: t.sec - 1, nanosec: t.nanosec },
    ]);
  }

  text(base: string): string {
    switch (this.int(9)) {
      case 0: return "";
      case 1: return base.repeat(1 + this.int(20_000));
      case 2: return `${"all(".repeat(1 + this.int(6000))}${base}${")".repeat(this.int(6000))}`;
      case 3: return String.fromCharCode(...Array.from({ length: 1 + this.int(200) }, () => this.int(0x10000)));
      case 4: return `${base}\u0000\u0007\u001b[2J${base}`;
      case 5: return base.slice(0, this.int(base.length + 1));
      case 6: return `${base} 1e999 m NaN -0.0 ${base}`;
      case 7: return "(".repeat(this.int(5000)) + base;
      default: return base.split("").reverse().join("");
    }
  }

  bytes(data: Uint8Array): Uint8Array {
    switch (this.int(7)) {
      case 0: return data.subarray(0, this.int(data.length + 1));
      case 1: {
        const out = new Uint8Array(data.length + 1 + this.int(4096));
        out.set(data);
        return out;
      }
      case 2: {
        // Unaligned view of the same pixels: typed-array views must not assume alignment.
        const big = new Uint8Array(data.length + 3);
        big.set(data, 1);
        return big.subarray(1, 1 + data.length);
      }
      case 3: return new Uint8Array(0);
      case 4: {
        const out = data.slice();
        const f = new Float32Array(out.buffer, 0, out.length >> 2);
        const v = this.pick([NaN, Infinity, -Infinity, -1, 0, 1e30, 1.5]);
        for (let i = 0; i < f.length; i++) if (this.chance(0.5)) f[i] = v;
        return out;
      }
      case 5: return data.slice().fill(this.int(256));
      default: {
        const out = data.slice();
        for (let i = 0; i < 64; i++) out[this.int(out.length)] = this.int(256);
        return out;
      }
    }
  }

  image(m: M.sensor_msgs__msg__Image): M.sensor_msgs__msg__Image {
    const out = { ...m, header: { ...m.header } };
    switch (this.int(9)) {
      case 0: out.width = this.number(m.width); break;
      case 1: out.height = this.number(m.height); break;
      case 2: out.step = this.pick([m.step + 1, m.step + 8, m.step - 1, 0, m.width, this.number(m.step)]); break;
      case 3: out.encoding = this.pick(["8UC3", "", "rgba8", "mono16", "16UC1", "32FC1", "rgb8", "bgr8", "mono8", "64FC1", "x".repeat(5000)]); break;
      case 4: out.is_bigendian = this.pick([1, 2, 255, -1]); break;
      case 5: out.data = this.bytes(m.data); break;
      case 6: out.header.stamp = this.stamp(m.header.stamp); break;
      case 7: {
        // Padded rows with the last row's padding missing: the case that once ended the process.
        const bpp = m.step / m.width;
        const step = m.step + bpp * (1 + this.int(4));
        const data = new Uint8Array(step * (m.height - 1) + m.width * bpp);
        for (let v = 0; v < m.height; v++) data.set(m.data.subarray(v * m.step, v * m.step + m.width * bpp), v * step);
        out.step = step;
        out.data = data;
        break;
      }
      default: out.header.frame_id = this.text("camera_color_optical_frame"); break;
    }
    return out;
  }

  cameraInfo(m: M.sensor_msgs__msg__CameraInfo): M.sensor_msgs__msg__CameraInfo {
    const out = { ...m, k: Array.from(m.k) };
    switch (this.int(4)) {
      case 0: out.k[this.pick([0, 2, 4, 5])] = this.number(out.k[0]); break;
      case 1: out.k = out.k.slice(0, this.int(9)); break;
      case 2: out.width = this.number(m.width); break;
      default: out.height = this.number(m.height); break;
    }
    return out;
  }

  masks(m: M.spatial_reward_msgs__msg__InstanceMasks): M.spatial_reward_msgs__msg__InstanceMasks {
    const out = { ...m, ids: Array.from(m.ids), labels: [...m.labels] };
    switch (this.int(6)) {
      case 0: out.mask = this.image(m.mask); break;
      case 1: out.labels = out.labels.slice(1); break;
      case 2: out.ids = out.ids.map((id) => this.pick([id, 0, 65535, 70000, -1, NaN, 1.5])); break;
      case 3: out.labels = out.labels.map((l) => this.text(l)); break;
      case 4: {
        const data = m.mask.data.slice();
        for (let i = 0; i < data.length; i += 1 + this.int(7)) data[i] = this.int(256);
        out.mask = { ...m.mask, data };
        break;
      }
      default: out.mask = { ...m.mask, data: new Uint8Array(m.mask.data.length) }; break;
    }
    return out;
  }

  detections(m: M.vision_msgs__msg__Detection2DArray, width: number, height: number): M.vision_msgs__msg__Detection2DArray {
    const box = (cx: number, cy: number, w: number, h: number, kind = "mug", score = 0.9): M.vision_msgs__msg__Detection2D => ({
      header: m.header,
      results: [{ hypothesis: { class_id: kind, score }, pose: { pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: new Float64Array(36) } }],
      bbox: { center: { position: { x: cx, y: cy }, theta: 0 }, size_x: w, size_y: h },
      id: "",
    });
    switch (this.int(6)) {
      case 0: return { ...m, detections: Array.from({ length: 50 + this.int(500) }, () => box(width / 2, height / 2, width * 2, height * 2)) };
      case 1: return { ...m, detections: m.detections.map((d) => box(this.number(d.bbox.center.position.x), d.bbox.center.position.y, d.bbox.size_x, this.number(d.bbox.size_y))) };
      case 2: return { ...m, detections: [...m.detections, box(NaN, NaN, 40, 40)] };
      case 3: return { ...m, detections: m.detections.map((d) => ({ ...d, results: [] })) };
      case 4: return { ...m, detections: m.detections.map((d) => box(d.bbox.center.position.x, d.bbox.center.position.y, d.bbox.size_x, d.bbox.size_y, this.text(d.results[0]?.hypothesis.class_id ?? "mug"), this.number(1))) };
      default: return { ...m, detections: [] };
    }
  }

  scene(m: M.spatial_reward_msgs__msg__SceneObjects): M.spatial_reward_msgs__msg__SceneObjects {
    const objects = m.objects.map((o) => ({ ...o, center: { ...o.center }, size: { ...o.size } }));
    switch (this.int(6)) {
      case 0: if (objects[0]) objects[0].center.x = this.number(objects[0].center.x); break;
      case 1: if (objects[0]) objects[0].size.z = this.number(objects[0].size.z); break;
      case 2: return { ...m, objects: Array.from({ length: 2000 }, (_, i) => ({ ...m.objects[0], id: `x#${i}` })) };
      case 3: if (objects[1]) objects[1].id = objects[0].id; break;
      case 4: if (objects[0]) objects[0].kind = this.text(objects[0].kind); break;
      default: return { ...m, support_z: this.number(m.support_z) };
    }
    return { ...m, objects };
  }

  /** Raw CDR bytes as a broken peer sends them: flipped bytes, truncation, length words set to extremes. */
  cdr(bytes: Uint8Array): Uint8Array {
    const out = bytes.slice();
    const dv = new DataView(out.buffer);
    switch (this.int(5)) {
      case 0: return out.subarray(0, 4 + this.int(Math.max(1, out.length - 4)));
      case 1:
        for (let i = 0; i < 1 + this.int(8); i++) out[4 + this.int(out.length - 4)] = this.int(256);
        return out;
      case 2: {
        // A 4-byte word (sequence and string lengths are such words) set to an extreme.
        const at = 4 + 4 * this.int(Math.max(1, (out.length - 8) >> 2));
        dv.setUint32(at, this.pick([0, 1, 0xffffffff, 0x7fffffff, 0x10000, out.length]), true);
        return out;
      }
      case 3: {
        const ext = new Uint8Array(out.length + 1 + this.int(64));
        ext.set(out);
        for (let i = out.length; i < ext.length; i++) ext[i] = this.int(256);
        return ext;
      }
      default:
        // Encapsulation header: big endian, or an unknown representation.
        out[1] = this.pick([0, 2, 3, 0xff]);
        return out;
    }
  }
}
