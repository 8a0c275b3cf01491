"""Tables of metrics, one row per system, with the columns the metric registry declares.

The papers' tables are layouts of registry column names:

* Table I of the LLM-augmentation study for TRELLIS pipelines: CLIP_user, CLIP_aug, CLIP delta,
  the set FD of the per-asset FD's extractor, and the per-asset FD mean, std, min and max;
* Table 3 of GAP3D: FD and KD (×100) per image extractor, FD per point extractor, and CLIP
  against the generator's input text (the caption when there is one, else the prompt);
* Table 1 of PRD / TriplaneTurbo (Ma et al., 2025): CLIP score, R@1/5/10 (%) and the mean total
  latency per asset (s).

Every registered column no paper table shows goes to "Other metrics", so a new registry entry
appears in report.md and compare.md without further edits. Headers, number formats and the
direction arrows (↓ lower is better, ↑ higher) come from the registry.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from text3d.eval.registry import METRICS, MetricRegistry

ARROWS: dict[str, str] = {"lower": "↓", "higher": "↑"}
Systems = Sequence[tuple[str, Mapping[str, Any]]]
"""(system name, metrics.json content) per table row."""


@dataclass(frozen=True)
class Table:
    """A titled table of preformatted cells."""

    title: str
    headers: list[str]
    rows: list[list[str]]

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(map(_md, self.headers)) + " |",
                 "|" + "|".join("---" for _ in self.headers) + "|"]
        lines += ["| " + " | ".join(map(_md, row)) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self.rows)
        return f"<h3>{html.escape(self.title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md(cell: str) -> str:
    """A Markdown table cell: a ``|`` of its text escaped, so it stays one cell."""
    return cell.replace("|", "\\|")


def fmt(value: Any, spec: str = ".2f") -> str:
    """A number in format ``spec``; a missing value as '–'."""
    if value is None:
        return "–"
    if isinstance(value, (int, float)):
        return format(value, spec)
    return str(value)


@dataclass(frozen=True)
class TableColumn:
    """A registry column resolved for one metrics.json: its name (``fd_dinov2-vitl14``), header
    with the direction's arrow, format, and where its number sits."""

    name: str
    header: str
    fmt: str
    key: str
    path: tuple[str, ...]

    def value(self, metrics: Mapping[str, Any]) -> float | None:
        """The column's number in ``metrics`` (None when absent or null)."""
        value: Any = metrics.get(self.key)
        for part in self.path:
            value = value.get(part) if isinstance(value, Mapping) else None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def table_columns(metrics: Mapping[str, Any], registry: MetricRegistry = METRICS) -> list[TableColumn]:
    """The registry columns of the metrics that ``metrics`` (metrics.json content) holds, in
    registry order; per-extractor columns follow the protocol's extractor order."""
    protocol = metrics.get("protocol") or {}
    columns = []
    for metric in registry:
        if metric.per_extractor:
            uses = [(metric.key_for(n), n) for n in protocol.get("extractors", [])]
        else:
            uses = [(metric.key, protocol.get(metric.recorded_as) if metric.recorded_as else None)]
        for key, extractor in uses:
            if key not in metrics:
                continue
            for column in metric.columns:
                name = (column.name or metric.key).replace("{extractor}", str(extractor))
                header = column.header.replace("{extractor}", str(extractor))
                columns.append(TableColumn(name, f"{header} {ARROWS[metric.direction]}", column.fmt, key,
                                           column.path))
    return columns


def column_values(metrics: Mapping[str, Any], registry: MetricRegistry = METRICS) -> dict[str, float]:
    """{column name: number} of every registry column that ``metrics`` reports with a number."""
    values = {}
    for column in table_columns(metrics, registry):
        value = column.value(metrics)
        if value is not None:
            values[column.name] = value
    return values


@dataclass(frozen=True)
class Either:
    """A paper column showing, per system, the first of ``names`` it reports."""

    header: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """A paper table. An entry names registry columns: ``{extractor}`` repeats it (a tuple: its
    names together) for every extractor; ``{<protocol key>}`` is that system's protocol value."""

    title: str
    entries: tuple[str | tuple[str, ...] | Either, ...]


