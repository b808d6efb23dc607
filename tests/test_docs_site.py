"""The documentation site builds (`mkdocs build --strict`) and its API reference lists every
public name: each name of `tfar.__all__` and of each documented submodule's `__all__` (a
module without `__all__`: its top-level public classes, functions and constants) has its
mkdocstrings entry, an anchor with the object's full path (issue 21)."""

import ast
import html.parser
import os
import pathlib
import subprocess
import sys

import pytest

# One worker builds the module's fixture (pyproject: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("docs_site")

pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install -e '.[docs]'")
pytest.importorskip("material", reason="mkdocs-material is not installed: "
                                       "pip install -e '.[docs]'")
pytest.importorskip("mkdocstrings_handlers.python",
                    reason="mkdocstrings[python] is not installed: pip install -e '.[docs]'")

ROOT = pathlib.Path(__file__).resolve().parents[1]

# The modules the API reference documents (docs/api/*.md); tfar's submodules in its
# __all__ are checked through tfar's names ("tfar.data" must have an entry too).
DOCUMENTED = ["tfar", "tfar.layers", "tfar.conditioning", "tfar.likelihoods", "tfar.data",
              "tfar.data.captions", "tfar.data.tabular", "tfar.metrics",
              "tfar.export", "tfar.export.client", "tfar.random", "tfar.sampling",
              "tfar.training"]


def public_names(module):
    """The module's `__all__`, read from its source; without one, the names its top level
    defines (classes, functions, assignments) that do not start with "_"."""
    path = ROOT.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(), str(path))
    defined = []
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign) else
                   [node.target] if isinstance(node, ast.AnnAssign) else [])
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "__all__":
                return list(ast.literal_eval(node.value))
            if isinstance(target, ast.Name):
                defined.append(target.id)
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.append(node.name)
    return [name for name in defined if not name.startswith("_")]


class _Anchors(html.parser.HTMLParser):
    """The ids of mkdocstrings' object headings (`<h2 id="tfar.MADE" class="doc
    doc-heading">`)."""

    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "doc-heading" in (attrs.get("class") or "").split() and attrs.get("id"):
            self.ids.add(attrs["id"])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                          "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site_dir)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"mkdocs build --strict failed:\n{out.stderr[-5000:]}"
    return site_dir


def test_the_site_builds_with_its_pages(site):
    assert (site / "index.html").is_file()
    for page in ["tfar", "layers", "conditioning", "likelihoods", "data", "export", "sampling",
                 "training"]:
        assert (site / "api" / page / "index.html").is_file(), page


def test_api_pages_list_every_public_name(site):
    anchors = _Anchors()
    for page in sorted((site / "api").rglob("*.html")):
        anchors.feed(page.read_text(encoding="utf-8"))
    expected = {module for module in DOCUMENTED}
    for module in DOCUMENTED:
        names = public_names(module)
        assert names, module
        expected.update(f"{module}.{name}" for name in names)
    missing = sorted(expected - anchors.ids)
    assert not missing, f"public names without an entry in the API reference: {missing}"


def test_public_names_sees_all_and_top_level_definitions():
    assert "MADE" in public_names("tfar") and "data" in public_names("tfar")
    assert "GatedPixelCNNBlock" in public_names("tfar.layers")
    client = public_names("tfar.export.client")  # no __all__
    assert {"RestClient", "ServingClient", "ServingError", "main"} <= set(client)
    assert not any(name.startswith("_") for name in client)


def test_grouped_args_become_one_entry_per_name():
    """tools/griffe_grouped_args.py: "a, b: text" (names over lines too) -> an entry per
    name with the shared description; other entries and sections are left as they are."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("griffe_grouped_args",
                                                  ROOT / "tools" / "griffe_grouped_args.py")
    grouped = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grouped)
    text = ("Summary: a, b: not an entry.\n\nArgs:\n  x: one.\n  a, b,\n    c: shared,\n"
            "    over lines.\n  y (int): typed.\n\nReturns:\n  p, q: left alone.")
    assert grouped.expand(text) == (
        "Summary: a, b: not an entry.\n\nArgs:\n  x: one.\n  a: shared,\n    over lines.\n"
        "  b: shared,\n    over lines.\n  c: shared,\n    over lines.\n  y (int): typed.\n\n"
        "Returns:\n  p, q: left alone.")
