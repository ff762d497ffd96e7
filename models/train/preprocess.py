"""Camera image → patches, as src/backbone/image_preprocess.ts does it.

Stretch to image_size² with Pillow's BILINEAR coefficients (an area-weighted tent when
shrinking) computed in float: each channel is resized as a mode "F" image, which Pillow
resamples with double coefficients and no 8-bit rounding between the passes, the same as the
TypeScript preprocessor (which states it keeps Pillow's coefficients without that rounding).
Then (v/255 − mean)/std, and patchify to [P, 3p²], each patch channel-major (c, y, x). The
coarse scale of coarse-to-fine is that normalised model image averaged 2×2, patchified.
"""
from __future__ import annotations

import numpy as np
from PIL import Image


def model_image(img: Image.Image, config: dict) -> np.ndarray:
    """PIL image (RGB or L) → normalised [3, S, S] float32."""
    S = config["image_size"]
    if img.mode == "L":
        img = img.convert("RGB")  # mono replicated to three channels
    elif img.mode != "RGB":
        img = img.convert("RGB")
    rgb = np.asarray(img, dtype=np.float32)
    out = np.empty((3, S, S), dtype=np.float32)
    for c in range(3):
        ch = Image.fromarray(np.ascontiguousarray(rgb[:, :, c]), mode="F")
        r = np.asarray(ch.resize((S, S), Image.BILINEAR), dtype=np.float32)
        out[c] = (r / 255.0 - config["image_mean"][c]) / config["image_std"][c]
    return out


def patchify(planes: np.ndarray, p: int) -> np.ndarray:
    """[3, S, S] → [(S/p)², 3p²], patches row-major over the grid, each (c, y, x)."""
    _, S, _ = planes.shape
    g = S // p
    return planes.reshape(3, g, p, g, p).transpose(1, 3, 0, 2, 4).reshape(g * g, 3 * p * p).copy()


def unpatchify(patches: np.ndarray, p: int) -> np.ndarray:
    """[(S/p)², 3p²] → [3, S, S], patchify's inverse."""
    g = int(round(patches.shape[0] ** 0.5))
    return patches.reshape(g, g, 3, p, p).transpose(2, 0, 3, 1, 4).reshape(3, g * p, g * p)


def coarse_planes(planes: np.ndarray) -> np.ndarray:
    """[3, S, S] normalised model image → [3, S/2, S/2], each pixel the mean of a 2×2 block.

    Summed in float64 in the TypeScript preprocessor's order ((a0 + a1) + b0) + b1, times 0.25,
    rounded once to float32 (coarseRow in src/backbone/image_preprocess.ts), so from the same
    float32 image the result is bit-equal.
    """
    a = planes.astype(np.float64)
    s = a[:, 0::2, 0::2] + a[:, 0::2, 1::2] + a[:, 1::2, 0::2] + a[:, 1::2, 1::2]
    return (0.25 * s).astype(np.float32)


def coarse_patches(fine_patches: np.ndarray, config: dict) -> np.ndarray:
    """The coarse patches [(G/2)², 3p²] of coarse-to-fine from the fine patches [G², 3p²] of one
    image (ImagePreprocessor.coarsePatches): the model image averaged 2×2 and patchified, so
    coarse patch (cy, cx) covers fine patches (2cy..2cy+1, 2cx..2cx+1)."""
    p = config["patch_size"]
    return patchify(coarse_planes(unpatchify(fine_patches, p)), p)


def image_patches(img: Image.Image, config: dict) -> np.ndarray:
    return patchify(model_image(img, config), config["patch_size"])


def rgb8_patches(data: bytes, width: int, height: int, config: dict) -> np.ndarray:
    """Raw rgb8 bytes (no row padding) → patches."""
    return image_patches(Image.frombytes("RGB", (width, height), data), config)


def rgb8_coarse_patches(data: bytes, width: int, height: int, config: dict) -> np.ndarray:
    """Raw rgb8 bytes (no row padding) → coarse patches."""
    return coarse_patches(rgb8_patches(data, width, height, config), config)


def rgb8_patches_uint8_pil(data: bytes, width: int, height: int, config: dict) -> np.ndarray:
    """The common PyTorch pipeline (Pillow resize of the 8-bit image, then ToTensor): rounds to 8
    bits after each pass. Not used for training; kept to report how far it is from the runtime."""
    S = config["image_size"]
    img = Image.frombytes("RGB", (width, height), data).resize((S, S), Image.BILINEAR)
    a = np.asarray(img, dtype=np.float32).transpose(2, 0, 1)
    mean = np.asarray(config["image_mean"], dtype=np.float32)[:, None, None]
    std = np.asarray(config["image_std"], dtype=np.float32)[:, None, None]
    return patchify((a / 255.0 - mean) / std, config["patch_size"])
