"""Artifacts rendered from collapsed stacks: speedscope JSON and a flamegraph SVG."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path

from perfinvest.core.profiling.hotspots import Stack, parse_frame

_WIDTH = 1200
_ROW = 16
_MIN_WIDTH_PX = 0.3


def speedscope(stacks: Sequence[Stack], name: str) -> dict[str, object]:
    """A speedscope "sampled" profile (https://www.speedscope.app/file-format-schema.json)."""
    frames: list[dict[str, object]] = []
    index: dict[str, int] = {}
    samples: list[list[int]] = []
    weights: list[int] = []
    for stack in stacks:
        ids = []
        for text in stack.frames:
            if text not in index:
                frame = parse_frame(text)
                entry: dict[str, object] = {"name": frame.function}
                if frame.file:
                    entry["file"] = frame.file
                if frame.line:
                    entry["line"] = frame.line
                index[text] = len(frames)
                frames.append(entry)
            ids.append(index[text])
        samples.append(ids)
        weights.append(stack.count)
    total = sum(weights)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": "none",
                "startValue": 0,
                "endValue": total,
                "samples": samples,
                "weights": weights,
            }
        ],
        "name": name,
        "exporter": "perfinvest",
    }


def write_speedscope(stacks: Sequence[Stack], path: Path, name: str) -> Path:
    path.write_text(json.dumps(speedscope(stacks, name)), encoding="utf-8")
    return path


class _Node:
    __slots__ = ("children", "count", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.children: dict[str, _Node] = {}


def _color(name: str) -> str:
    h = sum(ord(c) for c in name)
    return f"rgb({205 + h % 50},{80 + h * 7 % 120},{30 + h * 13 % 50})"


def flamegraph_svg(stacks: Sequence[Stack], title: str) -> str:
    """A static flamegraph (root at the bottom, width = share of samples, hover for detail)."""
    root = _Node("all")
    depth = 0
    for stack in stacks:
        node = root
        node.count += stack.count
        for frame in stack.frames:
            node = node.children.setdefault(frame, _Node(frame))
            node.count += stack.count
        depth = max(depth, len(stack.frames))
    total = max(root.count, 1)
    height = (depth + 1) * _ROW + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'font-family="monospace" font-size="11">',
        f'<text x="{_WIDTH / 2}" y="16" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]

    def draw(node: _Node, x: float, level: int) -> None:
        width = node.count / total * (_WIDTH - 20)
        if width < _MIN_WIDTH_PX:
            return
        y = height - (level + 1) * _ROW - 4
        share = 100.0 * node.count / total
        label = escape(node.name)
        parts.append(
            f"<g><title>{label} ({node.count} samples, {share:.2f}%)</title>"
            f'<rect x="{x + 10:.1f}" y="{y}" width="{width:.1f}" height="{_ROW - 1}" '
            f'fill="{_color(node.name)}" rx="2"/>'
        )
        chars = int(width / 7)
        if chars >= 3:
            text = node.name if len(node.name) <= chars else node.name[: chars - 2] + ".."
            parts.append(f'<text x="{x + 13:.1f}" y="{y + 11}">{escape(text)}</text>')
        parts.append("</g>")
        child_x = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            draw(child, child_x, level + 1)
            child_x += child.count / total * (_WIDTH - 20)

    draw(root, 0.0, 0)
    parts.append("</svg>")
    return "\n".join(parts)


def write_flamegraph(stacks: Sequence[Stack], path: Path, title: str) -> Path:
    path.write_text(flamegraph_svg(stacks, title), encoding="utf-8")
    return path
