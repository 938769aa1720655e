"""How the templates are filled in, and how numbers and user text are written into an exported program."""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template

import numpy as np
import torch

WIDTH = 116  # the longest line of an exported program (ruff allows 120)

_WHOLE_LINE = re.compile(r"^( *)\$(\w+)$")


@dataclass(frozen=True)
class Section:
    """One part of the program: a banner title, a short explanation (markdown, for the notebook) and its code."""

    title: str
    markdown: str
    code: str


def fill(template: str, **parts: object) -> str:
    """The template with its `$name`s replaced by `parts[name]`.

    A `$name` alone on its line takes a block of lines, each indented like the `$name`; an empty block removes the
    line, which is how a template leaves out what a run does not use. Elsewhere `$name` is replaced inline.
    """
    lines: list[str] = []
    for line in template.rstrip("\n").split("\n"):
        whole = _WHOLE_LINE.match(line)
        if whole:
            pad, name = whole.groups()
            lines += [pad + part if part else "" for part in str(parts[name]).splitlines()]
        else:
            lines.append(Template(line).substitute(parts))
    return "\n".join(lines)


def blocks(*parts: str) -> str:
    """The parts that are not empty, with one blank line between them."""
    return "\n\n".join(part for part in parts if part)


def f32(value: float) -> str:
    """The shortest Python literal that torch.tensor(..., dtype=torch.float32) turns into exactly this float32."""
    v = np.float32(value)
    short = str(v)
    try:
        if np.float32(float(short)).tobytes() == v.tobytes():
            return short
    except ValueError:
        pass
    return repr(float(v))


def float_list(values) -> str:
    """A (nested) list of float32 values as a Python literal."""
    if isinstance(values, (list, tuple)):
        return "[" + ", ".join(float_list(v) for v in values) + "]"
    return f32(values) if isinstance(values, (float, np.floating)) else repr(values)


def f64_list(values) -> str:
    """float64 values as a Python list literal that reads back to the same bits."""
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def tensor_literal(name: str, t: torch.Tensor, comment: str) -> str:
    """A comment, then `name = torch.tensor([...], dtype=torch.float32)` with its numbers wrapped if need be.

    A single column (n, 1) is written as a flat list, then reshaped: it reads more easily.
    """
    column = t.ndim == 2 and t.shape[1] == 1
    items = [float_list(v) for v in (t[:, 0] if column else t).tolist()]
    opening, tail = f"{name} = torch.tensor([", "], dtype=torch.float32)"
    reshape = f"\n{name} = {name}.reshape(-1, 1)" if column else ""
    one_line = opening + ", ".join(items) + tail
    if len(one_line) <= WIDTH:
        return f"{comment}\n{one_line}{reshape}"
    lines, current = [], ""
    for item in items:
        if current and len(current) + len(item) + 2 > WIDTH - 4:
            lines.append("    " + current + ",")
            current = ""
        current = f"{current}, {item}" if current else item
    lines.append("    " + current)
    return f"{comment}\n{opening}\n" + "\n".join(lines) + "\n" + tail + reshape


def print_lines(parts: list[str]) -> str:
    """`print(f"...")` of the parts joined by ", ", split over several f-strings when it would be too long."""
    line = 'print(f"' + ", ".join(parts) + '")'
    if len(line) <= WIDTH:
        return line
    chunks, current = [], ""
    for part in parts:
        joined = f"{current}, {part}" if current else part
        if current and 8 + len(joined) > WIDTH:
            chunks.append(current + ", ")
            current = part
        else:
            current = joined
    chunks.append(current)
    return "\n".join(["print(", *(f'    f"{chunk}"' for chunk in chunks), ")"])


def comment(sentences: list[str], width: int = 100) -> str:
    """Sentences as `# ...` comment lines of at most `width` characters."""
    lines, current = [], "#"
    for word in " ".join(sentences).split():
        if len(current) + 1 + len(word) > width and current != "#":
            lines.append(current)
            current = "#"
        current += " " + word
    lines.append(current)
    return "\n".join(lines)


def safe(text: str) -> str:
    """Text that can sit in a comment or docstring: one line, no quotes or backslashes (it may come from a user)."""
    text = re.sub(r"[^\w .,:;()+\-*/=·×°%]", "?", str(text))
    return re.sub(r"\s+", " ", text).strip()[:120]
