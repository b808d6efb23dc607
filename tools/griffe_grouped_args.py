"""Griffe extension for the API reference (mkdocs.yml): `Args:` entries naming several
parameters at once.

tfar's Google-style docstrings give parameters that share a description one entry:

    Args:
      dtype, validate_args, name: as `tfd.Distribution`.

Griffe's Google parser reads "dtype, validate_args, name" as one name and warns that it is
not in the signature (which fails `mkdocs build --strict`). Before a docstring is parsed,
this extension rewrites such an entry into one entry per name, each with the shared
description, so every name gets its row and is checked against the signature: a name the
signature no longer has still warns. The names may run over lines ("a, b,\\n  c: ...").
Warnings about a docstring's later lines then give line numbers shifted by the entries
added above them.
"""

import re

import griffe

_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Keyword Args|Keyword Arguments|"
                      r"Other Parameters):\s*$")
_NAMES = re.compile(r"^\*{0,2}[A-Za-z_]\w*(\s*,\s*\*{0,2}[A-Za-z_]\w*)+$")


def _indent(line):
    return len(line) - len(line.lstrip())


def _split(item, indent):
    """One entry (its first line and continuation lines) -> one entry per name."""
    head, used = item[0].strip(), 1
    while ":" not in head and head.endswith(",") and used < len(item):
        head, used = f"{head} {item[used].strip()}", used + 1
    names, colon, description = head.partition(":")
    if not colon or not _NAMES.match(names.strip()):
        return item
    out = []
    for name in names.split(","):
        out.append(f"{' ' * indent}{name.strip()}:{description}")
        out.extend(item[used:])
    return out


def expand(text):
    """The docstring `text` with every grouped parameter entry split, one per name."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        section = _SECTION.match(lines[i])
        out.append(lines[i])
        i += 1
        if not section:
            continue
        while i < len(lines) and lines[i].strip() and _indent(lines[i]) > len(section[1]):
            indent, end = _indent(lines[i]), i + 1
            while end < len(lines) and lines[end].strip() and _indent(lines[end]) > indent:
                end += 1
            out.extend(_split(lines[i:end], indent))
            i = end
    return "\n".join(out)


class GroupedArgs(griffe.Extension):
    """Splits grouped `Args:` entries of every loaded object's docstring."""

    def on_object(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = expand(obj.docstring.value)
