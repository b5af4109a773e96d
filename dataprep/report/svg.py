"""Small inline SVG charts written by hand: the HTML report must render offline, with no script
and no plotting library. Every function returns one ``<svg>`` element as a string."""

from __future__ import annotations

import math
from html import escape

FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"
BAR = "#4f7cac"
MARK = "#c0392b"
MUTED = "#8a8f98"


def _num(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.1f}M"
    if v >= 1e4:
        return f"{v / 1e3:.0f}k"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:.2f}"


def _open(width: int, height: int, title: str) -> list[str]:
    return [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="{escape(title)}" style="{FONT};font-size:11px">',
            f"<title>{escape(title)}</title>"]


def empty(title: str, note: str = "no data", width: int = 520, height: int = 60) -> str:
    out = _open(width, height, title)
    out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}">{escape(note)}</text>')
    return "\n".join(out + ["</svg>"])


def columns(labels: list[str], values: list[float], *, title: str, width: int = 520, height: int = 220,
            marker: tuple[float, str] | None = None, color: str = BAR, x_title: str = "", y_title: str = "") -> str:
    """A vertical bar chart; ``marker`` = (position in bar units from the left edge, label): a
    dashed vertical line, e.g. a context limit between two bins; a position past the last bar is
    drawn at the right edge with an arrow."""
    if not values:
        return empty(title, width=width)
    left, right, top, bottom = 44, 14, 22, 46
    w, h = width - left - right, height - top - bottom
    n = len(values)
    peak = max(max(values), 1)
    bw = w / n
    out = _open(width, height, title)
    out.append(f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="{MUTED}"/>')
    for frac in (0.5, 1.0):
        tick = peak * frac if peak < 2 else round(peak * frac)
        y = top + h - h * tick / peak
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + w}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{_num(tick)}</text>')
    step = max(1, math.ceil(n / 12))  # at most ~12 axis labels
    for i, (lab, v) in enumerate(zip(labels, values)):
        bh = h * v / peak
        x = left + i * bw
        out.append(f'<rect class="bar" x="{x + 1:.1f}" y="{top + h - bh:.1f}" width="{max(bw - 2, 1):.1f}" '
                   f'height="{bh:.1f}" fill="{color}"><title>{escape(str(lab))}: {v:,}</title></rect>')
        if v and bw >= 18:
            out.append(f'<text x="{x + bw / 2:.1f}" y="{top + h - bh - 3:.1f}" text-anchor="middle">{_num(v)}</text>')
        if i % step == 0:
            out.append(f'<text x="{x + bw / 2:.1f}" y="{top + h + 14}" text-anchor="middle" fill="#333">{escape(str(lab))}</text>')
    if x_title:
        out.append(f'<text x="{left + w / 2}" y="{height - 6}" text-anchor="middle" fill="{MUTED}">{escape(x_title)}</text>')
    if y_title:
        out.append(f'<text x="10" y="{top + h / 2}" text-anchor="middle" fill="{MUTED}" '
                   f'transform="rotate(-90 10 {top + h / 2})">{escape(y_title)}</text>')
    if marker is not None:
        pos, label = marker
        off = pos > n
        x = left + min(pos, n) * bw
        out.append(f'<line class="marker" x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{top + h}" stroke="{MARK}" '
                   f'stroke-width="2" stroke-dasharray="5,3"/>')
        anchor = "end" if x > left + w * 0.6 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(f'<text x="{x + dx:.1f}" y="{top - 10}" text-anchor="{anchor}" fill="{MARK}">'
                   f'{escape(label)}{" →" if off else ""}</text>')
    return "\n".join(out + ["</svg>"])


def bars(labels: list[str], values: list[float], *, title: str, width: int = 520, value_labels: list[str] | None = None,
         color: str = BAR, label_width: int = 190) -> str:
    """A horizontal bar chart (top lists: openings, languages, clusters)."""
    if not values:
        return empty(title, width=width)
    row = 20
    top = 8
    height = top + row * len(values) + 8
    w = width - label_width - 130  # room for the value label
    peak = max(max(values), 1e-12)
    out = _open(width, height, title)
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = top + i * row
        text = str(lab)
        if len(text) > 32:
            text = text[:31] + "…"
        out.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" fill="#333">{escape(text)}'
                   f'<title>{escape(str(lab))}</title></text>')
        bw = w * v / peak
        vl = value_labels[i] if value_labels else _num(v)
        # the tooltip shows the figure as printed beside the bar, not a raw share (0.986986986986987)
        out.append(f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{max(bw, 1):.1f}" height="{row - 6}" '
                   f'fill="{color}"><title>{escape(str(lab))}: {escape(vl)}</title></rect>')
        out.append(f'<text x="{label_width + bw + 4:.1f}" y="{y + 14}" fill="#333">{escape(vl)}</text>')
    return "\n".join(out + ["</svg>"])
