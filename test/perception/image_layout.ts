import type { ImageLike } from "../../src/scene/image.js";

/** Bytes per pixel and bytes per element (the unit byte order applies to) of each encoding. */
export const PIXEL_LAYOUT: Readonly<Record<string, { bpp: number; element: number }>> = {
  rgb8: { bpp: 3, element: 1 },
  bgr8: { bpp: 3, element: 1 },
  mono8: { bpp: 1, element: 1 },
  mono16: { bpp: 2, element: 2 },
  "16UC1": { bpp: 2, element: 2 },
  "32FC1": { bpp: 4, element: 4 },
};

export interface ImageLayout {
  /** Padding bytes after each row (step = width x bpp + padBytes). */
  padBytes: number;
  /** Leave out the last row's padding, as producers that trim the buffer do. */
  trimLastRowPadding: boolean;
  /** Where the data starts inside its ArrayBuffer (odd offsets force the unaligned readers). */
  byteOffset: number;
  /** Big-endian samples (is_bigendian = 1). */
  bigEndian: boolean;
}

/**
 * The same pixels under another sensor_msgs/Image memory layout: row padding (optionally
 * missing on the last row), a byte offset into a buffer that ends exactly where the data
 * ends (so any read past it is a RangeError, not a silent read of a neighbour), byte order.
 */
export function relayoutImage(img: ImageLike, layout: Partial<ImageLayout>): ImageLike {
  const l: ImageLayout = { padBytes: 0, trimLastRowPadding: false, byteOffset: 0, bigEndian: false, ...layout };
  const px = PIXEL_LAYOUT[img.encoding];
  if (!px) throw new Error(`relayoutImage: unknown encoding ${img.encoding}`);
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.data.length < img.step * (img.height - 1) + img.width * px.bpp) {
    throw new Error("relayoutImage: the image's fields do not describe its bytes");
  }
  const rowBytes = img.width * px.bpp;
  const step = rowBytes + l.padBytes;
  const length = step * img.height - (l.trimLastRowPadding ? l.padBytes : 0);
  const data = new Uint8Array(new ArrayBuffer(l.byteOffset + length), l.byteOffset, length);
  const srcBig = img.is_bigendian === 1;
  for (let v = 0; v < img.height; v++) {
    const src = img.data.subarray(v * img.step, v * img.step + rowBytes);
    const dst = v * step;
    data.set(src, dst);
    if (srcBig !== l.bigEndian && px.element > 1) {
      for (let i = dst; i < dst + rowBytes; i += px.element) data.subarray(i, i + px.element).reverse();
    }
    // Padding holds garbage in the wild; a reader that uses it shows up as a changed result.
    if (l.padBytes > 0 && (v < img.height - 1 || !l.trimLastRowPadding)) data.fill(0xa5, dst + rowBytes, dst + step);
  }
  return { width: img.width, height: img.height, encoding: img.encoding, step, is_bigendian: l.bigEndian ? 1 : 0, data };
}
