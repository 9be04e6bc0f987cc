"""Camera RAW through rawpy/LibRaw: which path is taken, orientation exactly once, sizes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from imaging_samples import exif_bytes, jpeg_bytes, make_dng, marked, stored_for
from shoebox.errors import ImageError
from shoebox.imaging.pipeline import render


def _rgb(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _dominant(pixel) -> str:
    r, g, b = pixel
    if max(r, g, b) - min(r, g, b) < 40:
        return "gray"
    return "rgb"[int(np.argmax(pixel))]


def upright_colours(im: Image.Image) -> list[str]:
    w, h = im.size
    return [_dominant(im.getpixel((int(w * fx), int(h * fy)))) for fx, fy in ((0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9))]


UPRIGHT = ["r", "g", "b", "gray"]


def test_large_preview_is_used_and_flip_applied_once():
    # Camera layout: sensor landscape, preview stored like the sensor, IFD0 Orientation 6 (LibRaw flip 6).
    upright = marked((2400, 3600))
    dng = make_dng((640, 426), preview=stored_for(upright, 6), orientation=6)
    r = render(dng)
    assert r.path == "raw-preview" and r.format == "dng"
    assert (r.width, r.height) == (426, 640)  # the sensor's size, upright
    assert r.view_size == (1280, 1920) and r.grid_size == (213, 320)
    assert upright_colours(_rgb(r.view_jpeg)) == UPRIGHT
    assert upright_colours(_rgb(r.grid_jpeg)) == UPRIGHT


def test_preview_stored_upright_is_not_rotated_again():
    upright = marked((1600, 2400))  # the camera already rotated its preview
    dng = make_dng((640, 426), preview=upright, orientation=6)
    r = render(dng)
    assert r.path == "raw-preview" and r.view_size == (1280, 1920) and (r.width, r.height) == (426, 640)
    assert upright_colours(_rgb(r.view_jpeg)) == UPRIGHT


def test_preview_exif_orientation_used_when_raw_has_none():
    upright = marked((2400, 1600))
    preview = jpeg_bytes(stored_for(upright, 3), exif=exif_bytes(orientation=3))
    r = render(make_dng((640, 426), preview=preview, orientation=1))
    assert r.path == "raw-preview" and r.view_size == (1920, 1280)
    assert upright_colours(_rgb(r.view_jpeg)) == UPRIGHT


def test_raw_flip_wins_over_a_copied_preview_orientation():
    # Some cameras copy the main EXIF (Orientation 6) into the preview: still rotate only once.
    upright = marked((1600, 2400))
    preview = jpeg_bytes(stored_for(upright, 6), exif=exif_bytes(orientation=6))
    r = render(make_dng((640, 426), preview=preview, orientation=6))
    assert r.view_size == (1280, 1920)
    assert upright_colours(_rgb(r.view_jpeg)) == UPRIGHT


def test_small_preview_falls_back_to_demosaic():
    dng = make_dng((640, 426), preview=marked((160, 106)))
    r = render(dng)
    assert r.path == "raw-demosaic"
    assert (r.width, r.height) == (640, 426)
    assert r.view_size == (640, 426)  # full-size demosaic: half-size would be smaller than the original


def test_preview_as_large_as_the_sensor_counts_as_big_enough():
    dng = make_dng((640, 426), preview=marked((640, 426)))
    r = render(dng)
    assert r.path == "raw-preview" and r.view_size == (640, 426)


def test_embedded_bitmap_used_when_no_jpeg():
    dng = make_dng((640, 426), bitmap=marked((640, 426)))
    r = render(dng)
    assert r.path == "raw-bitmap" and r.view_size == (640, 426)
    assert upright_colours(_rgb(r.view_jpeg)) == UPRIGHT


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_demosaic_applies_flip_once(orientation):
    upright = marked((640, 426))
    scene = stored_for(upright, orientation)
    dng = make_dng(scene.size, scene=scene, orientation=orientation)
    r = render(dng, view_edge=400, grid_edge=100)
    assert r.path == "raw-demosaic"
    assert (r.width, r.height) == (640, 426)
    assert r.view_size == (400, 266) and r.grid_size == (100, 66)
    assert upright_colours(_rgb(r.view_jpeg)) == UPRIGHT


def test_large_raw_without_preview_uses_half_size_demosaic():
    dng = make_dng((4000, 2666))
    r = render(dng)
    assert r.path == "raw-demosaic" and (r.width, r.height) == (4000, 2666)
    assert r.view_size == (1920, 1280) and Image.open(io.BytesIO(r.view_jpeg)).size == (1920, 1280)


def test_dng_written_by_pidng():
    pidng_core = pytest.importorskip("pidng.core")
    from pidng.defs import CFAPattern, CalibrationIlluminant, DNGVersion, Orientation, PhotometricInterpretation

    Tag = pidng_core.Tag
    arr = (np.tile(np.linspace(0, 4095, 256), (170, 1))).astype(np.uint16)
    tags = pidng_core.DNGTags()
    for tag, value in [
        (Tag.ImageWidth, 256), (Tag.ImageLength, 170), (Tag.TileWidth, 256), (Tag.TileLength, 170),
        (Tag.Orientation, Orientation.Horizontal), (Tag.SamplesPerPixel, 1), (Tag.BitsPerSample, 16),
        (Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array),
        (Tag.CFARepeatPatternDim, [2, 2]), (Tag.CFAPattern, CFAPattern.RGGB), (Tag.BlackLevel, 0),
        (Tag.WhiteLevel, 4095), (Tag.CalibrationIlluminant1, CalibrationIlluminant.D65),
        (Tag.ColorMatrix1, [[1, 1], [0, 1], [0, 1], [0, 1], [1, 1], [0, 1], [0, 1], [0, 1], [1, 1]]),
        (Tag.AsShotNeutral, [[1, 1], [1, 1], [1, 1]]), (Tag.Make, "Raspberry"), (Tag.Model, "Pi"),
        (Tag.DNGVersion, DNGVersion.V1_4),
    ]:
        tags.set(tag, value)
    conv = pidng_core.RAW2DNG()
    conv.options(tags, path="", compress=False)
    r = render(bytes(conv.convert(arr)), key="originals/2020/05/06/pi.dng")
    assert r.format == "dng" and r.path == "raw-demosaic"
    assert r.view_size == (256, 170)
    assert r.metadata.camera == "Raspberry Pi" and r.metadata.taken_at == "2020-05-06"
    lum = np.asarray(_rgb(r.view_jpeg).convert("L"), np.int16)
    assert lum[85, 240] > lum[85, 15] + 100  # the ramp survives: dark left, bright right


def test_raw_pixel_guard_refuses_before_unpacking():
    dng = make_dng((640, 426), preview=marked((640, 426)))
    with pytest.raises(ImageError, match=r"decompression-bomb guard: dng declares 640x426"):
        render(dng, max_pixels=100_000)


def test_raw_from_path_with_misleading_extension(tmp_path):
    path = tmp_path / "IMG_0001.JPG"
    path.write_bytes(make_dng((640, 426), preview=marked((1200, 800))))
    r = render(path)
    assert r.format == "dng" and r.path == "raw-preview" and r.view_size == (1200, 800)


def test_camera_tiff_that_libraw_rejects_falls_back_to_tiff():
    from imaging_samples import ASCII, LONG, SHORT, Blob, Ifd, write_tiff

    im = marked((64, 48))
    data = im.tobytes()
    tiff = write_tiff(Ifd([
        (0x00FE, LONG, [1]), (0x010F, ASCII, "NIKON CORPORATION"), (0x0100, LONG, [64]), (0x0101, LONG, [48]),
        (0x0102, SHORT, [8, 8, 8]), (0x0103, SHORT, [1]), (0x0106, SHORT, [2]), (0x0111, LONG, Blob(data)),
        (0x0115, SHORT, [3]), (0x0116, LONG, [48]), (0x0117, LONG, [len(data)]),
    ]))
    r = render(tiff)  # sniffed as NEF (Nikon, reduced-resolution IFD0), LibRaw says no, Pillow reads it
    assert r.format == "tiff" and r.path == "decode" and r.view_size == (64, 48)
    assert upright_colours(_rgb(r.view_jpeg)) == UPRIGHT
