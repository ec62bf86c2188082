"""Evidence range plots drawn as SVG: every claim about one outcome as a bar (a range)
or a dot (a point), grouped by population, labelled by source, conflicts drawn in red.
The claims are chosen by kb/web/queries.py's plot SQL.

Plain SVG written here: a few dozen rows of rectangles, text and links need no plotting
library, and every bar links to its claim page and carries a tooltip.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable
from xml.sax.saxutils import escape, quoteattr

from kb.evidence.numbers import format_value, interval, plain_number

WIDTH, LABEL_WIDTH, RIGHT, FIGURE_TEXT = 1100, 420, 40, 150
ROW, HEADER, PANEL_GAP, AXIS = 22, 24, 28, 34
BAR, CONFLICT, OPEN_END, TEXT = "#3b6ea5", "#c0392b", "#9aa9b8", "#222"


@dataclass
class Bar:
    claim_id: str
    label: str          # source label: first author and year
    population: str
    unit: str
    timepoint: str
    value: float | None
    low: float | None
    high: float | None
    statement: str
    conflicts: tuple[str, ...] = ()  # ids of claims this one conflicts with
    intervention: str = ""
    measure: str = ""
    n: int | None = None


RATIO = "ratio"


def _panel_of(bar: Bar) -> str:
    """A panel's heading: ratios by kind, on a log scale; other figures by unit."""
    if bar.unit == RATIO:
        return f"{bar.measure or 'ratio'} (log scale)"
    return f"Unit: {bar.unit or 'none'}"


def _span(bar: Bar) -> tuple[float, float]:
    return interval(bar.value, bar.low, bar.high)


def _scale(bars: list[Bar], unit: str) -> tuple[float, float]:
    finite = [x for b in bars for x in (b.value, b.low, b.high) if x is not None]
    if unit == "%":
        return 0.0, 100.0
    lo, hi = min(finite + [0.0]), max(finite)
    if hi == lo:
        hi = lo + 1
    return lo, _nice(hi)


def _nice(x: float) -> float:
    """The round number at or above x that an axis ends on: 13715 -> 20000."""
    if x <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(x))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= x:
            return step * power
    return 10 * power


def _log_ticks(lo: float, hi: float) -> list[float]:
    ticks, exponent = [], round(math.log10(lo))
    while 10 ** exponent <= hi * 1.0001:
        ticks += [m * 10.0 ** exponent for m in (1, 2, 5) if lo <= m * 10 ** exponent <= hi]
        exponent += 1
    return ticks


def _ticks(lo: float, hi: float) -> list[float]:
    step = (hi - lo) / 5
    return [lo + i * step for i in range(6)]


def svg(outcome: str, bars: Iterable[Bar], link: Callable[[str], str],
        note: str = "", by_intervention: bool = False) -> str:
    """The plot for one outcome; one panel per unit (and, by_intervention, per
    treatment: small panels rather than one mixed chart), populations as groups of rows.
    note: a line under the title (what the plot leaves out)."""
    panels: dict[tuple[str, str], list[Bar]] = defaultdict(list)
    for bar in bars:   # ratios of different kinds never share an axis
        treatment = (bar.intervention or "treatment not stated") if by_intervention else ""
        panels[(treatment, _panel_of(bar))].append(bar)
    parts, y = [], 30
    parts.append(f'<text x="10" y="20" font-size="16" font-weight="bold" fill="{TEXT}">'
                 f'Evidence range plot: {escape(outcome)}</text>')
    if note:
        parts.append(f'<text x="10" y="{y + 12}" font-size="12" fill="{CONFLICT}" '
                     f'class="kb-plot-note">{escape(note)}</text>')
        y += 22
    if not panels:
        parts.append(f'<text x="10" y="{y + 20}" fill="{TEXT}">No quantitative claim about '
                     'this outcome yet.</text>')
        y += 40
    for treatment, kind in sorted(panels):
        heading = f"{treatment} · {kind}" if treatment else kind
        chunk, y = _panel(heading, panels[(treatment, kind)], link, y)
        parts.extend(chunk)
        y += PANEL_GAP
    legend = (f'<g font-size="11" fill="{TEXT}"><rect x="10" y="{y}" width="18" height="8" '
              f'fill="{BAR}"/><text x="32" y="{y + 8}">range or point stated</text>'
              f'<rect x="190" y="{y}" width="18" height="8" fill="{CONFLICT}"/>'
              f'<text x="212" y="{y + 8}">in conflict with another source (see '
              f'claim_conflicts)</text><line x1="500" y1="{y + 4}" x2="520" y2="{y + 4}" '
              f'stroke="{OPEN_END}" stroke-width="3" stroke-dasharray="3 2"/>'
              f'<text x="526" y="{y + 8}">open end (up to / at least)</text></g>')
    parts.append(legend)
    height = y + 20
    return (f'<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" '
            f'role="img" aria-label={quoteattr("Evidence range plot: " + outcome)}>'
            f'<rect width="100%" height="100%" fill="white"/>{"".join(parts)}</svg>')


