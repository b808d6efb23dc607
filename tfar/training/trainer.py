"""`train_and_evaluate(config, workdir)`: the main job of `train_main.py`.

Builds the model and optimizer inside the strategy's scope, trains with a loop of
`steps_per_loop` steps per `tf.function` call (each global batch split across replicas,
gradients all-reduced by the optimizer), shows a Keras progress bar, writes TensorBoard
scalars, checkpoints every `checkpoint_every` steps and at the end, and resumes from the
latest checkpoint when rerun. Then it evaluates on the whole test split
(`workdir/metrics.json`), draws a sample grid (`workdir/samples.png` and TensorBoard) and
exports a SavedModel (`workdir/export/<step>/`), all with the EMA weights when
`config.train.ema_decay` > 0.

A custom loop, not `Model.fit`: it resumes mid-epoch at the exact step (the batch
stream is a function of the step, `input_pipeline`), restores optimizer and EMA state
with the weights, and checks every step's loss before a checkpoint is written, so a NaN
never reaches a checkpoint.

With `handle_signals=True` (what `train_main.py` passes) SIGINT and SIGTERM finish the
current loop of at most `steps_per_loop` steps, write `ckpt-<step>` and raise
`interrupts.Interrupted` (see `tfar/training/interrupts.py`); rerunning resumes from it.
Checkpoints are atomic (`checkpoints.py`) and so is the export (a temporary directory
renamed at the end), so a kill at any point loses at most the steps since the last
checkpoint and never leaves a half-written checkpoint or export version behind.
Everything that can be checked before writing (strategy, data source, model config) is
checked before the workdir is created, so a bad config leaves nothing behind.

Workdir layout:
  config.json  metrics.json  samples.png  checkpoints/ckpt-<step>.*  tensorboard/
  export/<step>/  (a TF Serving model version)
"""

import json
import os
import shutil
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

import tfar.export
from tfar.training import builders, evaluation, input_pipeline
from tfar.training.checkpoints import Checkpoints
from tfar.training.interrupts import Interrupted, PreemptionWatcher, StopSignals, is_multi_worker
from tfar.training.strategy import get_strategy, is_chief, task_name


def _prepare_workdir(workdir):
    if tf.io.gfile.exists(workdir) and not tf.io.gfile.isdir(workdir):
        raise ValueError(f"workdir {workdir!r} is a file, not a directory.")
    probe = os.path.join(workdir, ".write_test")
    try:
        tf.io.gfile.makedirs(workdir)
        with tf.io.gfile.GFile(probe, "w") as f:
            f.write("ok")
        tf.io.gfile.remove(probe)
    except (tf.errors.OpError, OSError) as error:
        raise ValueError(f"workdir {workdir!r} is not writable: {error}") from error


def _write_json(value, path):
    """Writes JSON atomically (a reader never sees half a file)."""
    with tf.io.gfile.GFile(path + ".tmp", "w") as f:
        json.dump(value, f, indent=2, default=str)
    tf.io.gfile.rename(path + ".tmp", path, overwrite=True)


def _loop_length(step, total, train_config):
    """Steps until the next checkpoint, log line or the end, at most `steps_per_loop`."""
    n = min(train_config.steps_per_loop, total - step)
    for every in (train_config.checkpoint_every, train_config.log_every):
        if every > 0:
            n = min(n, every - step % every)
    return n


def train_and_evaluate(config, workdir, strategy="default", tpu_address="", restore_from=None,
                       handle_signals=False):
    """Trains `config`'s model in `workdir` (resuming if it holds checkpoints), then
    evaluates, samples and exports.

    Args:
      config: an `ml_collections.ConfigDict` (see `configs/default.py`).
      workdir: the run's directory (local or any `tf.io.gfile` path).
      strategy: a strategy name (`tfar.training.strategy.STRATEGIES`) or a
        `tf.distribute.Strategy`.
      tpu_address: for strategy "tpu".
      restore_from: a checkpoint prefix to start from instead of the latest one.
      handle_signals: stop cleanly on SIGINT/SIGTERM (main thread only): finish the
        current loop, save a checkpoint and raise `interrupts.Interrupted`.

    Returns:
      The metrics dict written to `workdir/metrics.json`.

    Raises:
      interrupts.Interrupted: with `handle_signals`, after a signal (checkpoint saved).
    """
    start_time = time.time()
    if isinstance(strategy, str):
        strategy = get_strategy(strategy, tpu_address)
    chief = is_chief(strategy)
    previous_policy = keras.config.dtype_policy()
    if config.train.mixed_precision:
        keras.config.set_dtype_policy(config.train.mixed_precision)
    try:
        with StopSignals(handle_signals) as stop:
            return _run(config, workdir, strategy, chief, restore_from, start_time, stop)
    finally:
        keras.config.set_dtype_policy(previous_policy)


