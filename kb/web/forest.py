"""A question's forest plot as SVG: each pooled study a square sized by its weight with
its 95% CI, the pooled diamond and its prediction interval, a linear 0-100 axis for
shares and a log axis with a line at 1 for ratios; each row's figure and n printed
beside it, each row linked to its claim. Plain SVG, as kb/web/svg.py draws: every label
is escaped, nothing in it runs.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, NamedTuple
from xml.sax.saxutils import escape, quoteattr

WIDTH, LABEL_WIDTH, FIGURE_WIDTH, RIGHT = 960, 330, 190, 30
ROW, TOP, AXIS = 24, 44, 40
SQUARE, LINE, DIAMOND, PI, TEXT, GRID = "#3b6ea5", "#222", "#c0392b", "#e08e0b", "#222", "#ddd"


class Row(NamedTuple):
    claim_id: str
    label: str            # study, arm
    n: int | None
    estimate: float
    ci_low: float | None
    ci_high: float | None
    weight: float | None  # percent
    flagged: bool = False


class Pooled(NamedTuple):
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None
    k: int
    n_total: int | None


def _axis(rows: list[Row], pooled: Pooled | None, ratio: bool) -> tuple[float, float]:
    if not ratio:
        return 0.0, 100.0
    values = [v for r in rows for v in (r.estimate, r.ci_low, r.ci_high) if v and v > 0]
    if pooled:
        values += [v for v in (pooled.ci_low, pooled.ci_high, pooled.pi_low, pooled.pi_high)
                   if v and v > 0]
    values += [1.0]
    lo_exp, hi_exp = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    if lo_exp == hi_exp:
        hi_exp += 1
    return 10.0 ** lo_exp, 10.0 ** hi_exp


def _ticks(lo: float, hi: float, ratio: bool) -> list[float]:
    if not ratio:
        return [0, 20, 40, 60, 80, 100]
    ticks, exp = [], round(math.log10(lo))
    while 10 ** exp <= hi * 1.0001:
        for m in (1, 2, 5):
            if lo <= m * 10 ** exp <= hi:
                ticks.append(m * 10.0 ** exp)
        exp += 1
    return ticks


def _number(v: float, ratio: bool) -> str:
    return f"{v:.2f}" if ratio else f"{v:.1f}"


def forest(title: str, rows: Iterable[Row], pooled: Pooled | None, ratio: bool,
           link: Callable[[str], str]) -> str:
    """The plot: rows of the pooled studies, then the pooled estimate when k >= 2."""
    rows = list(rows)
    lo, hi = _axis(rows, pooled, ratio)
    x0, x1 = LABEL_WIDTH + FIGURE_WIDTH, WIDTH - RIGHT

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        share = ((math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) if ratio
                 else (v - lo) / (hi - lo))
        return round(x0 + share * (x1 - x0), 1)

    unit = "" if ratio else " %"
    out = [f'<text x="10" y="20" font-size="15" font-weight="bold" fill="{TEXT}">'
           f'{escape(title)}</text>',
           '<text x="10" y="38" font-size="11" fill="#555">study · arm</text>',
           f'<text x="{LABEL_WIDTH}" y="38" font-size="11" fill="#555">'
           f'{"ratio" if ratio else "%"} (95% CI) · n · weight</text>']
    y = TOP
    max_weight = max((r.weight or 0 for r in rows), default=0) or 1
    for row in rows:
        mid = y + ROW / 2
        side = 6 + 10 * math.sqrt((row.weight or 0) / max_weight)
        ci = (f" ({_number(row.ci_low, ratio)}–{_number(row.ci_high, ratio)})"
              if row.ci_low is not None and row.ci_high is not None else "")
        figure = (f"{_number(row.estimate, ratio)}{unit}{ci}"
                  f"{f' · n {row.n}' if row.n else ''}"
                  f"{f' · {row.weight:.1f} %' if row.weight is not None else ''}")
        label = row.label if len(row.label) <= 48 else row.label[:47] + "…"
        shapes = [f'<text x="10" y="{mid + 4}" font-size="12" fill="{TEXT}">'
                  f'{escape(label)}{" ⚠" if row.flagged else ""}</text>',
                  f'<text x="{LABEL_WIDTH}" y="{mid + 4}" font-size="11" fill="{TEXT}" '
                  f'class="kb-forest-figure">{escape(figure)}</text>']
        if row.ci_low is not None and row.ci_high is not None:
            shapes.append(f'<line x1="{x(row.ci_low)}" y1="{mid}" x2="{x(row.ci_high)}" '
                          f'y2="{mid}" stroke="{LINE}" stroke-width="1.5"/>')
        shapes.append(f'<rect x="{x(row.estimate) - side / 2}" y="{mid - side / 2}" '
                      f'width="{side:.1f}" height="{side:.1f}" fill="{SQUARE}"/>')
        tip = f"{row.claim_id}: {figure}" + (" — flagged, see the claim" if row.flagged
                                              else "")
        out.append(f'<a href={quoteattr(link(row.claim_id))} xlink:href='
                   f'{quoteattr(link(row.claim_id))} class="kb-forest-row" data-claim='
                   f'{quoteattr(row.claim_id)}><title>{escape(tip)}</title>'
                   f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW}" '
                   f'fill="transparent"/>{"".join(shapes)}</a>')
        y += ROW
    if pooled is not None and pooled.k >= 2:
        mid = y + ROW / 2 + 4
        left, centre, right = x(pooled.ci_low), x(pooled.estimate), x(pooled.ci_high)
        text = (f"{_number(pooled.estimate, ratio)}{unit} ({_number(pooled.ci_low, ratio)}"
                f"–{_number(pooled.ci_high, ratio)}) · k {pooled.k}"
                + (f" · n {pooled.n_total}" if pooled.n_total else ""))
        out.append(f'<text x="10" y="{mid + 4}" font-size="12" font-weight="bold" '
                   f'fill="{TEXT}">Pooled (random effects)</text>'
                   f'<text x="{LABEL_WIDTH}" y="{mid + 4}" font-size="11" font-weight="bold" '
                   f'fill="{TEXT}" class="kb-forest-pooled">{escape(text)}</text>')
        if pooled.pi_low is not None and pooled.pi_high is not None:
            out.append(f'<line x1="{x(pooled.pi_low)}" y1="{mid}" x2="{x(pooled.pi_high)}" '
                       f'y2="{mid}" stroke="{PI}" stroke-width="3" '
                       f'class="kb-forest-pi"><title>95% prediction interval '
                       f'{_number(pooled.pi_low, ratio)}–{_number(pooled.pi_high, ratio)}'
                       f'</title></line>')
        out.append(f'<polygon class="kb-forest-diamond" points="{left},{mid} {centre},'
                   f'{mid - 8} {right},{mid} {centre},{mid + 8}" fill="{DIAMOND}"/>')
        y += ROW + 8
    # the axis, its ticks and grid, and for ratios the line of no effect
    grid = []
    for tick in _ticks(lo, hi, ratio):
        tx = x(tick)
        grid.append(f'<line x1="{tx}" y1="{TOP}" x2="{tx}" y2="{y + 4}" stroke="{GRID}"/>')
        out.append(f'<text x="{tx}" y="{y + 20}" font-size="11" text-anchor="middle" '
                   f'fill="{TEXT}">{tick:g}</text>')
    if ratio:
        grid.append(f'<line class="kb-forest-null" x1="{x(1.0)}" y1="{TOP}" x2="{x(1.0)}" '
                    f'y2="{y + 4}" stroke="{LINE}" stroke-dasharray="4 3"/>')
    out.append(f'<line x1="{x0}" y1="{y + 4}" x2="{x1}" y2="{y + 4}" stroke="#444"/>')
    out.append(f'<text x="{(x0 + x1) / 2}" y="{y + 34}" font-size="11" text-anchor="middle" '
               f'fill="#555">{"ratio, log scale" if ratio else "percent"}</text>')
    height = y + AXIS + 4
    return (f'<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" '
            f'role="img" aria-label={quoteattr("Forest plot: " + title)}>'
            f'<rect width="100%" height="100%" fill="white"/>{"".join(grid)}'
            f'{"".join(out)}</svg>')