def _log_scale(bars: list[Bar]) -> tuple[float, float]:
    finite = [x for b in bars for x in (b.value, b.low, b.high) if x and x > 0] + [1.0]
    return (10.0 ** math.floor(math.log10(min(finite))),
            10.0 ** max(math.ceil(math.log10(max(finite))), math.floor(
                math.log10(min(finite))) + 1))


def _panel(heading: str, bars: list[Bar], link: Callable[[str], str], y: int
           ) -> tuple[list[str], int]:
    unit = bars[0].unit
    log = unit == RATIO
    lo, hi = _log_scale(bars) if log else _scale(bars, unit)
    x0, x1 = LABEL_WIDTH, WIDTH - RIGHT - FIGURE_TEXT

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        share = ((math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) if log
                 else (v - lo) / (hi - lo))
        return round(x0 + share * (x1 - x0), 1)

    out = [f'<text x="10" y="{y + 14}" font-size="13" font-weight="bold" fill="{TEXT}" '
           f'class="kb-plot-panel">{escape(heading)}</text>']
    y += HEADER
    top, grid_at = y, len(out)
    groups: dict[str, list[Bar]] = defaultdict(list)
    for bar in bars:
        groups[bar.population or "population not stated"].append(bar)
    for population in sorted(groups):
        out.append(f'<text x="10" y="{y + 15}" font-size="12" font-style="italic" '
                   f'fill="#555">{escape(population)}</text>')
        y += ROW
        for bar in sorted(groups[population], key=lambda b: (_span(b), b.claim_id)):
            out.append(_row(bar, x, lo, hi, y, link))
            y += ROW
    # axis with ticks; grid lines go under the bars; a ratio's line of no effect at 1
    out.append(f'<line x1="{x0}" y1="{y + 4}" x2="{x1}" y2="{y + 4}" stroke="#444"/>')
    grid = []
    if log:
        grid.append(f'<line class="kb-plot-null" x1="{x(1.0)}" y1="{top}" x2="{x(1.0)}" '
                    f'y2="{y + 8}" stroke="{TEXT}" stroke-dasharray="4 3"/>')
    for tick in (_log_ticks(lo, hi) if log else _ticks(lo, hi)):
        tx = x(tick)
        grid.append(f'<line x1="{tx}" y1="{top}" x2="{tx}" y2="{y + 8}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{tx}" y="{y + 20}" font-size="11" text-anchor="middle" '
                   f'fill="{TEXT}">{escape(plain_number(round(tick, 6)))}</text>')
    out[grid_at:grid_at] = grid
    return out, y + AXIS


