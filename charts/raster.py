"""A filled-contour picture of a 2-D field as a small PNG, to sit under the traces as a layout image.

Why not a go.Contour trace: during an animation plotly.js redraws every trace on every frame, and when a frame
arrives before the contour has finished redrawing (always with a 3-D scene in the figure, sometimes on a slow
laptop) the contour vanishes. A layout image is never redrawn by frames, and it is also cheaper for the browser.
The PNG is written with zlib alone, so no imaging library is needed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import struct
import zlib

import numpy as np
import plotly.graph_objects as go

# Plotly's "YlGnBu", from dark (low loss) to light (high loss).
_STOPS = np.array(
    [
        [8, 29, 88],
        [37, 52, 148],
        [34, 94, 168],
        [29, 145, 192],
        [65, 182, 196],
        [127, 205, 187],
        [199, 233, 180],
        [237, 248, 217],
        [255, 255, 217],
    ],
    dtype=np.float64,
)


def colorscale(levels: int = 9) -> list[list]:
    """The same colours as a Plotly colorscale (for a colour bar that matches the picture)."""
    return [[i / (len(_STOPS) - 1), f"rgb({r:.0f},{g:.0f},{b:.0f})"] for i, (r, g, b) in enumerate(_STOPS)]


def banded_indices(z: np.ndarray, bands: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """z quantised into `bands` equal bands between lo and hi, with darker edges where the band changes: an image
    of palette indices (h, w) and its palette (2 * bands, 3), the bands' colours then their darker edge colours."""
    if not 1 <= bands <= 128:
        raise ValueError("from 1 to 128 bands (two palette colours each)")
    t = np.subtract(z, lo, dtype=np.float64)  # in place from here on: this runs on every new loss panel
    t /= hi - lo if hi > lo else 1.0
    np.clip(t, 0.0, 1.0, out=t)
    t *= bands
    band = np.minimum(t.astype(np.uint8), bands - 1)
    u = (np.arange(bands) + 0.5) / bands * (len(_STOPS) - 1)  # each band's colour, from the stops
    i = np.minimum(u.astype(int), len(_STOPS) - 2)
    frac = (u - i)[:, None]
    palette = _STOPS[i] * (1 - frac) + _STOPS[i + 1] * frac
    palette = np.concatenate([palette, palette * 0.78]).astype(np.uint8)
    edge = np.zeros(band.shape, dtype=bool)  # thin darker iso-lines where the band changes
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    band += edge.view(np.uint8) * np.uint8(bands)
    return band, palette


def banded_rgb(z: np.ndarray, bands: int, lo: float, hi: float) -> np.ndarray:
    """RGB image (h, w, 3) of banded_indices' picture."""
    index, palette = banded_indices(z, bands, lo, hi)
    return palette[index]


def _png(width: int, height: int, colour_type: int, rows: np.ndarray, palette: np.ndarray | None = None) -> str:
    """A data: URI holding an 8-bit PNG of these rows (bytes per row, top row first), filter "none" on each."""
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows.reshape(height, -1)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
        + (b"" if palette is None else chunk(b"PLTE", palette.astype(np.uint8).tobytes()))
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_data_uri(rgb: np.ndarray) -> str:
    """Encode an (h, w, 3) uint8 image, top row first, as a data: URI holding an RGB PNG."""
    h, w, _ = rgb.shape
    return _png(w, h, 2, rgb)


def png_indexed_uri(index: np.ndarray, palette: np.ndarray) -> str:
    """Encode an (h, w) image of indices into a palette (at most 256 RGB colours) as an indexed-colour PNG: a
    third of an RGB PNG's bytes to compress, so about a third of the time, and a smaller picture to send."""
    if len(palette) > 256 or index.max(initial=0) >= len(palette):
        raise ValueError("a PNG palette holds at most 256 colours, and every index must be in it")
    h, w = index.shape
    return _png(w, h, 3, index.astype(np.uint8), palette)


