"""Every ```python block of README.md and docs/*.md, run as written (issue 21).

Each block runs in a fresh namespace holding `np`, `tf` and `tfar` (the imports a reader
has), from a fresh temporary working directory (files a block writes land there; `../shared`
points at the repository's `../shared`, so the data paths of the slow blocks resolve) with
Keras, NumPy and TF seeded. The examples are written at tiny sizes so the default tier runs
them all in about a minute. The line before a block's fence may mark it:

    <!-- slow -->               needs data or minutes: runs with `-m slow`
    <!-- not-run: reason -->    cannot run here (a TF Serving server): skipped with the reason

A test id names the file, the block's index in it and its line, e.g.
`docs/models.md:3:L57`; a traceback's line numbers are the markdown file's.
"""

import glob
import os
import re

import numpy as np
import pytest
import tensorflow as tf

import tfar

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir))
FILES = ["README.md"] + sorted(os.path.relpath(p, ROOT)
                               for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
MARKER = re.compile(r"^<!--\s*(slow|not-run:\s*(?P<reason>\S.*?))\s*-->$")
FENCE = re.compile(r"^```(\w*)\s*$")


def code_blocks(path):
    """[(index, line, language, marker, reason, code)] of the file's fenced blocks; line is
    the 1-based line of the first code line, marker "slow", "not-run" or None."""
    lines = open(os.path.join(ROOT, path), encoding="utf-8").read().splitlines()
    blocks, start, language = [], None, None
    for i, line in enumerate(lines):
        match = FENCE.match(line)
        if match is None:
            continue
        if start is None:
            start, language = i + 1, match.group(1)
            continue
        previous = next((lines[j].strip() for j in range(start - 2, -1, -1) if lines[j].strip()),
                        "")
        marker = MARKER.match(previous)
        kind = None if marker is None else marker.group(1).split(":")[0]
        reason = marker and marker.group("reason")
        blocks.append((len(blocks), start + 1, language, kind, reason, "\n".join(lines[start:i])))
        start = None
    assert start is None, f"{path}: a code fence opened at line {start} is never closed"
    return blocks


def python_blocks():
    params = []
    for path in FILES:
        for index, line, language, kind, reason, code in code_blocks(path):
            if language != "python":
                continue
            marks = {"slow": [pytest.mark.slow],
                     "not-run": [pytest.mark.skip(reason=f"not run: {reason}")]}.get(kind, [])
            params.append(pytest.param(path, line, code, marks=marks, id=f"{path}:{index}:L{line}"))
    return params


PYTHON_BLOCKS = python_blocks()


@pytest.mark.parametrize("path,line,code", PYTHON_BLOCKS)
def test_code_block_runs(path, line, code, tmp_path, monkeypatch):
    shared = os.path.join(ROOT, os.pardir, "shared")
    if os.path.isdir(shared):
        os.symlink(shared, tmp_path / "shared")
    elif "../shared" in code:
        pytest.skip("the data under ../shared is not beside the project")
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(ROOT)          # `from configs import default`, as from a clone
    namespace = {"__name__": "__docs__", "np": np, "tf": tf, "tfar": tfar}
    # Padded so a traceback's line numbers are the markdown file's.
    exec(compile("\n" * (line - 1) + code, os.path.join(ROOT, path), "exec"), namespace)


def test_markers_sit_on_python_blocks():
    """A marker comment is only read on the line before a ```python fence: one anywhere
    else (a typo, or before a bash block) would silently mark nothing."""
    for path in FILES:
        lines = open(os.path.join(ROOT, path), encoding="utf-8").read().splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^<!--\s*(slow|not-run)", line.strip()):
                assert MARKER.match(line.strip()), f"{path}:{i + 1}: {line!r} (not-run needs a reason)"
                following = next(l for l in lines[i + 1:] if l.strip())
                assert following.startswith("```python"), f"{path}:{i + 1}: not before a python block"


def test_every_guide_has_python_blocks_and_links_resolve():
    """The runner sees the guides' examples, and their relative links and images (e.g.
    `models.md#nade`, `samples_default.png`) point at files and headings that exist."""
    assert len(PYTHON_BLOCKS) >= 20
    for path in FILES:
        text = open(os.path.join(ROOT, path), encoding="utf-8").read()
        text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)   # not inside code
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            file = os.path.normpath(os.path.join(ROOT, os.path.dirname(path), file)) if file \
                else os.path.join(ROOT, path)
            assert os.path.exists(file), f"{path}: link {target} (no {file})"
            if anchor:
                assert anchor in anchors(file), f"{path}: link {target}: no such heading"


def anchors(path):
    """GitHub's heading anchors of a markdown file (MkDocs' are the same for ASCII headings)."""
    text = re.sub(r"^```.*?^```", "", open(path, encoding="utf-8").read(), flags=re.S | re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.*)$", text, flags=re.M)}


def test_readme_keeps_the_ci_test_command():
    """.ci/run runs the README's test command; they must not drift apart."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    command = "python -m pytest -q -n 2 tests"
    assert command in readme and re.search(rf"^{re.escape(command)}$", ci, flags=re.M)
