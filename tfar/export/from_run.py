"""Exports a checkpoint of a `train_main.py` run (what `python -m tfar.export` does).

    from tfar.export.from_run import export_run
    export_run("runs/default")                  # the latest checkpoint -> export/<step>/
    export_run("runs/default", checkpoint=2000, ema=False, export_dir="models/digits")

The model is built from the config the run trained with until that checkpoint
(`run_configs.load`), as the trainer builds it (`trainer.build_model`, the data's shape
and values read from the test split alone), the checkpoint restored into it and, for a
run with `config.train.ema_decay` > 0, the EMA of the weights swapped in, as at the end
of a run; then `tfar.export.export` writes it, as the end-of-run export does.
"""

import os

import tensorflow as tf

import tfar.export
from tfar.export import saved_model
from tfar.training import checkpoints, input_pipeline, run_configs, trainer


def export_run(workdir, checkpoint=None, export_dir=None, version=None, ema=None,
               jit_compile=False):
    """Exports checkpoint `ckpt-<checkpoint>` (default: the latest) of the run in
    `workdir` as SavedModel version `export_dir/<version>/`.

    Args:
      workdir: a `train_main.py` workdir (config.json, checkpoints/).
      checkpoint: the step of the checkpoint to export; None: the latest.
      export_dir: the base directory of the versions (default: workdir/export).
      version: the version to write (default: the checkpoint's step); never overwritten.
      ema: export the EMA of the weights (True), the raw weights (False), or, None, what
        the run's config says (the EMA when config.train.ema_decay > 0).
      jit_compile: `sample` and `complete` run XLA-compiled loops (`tfar.export.export`).

    Returns:
      The written version directory.

    Raises:
      FileNotFoundError: no workdir, config.json or checkpoint.
      FileExistsError: the version exists.
      ValueError: `ema` True for a run without an EMA, or a bad `version`.
      Before the export itself nothing is written.
    """
    workdir = os.fspath(workdir)
    if not tf.io.gfile.isdir(workdir):
        raise FileNotFoundError(f"No run at {workdir!r}: no such directory.")
    run_configs.load(workdir)  # no config.json: not a run
    directory = os.path.join(workdir, "checkpoints")
    if checkpoint is None:
        path = tf.train.latest_checkpoint(directory)
        if path is None:
            raise FileNotFoundError(f"{workdir} holds no checkpoint (in {directory}).")
    else:
        path = os.path.join(directory, f"ckpt-{checkpoint}")
        if not tf.io.gfile.exists(path + ".index"):
            held = [os.path.basename(p) for p in checkpoints.available(directory)]
            raise FileNotFoundError(f"No checkpoint ckpt-{checkpoint} in {directory}; it holds "
                                    f"{', '.join(held) or 'none'}.")
    step = int(path.rsplit("-", 1)[1])
    config = run_configs.load(workdir, step)
    if ema is None:
        ema = config.train.ema_decay > 0
    elif ema and not config.train.ema_decay > 0:
        raise ValueError(f"{workdir}'s run keeps no EMA of the weights (config.train.ema_decay "
                         f"is {config.train.ema_decay}); export without --ema.")
    export_dir = os.fspath(export_dir or os.path.join(workdir, "export"))
    version = step if version is None else version
    saved_model.refuse_existing(os.path.join(export_dir, str(version)))
    with trainer.dtype_policy(config.train):
        data_config = input_pipeline.with_splits(config.data)
        model = trainer.build_model(config, *input_pipeline.model_input(data_config),
                                    num_classes=trainer.classes(config))
        checkpoints.restore(model.checkpoint, path, directory, flag="--checkpoint")
        if ema:
            model.use_ema_weights()
        return tfar.export.export(model.distribution, export_dir, version=version,
                                  jit_compile=jit_compile)
