"""render(): sizes, orientation, colour, output metadata and every still-image family."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import shoebox.imaging.rendering as render_mod
from imaging_samples import (
    exif_bytes,
    gradient,
    jpeg_bytes,
    marked,
    png_rgb16,
    stored_for,
)
from shoebox.imaging import Rendition
from shoebox.imaging.pipeline import render


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    return im


def _rgb(data: bytes) -> Image.Image:
    return _open(data).convert("RGB")


def _near(pixel, expected, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(pixel, expected))


def assert_upright_marked(im: Image.Image) -> None:
    """Red top-left, green top-right, blue bottom-right, gray bottom-left (see imaging_samples.marked)."""
    w, h = im.size
    at = lambda fx, fy: im.getpixel((int(w * fx), int(h * fy)))  # noqa: E731
    assert _near(at(0.1, 0.1), (255, 0, 0)), at(0.1, 0.1)
    assert _near(at(0.9, 0.1), (0, 255, 0)), at(0.9, 0.1)
    assert _near(at(0.9, 0.9), (0, 0, 255)), at(0.9, 0.9)
    assert _near(at(0.1, 0.9), (128, 128, 128)), at(0.1, 0.9)


# ------------------------------------------------------------------------------------------ sizes


def test_large_jpeg_view_and_grid_sizes_and_draft_path():
    data = jpeg_bytes(gradient((4000, 3000)))
    r = render(data)
    assert isinstance(r, Rendition)
    assert (r.width, r.height) == (4000, 3000)
    assert r.view_size == (1920, 1440) and _open(r.view_jpeg).size == (1920, 1440)
    assert r.grid_size == (320, 240) and _open(r.grid_jpeg).size == (320, 240)
    assert r.format == "jpeg" and r.path == "draft"


def test_draft_target_is_aspect_fitted(monkeypatch):
    """A panorama must decode at 1/8, not at the 1/2 a square (edge × edge) box would pick."""
    seen = {}
    real_finish = render_mod.finish

    def spy(im, **kw):
        seen["decoded"] = im.size
        return real_finish(im, **kw)

    monkeypatch.setattr(render_mod, "finish", spy)
    r = render(jpeg_bytes(gradient((8000, 1000))), view_edge=1000, grid_edge=200)
    assert seen["decoded"] == (1000, 125)
    assert r.view_size == (1000, 125) and r.path == "draft"
    r = render(jpeg_bytes(gradient((4000, 3000))))
    assert seen["decoded"] == (2000, 1500)  # smallest 1/2^n scale still >= 1920 on the long edge


def test_small_images_are_never_upscaled():
    r = render(jpeg_bytes(gradient((300, 200))))
    assert r.view_size == (300, 200) and r.grid_size == (300, 200)
    assert r.path == "decode"
    r = render(jpeg_bytes(gradient((1000, 500))))
    assert r.view_size == (1000, 500) and r.grid_size == (320, 160)


def test_custom_edges():
    r = render(jpeg_bytes(gradient((1200, 900))), view_edge=800, grid_edge=100)
    assert r.view_size == (800, 600) and r.grid_size == (100, 75)


def test_grid_is_made_from_the_view_not_a_second_decode(monkeypatch):
    factories = []
    real = render_mod.open_header

    def counting(fp, fmt):
        factories.append(fmt)
        return real(fp, fmt)

    monkeypatch.setattr(render_mod, "open_header", counting)
    r = render(jpeg_bytes(marked((2400, 1600))))
    assert factories == ["jpeg"]
    grid, view = _rgb(r.grid_jpeg), _rgb(r.view_jpeg)
    assert np.abs(np.asarray(view.resize(grid.size), np.int16) - np.asarray(grid, np.int16)).mean() < 4


# ------------------------------------------------------------------------------------ orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_exactly_once(orientation):
    upright = marked((600, 400))
    stored = stored_for(upright, orientation)
    r = render(jpeg_bytes(stored, exif=exif_bytes(orientation=orientation)))
    assert (r.width, r.height) == (600, 400)
    assert r.view_size == (600, 400) and r.grid_size == (320, 213)
    for data in (r.view_jpeg, r.grid_jpeg):
        out = _open(data)
        assert out.getexif().get(0x0112) is None  # nothing left for a viewer to rotate again
        assert_upright_marked(out.convert("RGB"))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_on_drafted_large_jpeg(orientation):
    stored = stored_for(marked((4000, 2667)), orientation)
    r = render(jpeg_bytes(stored, exif=exif_bytes(orientation=orientation)))
    assert r.path == "draft"
    assert (r.width, r.height) == (4000, 2667) and r.view_size == (1920, 1280)
    assert_upright_marked(_rgb(r.view_jpeg))


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF", "PNG", "WEBP", "TIFF"])
def test_orientation_in_other_containers(fmt):
    upright = marked((300, 200))
    buf = io.BytesIO()
    stored_for(upright, 6).save(buf, fmt, exif=exif_bytes(orientation=6), **({"quality": 90} if fmt in ("HEIF", "AVIF") else {}))
    r = render(buf.getvalue())
    assert (r.width, r.height) == (300, 200) and r.view_size == (300, 200)
    assert_upright_marked(_rgb(r.view_jpeg))


# --------------------------------------------------------------------------------- output encoding


def test_outputs_carry_only_capture_time():
    exif = exif_bytes(
        taken="2007:07:14 18:05:09", offset="+02:00", make="NIKON CORPORATION", model="NIKON D70",
        lens="18-70mm", gps=(48.8584, 2.2945), orientation=1,
    )
    r = render(jpeg_bytes(marked((640, 480)), exif=exif))
    for data in (r.view_jpeg, r.grid_jpeg):
        out = _open(data)
        ex = out.getexif()
        assert 0x8825 not in ex and not ex.get_ifd(0x8825)  # no GPS IFD at all
        assert 0x010F not in ex and 0x0110 not in ex
        assert dict(ex.get_ifd(0x8769)) == {0x9003: "2007:07:14 18:05:09", 0x9011: "+02:00"}
        assert b"NIKON" not in data and b"18-70" not in data
        assert "icc_profile" not in out.info or not out.info["icc_profile"]


def test_output_without_capture_time_has_no_exif():
    r = render(jpeg_bytes(marked((64, 48)), exif=exif_bytes(gps=(1.0, 2.0), make="X")))
    assert "exif" not in _open(r.view_jpeg).info


def test_progressive_quality_85():
    r = render(jpeg_bytes(gradient((500, 400))))
    out = _open(r.view_jpeg)
    assert out.info.get("progressive") == 1
    ref = Image.open(io.BytesIO(jpeg_bytes(gradient((10, 10)), quality=85)))
    assert out.quantization == ref.quantization
    r70 = render(jpeg_bytes(gradient((500, 400))), quality=70)
    assert _open(r70.view_jpeg).quantization != ref.quantization


# ------------------------------------------------------------------------------------------ colour


def test_embedded_icc_profile_is_converted_to_srgb():
    pyvips = pytest.importorskip("pyvips")
    red = pyvips.Image.black(64, 64).new_from_image([255, 0, 0]).copy(interpretation="srgb").cast("uchar")
    p3 = red.icc_export(output_profile="p3", depth=8)
    data = p3.jpegsave_buffer(Q=95)
    assert _near(Image.open(io.BytesIO(data)).getpixel((5, 5)), (231, 49, 35), 8)  # P3 numbers, not sRGB
    out = _rgb(render(data).view_jpeg)
    assert _near(out.getpixel((32, 32)), (255, 0, 0), 14)


def test_cmyk_jpeg_with_profile():
    pyvips = pytest.importorskip("pyvips")
    red = pyvips.Image.black(64, 64).new_from_image([255, 0, 0]).copy(interpretation="srgb").cast("uchar")
    data = red.icc_export(output_profile="cmyk").jpegsave_buffer(Q=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    r, g, b = _rgb(render(data).view_jpeg).getpixel((32, 32))
    assert r > 200 and g < 90 and b < 90


def test_cmyk_jpeg_without_profile():
    buf = io.BytesIO()
    Image.new("CMYK", (200, 100), (0, 255, 255, 0)).save(buf, "JPEG", quality=95)
    r = render(buf.getvalue())
    assert r.view_size == (200, 100)
    assert _near(_rgb(r.view_jpeg).getpixel((100, 50)), (255, 0, 0), 30)


def test_garbage_icc_profile_is_ignored():
    buf = io.BytesIO()
    marked((120, 80)).save(buf, "JPEG", icc_profile=b"not a profile" * 20)
    assert_upright_marked(_rgb(render(buf.getvalue()).view_jpeg))


# ------------------------------------------------------------------------------------ pixel modes


def test_16bit_grayscale_png_is_scaled_not_clipped():
    arr = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (64, 1))
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    assert Image.open(io.BytesIO(buf.getvalue())).mode.startswith("I")
    out = np.asarray(_rgb(render(buf.getvalue()).view_jpeg).convert("L"), np.int16)
    assert abs(out[32, 128] - 128) < 10 and out[32, 3] < 15 and out[32, 252] > 240


def test_16bit_rgb_png():
    arr = np.zeros((40, 60, 3), np.uint16)
    arr[..., 0] = 65535
    arr[..., 2] = 32768
    out = _rgb(render(png_rgb16(arr)).view_jpeg)
    assert _near(out.getpixel((30, 20)), (255, 0, 128), 8)


def test_palette_with_transparency_flattens_on_white():
    im = Image.new("P", (80, 40), 0)
    im.putpalette([255, 0, 0] + [0, 0, 255] + [0] * 762)
    im.paste(1, (40, 0, 80, 40))
    buf = io.BytesIO()
    im.save(buf, "PNG", transparency=0)
    out = _rgb(render(buf.getvalue()).view_jpeg)
    assert _near(out.getpixel((10, 20)), (255, 255, 255), 6)  # transparent → white, not red/black
    assert _near(out.getpixel((70, 20)), (0, 0, 255), 12)


def test_rgba_png_flattens_on_white():
    im = Image.new("RGBA", (80, 40), (0, 0, 0, 0))
    im.paste((0, 128, 0, 255), (40, 0, 80, 40))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    out = _rgb(render(buf.getvalue()).view_jpeg)
    assert _near(out.getpixel((10, 20)), (255, 255, 255), 6)
    assert _near(out.getpixel((70, 20)), (0, 128, 0), 12)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "I", "F"])
def test_other_modes_render(mode):
    base = Image.fromarray(np.tile(np.linspace(0, 255, 100).astype(np.uint8), (50, 1)), "L")
    im = base.convert(mode)
    buf = io.BytesIO()
    im.save(buf, "TIFF" if mode in ("I", "F", "LA") else "PNG")
    r = render(buf.getvalue())
    assert r.view_size == (100, 50)
    out = np.asarray(_rgb(r.view_jpeg).convert("L"), np.int16)
    assert out[25, 5] < 60 and out[25, 95] > 190


# ------------------------------------------------------------------------------ multi-frame formats


def _frames(fmt: str, **kw) -> bytes:
    frames = [Image.new("RGB", (90, 60), c) for c in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], **kw)
    return buf.getvalue()


@pytest.mark.parametrize(
    "fmt, kw", [("GIF", {"duration": 100, "loop": 0}), ("WEBP", {"duration": 100, "lossless": True}), ("TIFF", {})]
)
def test_first_frame_or_page(fmt, kw):
    r = render(_frames(fmt, **kw))
    assert r.view_size == (90, 60)
    assert _near(_rgb(r.view_jpeg).getpixel((45, 30)), (255, 0, 0), 20)


# ------------------------------------------------------------------------- families, paths, limits


@pytest.mark.parametrize(
    "fmt, name",
    [
        ("JPEG", "a.jpg"), ("PNG", "a.png"), ("GIF", "a.gif"), ("WEBP", "a.webp"), ("TIFF", "a.tif"),
        ("BMP", "a.bmp"), ("HEIF", "a.heic"), ("AVIF", "a.avif"),
        ("HEIF", "IMG_0001.JPG"),  # HEIC saved with a .JPG name: content wins
        ("PNG", "scan.jpeg"),
    ],
)
def test_every_family_from_a_path(tmp_path, fmt, name):
    buf = io.BytesIO()
    marked((2400, 1600)).save(buf, fmt, **({"quality": 80} if fmt in ("HEIF", "AVIF", "JPEG", "WEBP") else {}))
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    r = render(path, key=f"originals/2010/01/02/{name}")
    assert r.format == {"HEIF": "heic", "JPEG": "jpeg"}.get(fmt, fmt.lower())
    assert (r.width, r.height) == (2400, 1600)
    assert r.view_size == (1920, 1280) == _open(r.view_jpeg).size
    assert r.grid_size == (320, 213) == _open(r.grid_jpeg).size
    assert r.metadata.taken_at == "2010-01-02"
    assert_upright_marked(_rgb(r.view_jpeg))
    assert render(str(path)).view_size == (1920, 1280)


def test_pillow_global_pixel_limit_does_not_override_ours(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    r = render(jpeg_bytes(gradient((200, 100))))
    assert r.view_size == (200, 100)


def test_max_pixels_from_argument_and_environment(monkeypatch):
    from shoebox.errors import ImageError

    data = jpeg_bytes(gradient((200, 100)))
    with pytest.raises(ImageError, match="decompression-bomb guard.*200x100"):
        render(data, max_pixels=19_999)
    monkeypatch.setenv("SHOEBOX_MAX_PIXELS", "10000")
    with pytest.raises(ImageError, match="over the 0.01 MP limit"):
        render(data)
    assert render(data, max_pixels=20_000).view_size == (200, 100)