def upsample(z: np.ndarray, factor: int) -> np.ndarray:
    """Bilinear upsampling of a grid, so band edges are smooth in the picture: Ry @ z @ Rx.T, where each row of
    an interpolation matrix R holds a fine sample's two weights on the coarse grid."""
    h, w = z.shape
    return _weights(h, factor) @ z @ _weights(w, factor).T


def _weights(n: int, factor: int) -> np.ndarray:
    """((n - 1) * factor + 1, n) linear-interpolation weights from n coarse samples to the fine ones."""
    t = np.linspace(0, n - 1, (n - 1) * factor + 1)
    i = np.minimum(t.astype(int), n - 2)
    frac = t - i
    out = np.zeros((len(t), n))
    rows = np.arange(len(t))
    out[rows, i] = 1 - frac
    out[rows, i + 1] += frac
    return out


def surface_image(a: np.ndarray, b: np.ndarray, z: np.ndarray, xref: str, yref: str, bands: int = 24) -> dict:
    """z (rows along b, columns along a) as banded contours: a layout image (dict) on the axes xref/yref."""
    return {
        "source": _picture(_Field(z), bands),
        "xref": xref,
        "yref": yref,
        "x": float(a[0]),
        "y": float(b[-1]),
        "sizex": float(a[-1] - a[0]),
        "sizey": float(b[-1] - b[0]),
        "xanchor": "left",
        "yanchor": "top",
        "sizing": "stretch",
        "layer": "below",
    }


class _Field:
    """A 2-D field as a cache key, by content: the same loss panel comes back for every learning rate of a family
    (as another copy of the array), and its picture (~10 ms to draw and compress) is made only once."""

    __slots__ = ("z", "digest")

    def __init__(self, z: np.ndarray):
        self.z = np.ascontiguousarray(z, dtype=np.float64)
        self.digest = hashlib.blake2b(repr(self.z.shape).encode() + self.z.tobytes(), digest_size=16).digest()

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Field) and self.digest == other.digest


@functools.lru_cache(maxsize=64)  # a picture is a few tens of kB
def _picture(field: _Field, bands: int) -> str:
    """The PNG data URI of a field's banded contours."""
    z = field.z
    lo, hi = float(z.min()), float(z.max())
    return png_indexed_uri(*banded_indices(upsample(z, 8)[::-1], bands, lo, hi))  # rows run top (high b) down


def colorbar_trace(z: np.ndarray, title: str = "log10<br>loss") -> dict:
    """An invisible trace (dict) whose colour bar explains the picture's colours."""
    lo, hi = float(z.min()), float(z.max())
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "showlegend": False,
        "hoverinfo": "skip",
        "marker": {
            "colorscale": colorscale(),
            "cmin": lo,
            "cmax": hi,
            "color": [lo],
            "showscale": True,
            "colorbar": {"title": {"text": title, "side": "top"}, "len": 0.55, "y": 0.72, "thickness": 12},
        },
    }


NO_GRID = {"showgrid": False, "zeroline": False}  # axes under a surface picture


def add_surface_image(
    fig: go.Figure,
    a: np.ndarray,
    b: np.ndarray,
    z: np.ndarray,
    row: int,
    col: int,
    bands: int = 24,
    title: str = "log10<br>loss",
    colorbar: bool = True,
) -> None:
    """Put z (rows along b, columns along a) under subplot (row, col) of a go.Figure as banded contours, with a
    colour bar (colorbar=False leaves it out, for figures with several pictures)."""
    axes = fig.get_subplot(row, col)
    xref, yref = axes.xaxis.plotly_name.replace("axis", ""), axes.yaxis.plotly_name.replace("axis", "")
    fig.add_layout_image(**surface_image(a, b, z, xref, yref, bands))
    fig.update_xaxes(**NO_GRID, row=row, col=col)
    fig.update_yaxes(**NO_GRID, row=row, col=col)
    if colorbar:
        fig.add_trace(colorbar_trace(z, title), row=row, col=col)
