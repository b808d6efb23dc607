"""`import tfar` as a user writes it: the public submodules the README calls are there."""

import subprocess
import sys


def test_import_tfar_gives_its_public_submodules():
    """In a fresh process: `tfar.data.load`, `tfar.export.export`, `tfar.layers`,
    `tfar.sampling`, `tfar.conditioning`, `tfar.training` after `import tfar` alone
    (issue 20: `tfar.data.load(...)` failed with AttributeError)."""
    code = ("import tfar\n"
            "assert callable(tfar.data.load) and callable(tfar.export.export)\n"
            "assert tfar.layers.MaskedConv2D and tfar.sampling and tfar.conditioning.Caption\n"
            "assert tfar.training.trainer\n"
            "images = next(iter(tfar.data.load('digits', 'test').batch(4)))\n"
            "print(tuple(images.shape))\n"
            "try:\n"
            "    tfar.nothing\n"
            "except AttributeError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["(4, 8, 8, 1)", "module 'tfar' has no attribute 'nothing'"]