def _row(bar: Bar, x, lo: float, hi: float, y: int, link: Callable[[str], str]) -> str:
    colour = CONFLICT if bar.conflicts else BAR
    start, end = _span(bar)
    figure = format_value({"value": bar.value, "low": bar.low, "high": bar.high,
                           "unit": bar.unit})
    tip = f"{bar.claim_id}: {figure}"
    if bar.timepoint:
        tip += f" at {bar.timepoint}"
    if bar.intervention:
        tip += f" ({bar.intervention})"
    tip += f" — {bar.statement}"
    if bar.conflicts:
        tip += " — conflicts with " + ", ".join(bar.conflicts)
    label = f"{bar.label} · {bar.claim_id}" + (f" · {bar.timepoint}" if bar.timepoint else "")
    if len(label) > 62:
        label = label[:61] + "…"
    mid = y + ROW / 2
    shapes = [f'<text x="22" y="{mid + 4}" font-size="12" fill="{TEXT}">'
              f'{escape(label)}</text>']
    if start == end:
        shapes.append(f'<circle cx="{x(start)}" cy="{mid}" r="5" fill="{colour}"/>')
    else:
        left, right = x(start if start != -math.inf else lo), x(end if end != math.inf
                                                               else hi)
        solid_left = x(start) if start != -math.inf else (x(bar.value) if bar.value
                                                          is not None else right)
        solid_right = x(end) if end != math.inf else (x(bar.value) if bar.value
                                                       is not None else left)
        if start == -math.inf:
            shapes.append(_open(left, solid_left, mid))
        if end == math.inf:
            shapes.append(_open(solid_right, right, mid))
        if solid_right > solid_left:
            shapes.append(f'<rect x="{solid_left}" y="{mid - 5}" width="'
                          f'{round(solid_right - solid_left, 1)}" height="10" '
                          f'fill="{colour}"/>')
        else:
            shapes.append(f'<circle cx="{solid_left}" cy="{mid}" r="5" fill="{colour}"/>')
        if bar.value is not None and bar.low is not None and bar.high is not None:
            shapes.append(f'<line x1="{x(bar.value)}" y1="{mid - 8}" x2="{x(bar.value)}" '
                          f'y2="{mid + 8}" stroke="{TEXT}" stroke-width="2"/>')
    beside = figure + (f" · n {bar.n}" if bar.n else "")
    shapes.append(f'<text x="{WIDTH - RIGHT - FIGURE_TEXT + 8}" y="{mid + 4}" '
                  f'font-size="11" fill="{TEXT}" class="kb-bar-figure">{escape(beside)}</text>')
    shapes.append(f'<text x="{WIDTH - RIGHT + 4}" y="{mid + 4}" font-size="11" '
                  f'fill="{colour}">{"⚠" if bar.conflicts else ""}</text>')
    cls = "kb-bar conflict" if bar.conflicts else "kb-bar"
    return (f'<a href={quoteattr(link(bar.claim_id))} xlink:href='
            f'{quoteattr(link(bar.claim_id))} class="{cls}" data-claim='
            f'{quoteattr(bar.claim_id)}><title>{escape(tip)}</title>'
            f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW}" fill="transparent"/>'
            f'{"".join(shapes)}</a>')


def _open(a: float, b: float, y: float) -> str:
    return (f'<line x1="{a}" y1="{y}" x2="{b}" y2="{y}" stroke="{OPEN_END}" '
            f'stroke-width="4" stroke-dasharray="4 3"/>')


def bars(claim_rows: Iterable, conflict_rows: Iterable[tuple[str, str]]) -> list[Bar]:
    """Bars from rows of kb/web/queries.py's BARS_SQL (read by column name) and the
    (claim_a, claim_b) pairs of its CONFLICTS_SQL."""
    against: dict[str, list[str]] = defaultdict(list)
    for a, b in conflict_rows:
        against[a].append(b)
        against[b].append(a)
    return [Bar(row["id"], row["label"], row["population"] or "", row["unit"] or "",
                row["timepoint"] or "", row["value"], row["low"], row["high"],
                row["statement"], tuple(sorted(against.get(row["id"], ()))),
                row["intervention"] or "", row["measure"] or "", row["n"])
            for row in claim_rows]