def _run(config, workdir, strategy, chief, restore_from, start_time, stop):
    train_config = config.train
    keras.utils.set_random_seed(train_config.seed)
    data_config = input_pipeline.with_splits(config.data)
    event_shape, num_values = input_pipeline.describe(data_config)
    conditioning = config.model.get("conditioning", "")
    num_classes = config.data.num_classes if conditioning else None

    def conditional_fn(labels):
        return tf.one_hot(labels, num_classes) if conditioning else None

    with strategy.scope():
        distribution = builders.build_distribution(config.model, event_shape, num_values,
                                                   num_classes, seed=train_config.seed)
        optimizer = builders.build_optimizer(train_config)
        variables = distribution.network.trainable_variables
        optimizer.build(variables)
    _prepare_workdir(workdir)  # only now: a bad config leaves nothing behind
    if chief:
        _write_json(config.to_dict(), os.path.join(workdir, "config.json"))
    checkpoints = Checkpoints(os.path.join(workdir, "checkpoints"),
                              tf.train.Checkpoint(network=distribution.network,
                                                  optimizer=optimizer),
                              train_config.keep_checkpoints, chief, task_name(strategy))
    restored = checkpoints.restore(restore_from)
    step = int(optimizer.iterations.numpy())
    if restored:
        logging.info("Resumed from checkpoint %s at step %d.", restored, step)
    total = train_config.steps
    logging.info("%s on %s %s: event shape %s, %d values, %d parameters, %d replica(s).",
                 type(distribution).__name__, config.data.source, data_config.train_split,
                 event_shape, num_values, sum(int(np.prod(v.shape)) for v in variables),
                 strategy.num_replicas_in_sync)

    num_replicas = strategy.num_replicas_in_sync
    if train_config.batch_size % num_replicas:
        raise ValueError(f"config.train.batch_size {train_config.batch_size} must be a multiple "
                         f"of the number of replicas, {num_replicas}.")

    def replica_step(images, labels):
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        seed = tf.stack([tf.constant(train_config.seed, tf.int32),
                         tf.cast(optimizer.iterations, tf.int32) * num_replicas + replica])
        with tf.GradientTape() as tape:
            loss = distribution.training_loss(images, conditional_input=conditional_fn(labels),
                                              seed=seed) / num_replicas
            scaled_loss = optimizer.scale_loss(loss)
        optimizer.apply_gradients(zip(tape.gradient(scaled_loss, variables), variables))
        return loss

    @tf.function
    def train_loop(iterator, num_steps):
        losses = tf.TensorArray(tf.float32, size=num_steps)
        for i in tf.range(num_steps):
            images, labels = next(iterator)
            per_replica = strategy.run(replica_step, args=(images, labels))
            losses = losses.write(i, strategy.reduce("SUM", per_replica, axis=None))
        return losses.stack()

    writer = (tf.summary.create_file_writer(os.path.join(workdir, "tensorboard")) if chief
              else tf.summary.create_noop_writer())
    last_losses, timed_seconds, timed_steps, first_loop = [], 0.0, 0, True
    watcher = None
    if stop.enabled and is_multi_worker(strategy) and step < total:
        # All workers must save the same step: TF's handler agrees on it.
        watcher = PreemptionWatcher(strategy, checkpoints.save)
        stop.forward_sigint_to_sigterm = True

    def stop_if_signalled(finished=False):
        if stop.received is None:
            return
        saved = checkpoints.latest or restored
        if not finished and (not saved or int(saved.rsplit("-", 1)[1]) != step):
            saved = checkpoints.save(step)  # after training the last one is at `step`
        raise Interrupted(stop.received, step, saved if chief else None, finished)

    try:
        if step < total:
            batches = input_pipeline.TrainBatches(data_config, train_config.batch_size,
                                                  train_config.seed)
            progress = keras.utils.Progbar(total, stateful_metrics=["loss", "steps/s"],
                                           verbose=1 if chief and sys.stdout.isatty() else 0)
            logged_at, iterator = step, None
            while step < total:
                epoch, offset = divmod(step, batches.steps_per_epoch)
                if iterator is None or offset == 0:
                    iterator = iter(strategy.experimental_distribute_dataset(
                        batches.epoch(epoch, offset)))
                n = min(_loop_length(step, total, train_config), batches.steps_per_epoch - offset)
                began = time.perf_counter()
                losses = train_loop(iterator, tf.constant(n)).numpy()
                seconds = time.perf_counter() - began
                bad = np.flatnonzero(~np.isfinite(losses))
                if bad.size:
                    raise FloatingPointError(
                        f"The training loss is {losses[bad[0]]} at step {step + bad[0] + 1}; "
                        "stopped without saving. " + (
                            f"The last good checkpoint is {checkpoints.latest}" if checkpoints.latest
                            else "No checkpoint was written yet") + ". Lower "
                        "config.train.learning_rate or set config.train.grad_clip_norm and rerun "
                        "(it resumes from the last checkpoint), or pass --restore_from=<an older one>.")
                if not first_loop:  # the first loop also traces the step: not timed
                    timed_steps, timed_seconds = timed_steps + n, timed_seconds + seconds
                first_loop = False
                step += n
                last_losses = (last_losses + losses.tolist())[-max(train_config.log_every, 1):]
                progress.update(step, [("loss", float(np.mean(losses))), ("steps/s", n / seconds)])
                with writer.as_default(step=step):
                    tf.summary.scalar("train/loss", float(np.mean(losses)))
                    tf.summary.scalar("train/steps_per_second", n / seconds)
                    tf.summary.scalar("train/images_per_second", n * train_config.batch_size / seconds)
                if step - logged_at >= train_config.log_every or step == total:
                    logging.info("step %d/%d: loss %.4f nats, %.1f steps/s", step, total,
                                 float(np.mean(last_losses)), n / seconds)
                    logged_at = step
                if (train_config.checkpoint_every > 0 and step % train_config.checkpoint_every == 0) \
                        or step == total:
                    saved = checkpoints.save(step)
                    if saved:
                        logging.info("Saved checkpoint %s.", saved)
                if watcher is not None:
                    watcher.check(step)  # saves and raises Interrupted on preemption
                stop_if_signalled()
    finally:
        if watcher is not None:
            watcher.close()
    stop_if_signalled(finished=True)

    if train_config.ema_decay > 0:
        optimizer.finalize_variable_values(variables)  # evaluate/sample/export the EMA weights
    metrics = evaluation.evaluate(distribution,
                                  input_pipeline.test_batches(data_config, config.eval.batch_size,
                                                                 train_config.seed),
                                  conditional_fn if conditioning else None)
    logging.info("Test NLL at step %d: %.4f nats per image, %.4f bits/dim (%d images).", step,
                 metrics["nll_nats"], metrics["bits_per_dim"], metrics["num_images"])
    if not chief:
        return {"step": step, "test_nll_nats": metrics["nll_nats"],
                "test_bits_per_dim": metrics["bits_per_dim"]}

    stop_if_signalled(finished=True)
    samples = _draw_samples(distribution, config, num_classes)
    grid = evaluation.image_grid(samples, num_values, columns=config.eval.sample_columns)
    evaluation.write_png(grid, os.path.join(workdir, "samples.png"))
    with writer.as_default(step=step):
        tf.summary.scalar("test/nll_nats", metrics["nll_nats"])
        tf.summary.scalar("test/bits_per_dim", metrics["bits_per_dim"])
        tf.summary.image("samples", grid[None].astype(np.float32) / 255.0)
    writer.flush()

    stop_if_signalled(finished=True)
    export_path = None
    if config.export.enabled:
        _remove_unfinished_exports(os.path.join(workdir, "export"))
        export_path = os.path.join(workdir, "export", str(step))
        if tf.io.gfile.exists(export_path):
            logging.info("Export %s already exists; not exporting again.", export_path)
        else:
            export_path = tfar.export.export(distribution, os.path.join(workdir, "export"),
                                             version=step)
            logging.info("Exported SavedModel to %s.", export_path)

    result = {
        "step": step,
        "test_nll_nats": metrics["nll_nats"],
        "test_bits_per_dim": metrics["bits_per_dim"],
        "test_images": metrics["num_images"],
        "train_loss": float(np.mean(last_losses)) if last_losses else None,
        "ema": train_config.ema_decay > 0,
        "train_images_per_second": (timed_steps * train_config.batch_size / timed_seconds
                                    if timed_steps else None),
        "peak_gpu_memory_bytes": _peak_gpu_memory(),
        "wall_time_s": time.time() - start_time,
        "dataset": {"source": config.data.source,
                    "train_split": data_config.train_split,
                    "test_split": data_config.test_split,
                    "binarization": config.data.binarize or "none", "num_values": num_values,
                    "event_shape": list(event_shape)},
        "model": type(distribution).__name__,
        "num_replicas": strategy.num_replicas_in_sync,
        "restored_from": restored,
        "export": export_path,
        "config": config.to_dict(),
    }
    _write_json(result, os.path.join(workdir, "metrics.json"))
    return result


def _remove_unfinished_exports(export_dir):
    """Removes the temporary directories of exports killed before their final rename
    (`export_dir/.tmp-*`, which TF Serving ignores)."""
    if not os.path.isdir(export_dir):
        return
    for name in os.listdir(export_dir):
        if name.startswith(".tmp-"):
            shutil.rmtree(os.path.join(export_dir, name), ignore_errors=True)


def _peak_gpu_memory():
    """Peak bytes allocated on the first GPU by this process, None without a GPU."""
    if not tf.config.list_logical_devices("GPU"):
        return None
    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])


def _draw_samples(distribution, config, num_classes):
    """config.eval.num_samples samples; a class-conditional model draws one class per row."""
    n, columns = config.eval.num_samples, config.eval.sample_columns
    c = None
    if num_classes:
        c = tf.one_hot(np.arange(n) // columns % num_classes, num_classes)
    sample = tf.function(lambda: distribution.sample(n, seed=(config.train.seed, 1),
                                                     conditional_input=c))
    return sample().numpy()