PAPER_TABLES = (
    Layout("Table I of the LLM-augmentation study for TRELLIS pipelines: dual CLIP and FD statistics",
           ("clip_user", "clip_aug", "clip_delta", "fd_{fd_per_asset_extractor}", "fd_per_asset_mean",
            "fd_per_asset_std", "fd_per_asset_min", "fd_per_asset_max")),
    Layout("Table 3 of GAP3D: visual and geometric fidelity",
           (("fd_{extractor}", "kd_{extractor}"), "fd_points_{extractor}",
            Either("CLIP ↑", ("clip_aug", "clip_user")))),
    Layout("Table 1 of PRD / TriplaneTurbo (Ma et al., 2025): quality and speed",
           ("clip_user", "r_at_1", "r_at_5", "r_at_10", "latency_total_mean")),
)


def _filled(template: str, protocol: Mapping[str, Any]) -> str | None:
    """``template`` with each ``{key}`` replaced by ``protocol[key]``; None if one is missing."""
    missing = [k for k in re.findall(r"\{(\w+)\}", template) if not isinstance(protocol.get(k), str)]
    return None if missing else re.sub(r"\{(\w+)\}", lambda m: protocol[m.group(1)], template)


class _Builder:
    """Resolves the systems' columns once and turns layouts into tables, noting the columns used."""

    def __init__(self, systems: Systems, registry: MetricRegistry) -> None:
        self.systems = list(systems)
        self.columns = [{c.name: c for c in table_columns(m, registry)} for _, m in self.systems]
        self.extractors = list(dict.fromkeys(n for _, m in self.systems
                                             for n in (m.get("protocol") or {}).get("extractors", [])))
        self.used: set[str] = set()

    def _slots(self, entry: str | tuple[str, ...] | Either) -> list[tuple[str | None, list[TableColumn | None]]]:
        if isinstance(entry, Either):
            self.used.update(entry.names)
            return [(entry.header, [next((c[n] for n in entry.names if n in c), None) for c in self.columns])]
        group = (entry,) if isinstance(entry, str) else entry
        if any("{extractor}" in t for t in group):
            names = [t.replace("{extractor}", e) for e in self.extractors for t in group]
            self.used.update(names)
            return [(None, [c.get(name) for c in self.columns]) for name in names]
        slots = []
        for template in group:
            names = [_filled(template, m.get("protocol") or {}) for _, m in self.systems]
            self.used.update(n for n in names if n)
            slots.append((None, [c.get(n) if n else None for c, n in zip(self.columns, names)]))
        return slots

    def table(self, title: str, slots: list[tuple[str | None, list[TableColumn | None]]]) -> Table | None:
        slots = [(h, cells) for h, cells in slots if any(cells)]
        if not slots:
            return None
        headers = ["System"] + [h or next(c for c in cells if c).header for h, cells in slots]
        rows = [[system] + [fmt(cells[k].value(m), cells[k].fmt) if cells[k] else "–" for _, cells in slots]
                for k, (system, m) in enumerate(self.systems)]
        return Table(title, headers, rows)

    def layout(self, layout: Layout) -> Table | None:
        return self.table(layout.title, [s for entry in layout.entries for s in self._slots(entry)])

    def others(self) -> Table | None:
        names = list(dict.fromkeys(n for c in self.columns for n in c if n not in self.used))
        return self.table("Other metrics", [(None, [c.get(n) for c in self.columns]) for n in names])


def metric_tables(systems: Systems, registry: MetricRegistry = METRICS) -> list[Table]:
    """The papers' tables and "Other metrics" for ``systems``; a column no system reports, and a
    table left without columns, are left out."""
    builder = _Builder(systems, registry)
    tables = [builder.layout(layout) for layout in PAPER_TABLES]
    tables.append(builder.others())
    return [t for t in tables if t is not None]
