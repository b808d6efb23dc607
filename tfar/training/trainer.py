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
stream and every step's seed are functions of the trainer's own step counter,
`input_pipeline`), restores optimizer and EMA state with the weights, and checks every
step's loss and, before each checkpoint, every saved variable, so a NaN never reaches a
checkpoint.

With `handle_signals=True` (what `train_main.py` passes) SIGINT and SIGTERM finish the
current loop of at most `steps_per_loop` steps, write `ckpt-<step>` and raise
`interrupts.Interrupted` (see `tfar/training/interrupts.py`); rerunning resumes from it.
Under MultiWorkerMirroredStrategy the workers agree after every loop whether any of them
received a signal (one small all-reduce, `interrupts.StopAgreement`), so a signal to one
worker stops all of them after the same loop, at the same checkpoint.
Checkpoints are atomic (`checkpoints.py`) and so is the export (a temporary directory
renamed at the end), so a kill at any point loses at most the steps since the last
checkpoint and never leaves a half-written checkpoint or export version behind.
Everything that can be checked before writing (strategy, data source, splits, image
shapes, batch size, class labels, model config) is checked before the workdir is
created, so a bad config leaves nothing behind.

Workdir layout:
  config.json  metrics.json  samples.png  checkpoints/ckpt-<step>.*  tensorboard/
  export/<step>/  (a TF Serving model version)
  config.<step>.json  (a resumed run's earlier config, when a rerun changed it: the one
                       that ran until checkpoint <step>; `run_configs`)
"""

import contextlib
import dataclasses
import os
import sys
import time
import uuid

import keras
import numpy as np
import tensorflow as tf
from absl import logging

import tfar.export
from tfar.export import saved_model
from tfar.training import builders, evaluation, input_pipeline, run_configs
from tfar.training.checkpoints import Checkpoints
from tfar.training.interrupts import Interrupted, StopAgreement, StopSignals, is_multi_worker
from tfar.training.strategy import get_strategy, is_chief, task_name


def _prepare_workdir(workdir):
    if tf.io.gfile.exists(workdir) and not tf.io.gfile.isdir(workdir):
        raise ValueError(f"workdir {workdir!r} is a file, not a directory.")
    # One probe per process: the workers of a multi-worker run check the same workdir.
    probe = os.path.join(workdir, f".write_test-{uuid.uuid4().hex}")
    try:
        tf.io.gfile.makedirs(workdir)
        with tf.io.gfile.GFile(probe, "w") as f:
            f.write("ok")
        tf.io.gfile.remove(probe)
    except (tf.errors.OpError, OSError) as error:
        raise ValueError(f"workdir {workdir!r} is not writable: {error}") from error


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
    with dtype_policy(config.train), StopSignals(handle_signals) as stop:
        return _run(config, workdir, strategy, chief, restore_from, start_time, stop)


@contextlib.contextmanager
def dtype_policy(train_config):
    """Keras's global dtype policy is `train_config.mixed_precision` (when set) inside, as
    the model was trained and is evaluated and exported; the previous one after."""
    previous_policy = keras.config.dtype_policy()
    if train_config.mixed_precision:
        keras.config.set_dtype_policy(train_config.mixed_precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous_policy)


def _run(config, workdir, strategy, chief, restore_from, start_time, stop):
    run = _build(config, strategy)
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    resumed_step = int(latest.rsplit("-", 1)[1]) if latest else None
    changed = (run_configs.check_resume(workdir, config, resumed_step)
               if latest and restore_from is None else [])
    _prepare_workdir(workdir)  # only now: a bad config leaves nothing behind
    if chief:
        run_configs.save(workdir, config, resumed_step, changed=bool(changed))
    checkpoints = Checkpoints(os.path.join(workdir, "checkpoints"), run.checkpoint,
                              config.train.keep_checkpoints, chief, task_name(strategy),
                              check_finite=run.all_finite)
    restored = checkpoints.restore(restore_from)
    if restored and not checkpoints.holds(restored, "step"):
        # Written before the trainer counted its own steps: every step had been applied.
        run.counters.step.assign(run.optimizer.iterations)
    step = int(run.counters.step.numpy())
    if restored:
        logging.info("Resumed from checkpoint %s at step %d.", restored, step)
        if int(run.counters.skipped.numpy()):
            logging.info("%d of the %d steps so far were skipped (non-finite gradients).",
                         int(run.counters.skipped.numpy()), step)
    logging.info("%s on %s %s: event shape %s, %s, %d parameters, %d replica(s).",
                 type(run.distribution).__name__, config.data.source,
                 run.data_config.train_split, run.event_shape,
                 f"{run.num_values} values" if run.num_values else "real values",
                 sum(int(np.prod(v.shape)) for v in run.variables),
                 strategy.num_replicas_in_sync)
    writer = (tf.summary.create_file_writer(os.path.join(workdir, "tensorboard")) if chief
              else tf.summary.create_noop_writer())

    def stop_if_signalled(step, finished=False, signum=None):
        signum = signum or stop.received  # `signum`: a signal another worker received
        if signum is None:
            return
        saved = checkpoints.latest or restored
        if not finished and (not saved or int(saved.rsplit("-", 1)[1]) != step):
            saved = checkpoints.save(step)  # after training the last one is at `step`
        raise Interrupted(signum, step, saved if chief else None, finished)

    trained = _train(run, config, strategy, step, checkpoints, writer, stop, stop_if_signalled)
    stop_if_signalled(trained.step, finished=True)
    result = _evaluate_and_export(run, config, workdir, chief, trained.step, writer,
                                  lambda: stop_if_signalled(trained.step, finished=True))
    if not chief:
        return result
    result.update(
        train_loss=trained.terms.get("loss"),
        train_terms=trained.terms,
        skipped_steps=int(run.counters.skipped.numpy()),
        ema=config.train.ema_decay > 0,
        train_images_per_second=trained.images_per_second,
        peak_gpu_memory_bytes=_peak_gpu_memory(),
        wall_time_s=time.time() - start_time,
        dataset={"source": config.data.source,
                 "train_split": run.data_config.train_split,
                 "test_split": run.data_config.test_split,
                 "binarization": config.data.binarize or "none", "num_values": run.num_values,
                 "dequantized_levels": input_pipeline.dequantized_levels(run.data_config),
                 "event_shape": list(run.event_shape)},
        model=type(run.distribution).__name__,
        sample_num_values=run.distribution.num_values,  # None: samples are real values
        num_replicas=strategy.num_replicas_in_sync,
        restored_from=restored,
        config=config.to_dict())
    run_configs.write_json(result, os.path.join(workdir, "metrics.json"))
    return result


@dataclasses.dataclass
class Model:
    """A run's model as its checkpoints hold it (`build_model`)."""
    distribution: object
    optimizer: object         # with the moments and, if config.train.ema_decay > 0, the EMA
    variables: list           # the trainable variables the optimizer updates
    counters: object          # the trainer's step and skipped-step counters
    checkpoint: object        # tf.train.Checkpoint(network, optimizer, step, skipped_steps)

    def use_ema_weights(self):
        """Swaps the exponential moving average of the weights into the network (for
        evaluation, sampling and export; config.train.ema_decay > 0)."""
        self.optimizer.finalize_variable_values(self.variables)


def build_model(config, event_shape, num_values, num_classes=None, captions=None,
                strategy=None, first_batch=None):
    """`config`'s distribution, optimizer and counters, built in `strategy`'s scope (default:
    the current strategy) from `config.train.seed` as every run of `config` builds them,
    so a checkpoint of the run restores into them (`Model.checkpoint`).

    Args:
      config: the run's config (`configs/*.py`).
      event_shape, num_values: the data's, as `input_pipeline.describe` gives them.
      num_classes: the number of labels of a class-conditional model, else None.
      captions: the training captions of a caption-conditional model, to adapt its text
        encoder on; None: the model is to be restored from a checkpoint, which holds the
        vocabulary.
      strategy: a `tf.distribute.Strategy`.
      first_batch: () -> the first global training batch (images, condition or None),
        for a model with data-dependent initial values (`initialize_from_data`: weight
        normalization); a checkpoint restored later replaces them. None: the model is to
        be restored.
    """
    keras.utils.set_random_seed(config.train.seed)
    with (strategy or tf.distribute.get_strategy()).scope():
        distribution = builders.build_distribution(config.model, event_shape, num_values,
                                                   num_classes, seed=config.train.seed,
                                                   captions=captions,
                                                   restoring=captions is None)
        if first_batch is not None and distribution.data_dependent_init:
            distribution.initialize_from_data(*first_batch())
        optimizer = builders.build_optimizer(config.train)
        variables = distribution.network.trainable_variables
        optimizer.build(variables)
        counters = _Counters()
    checkpoint = tf.train.Checkpoint(network=distribution.network, optimizer=optimizer,
                                     step=counters.step, skipped_steps=counters.skipped)
    return Model(distribution, optimizer, variables, counters, checkpoint)


def classes(config):
    """The number of labels a class-conditional model of `config` takes
    (`config.data.num_classes`), None for any other model."""
    return config.data.num_classes if config.model.get("conditioning", "") == "class" else None


@dataclasses.dataclass
class _Run(Model):
    """What `_build` makes: the model, its optimizer and the data it trains on."""
    data_config: object
    event_shape: tuple
    num_values: int
    num_classes: object       # labels of a class-conditional model, else None
    conditional: bool         # the batches' labels are the model's conditional_input
    all_finite: object        # () -> whether every saved variable is finite


class _Counters:
    """The trainer's own step count and skipped-step count, checkpointed with the run.

    `step` counts training steps taken, applied or not: it names checkpoints
    (`ckpt-<step>`), seeds step `step`'s randomness and places the batch stream, so a
    resumed run continues exactly where an uninterrupted one would be. The optimizer's
    `iterations` counts *applied* updates (the learning-rate schedule's clock); under
    mixed_float16 a `LossScaleOptimizer` skips the update of a step with non-finite
    gradients (and lowers its loss scale), and `skipped` counts those steps."""

    def __init__(self):
        aggregation = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                aggregation=aggregation)
        self.skipped = tf.Variable(0, dtype=tf.int64, trainable=False, name="skipped_steps",
                                   aggregation=aggregation)


@dataclasses.dataclass
class _Trained:
    step: int
    terms: dict               # each training term's mean over the last log window
    images_per_second: object


def _build(config, strategy):
    """The distribution and optimizer (in the strategy's scope) and the data's description;
    checks everything it can before anything is written."""
    data_config = input_pipeline.with_splits(config.data)
    conditioning = config.model.get("conditioning", "")
    # A caption-conditional model reads caption batches; only it can use them.
    if (conditioning == "caption") != (input_pipeline.condition(data_config) == "caption"):
        if conditioning == "caption":
            with data_config.unlocked():
                data_config.condition = "caption"
        else:
            raise ValueError("config.data.condition='caption' gives caption batches, which only "
                             "a caption-conditional model uses; set "
                             "config.model.conditioning='caption' (or the condition to 'label').")
    num_classes = classes(config)
    event_shape, num_values = input_pipeline.describe(  # checks splits, shapes, labels
        data_config, config.train.batch_size, num_classes)
    captions = (input_pipeline.train_captions(data_config) if conditioning == "caption"
                else None)
    def first_batch():
        images, labels = next(iter(input_pipeline.TrainBatches(
            data_config, config.train.batch_size, config.train.seed).epoch(0)))
        return images, labels if conditioning else None

    model = build_model(config, event_shape, num_values, num_classes, captions, strategy,
                        first_batch)
    num_replicas = strategy.num_replicas_in_sync
    if config.train.batch_size % num_replicas:
        raise ValueError(f"config.train.batch_size {config.train.batch_size} must be a multiple "
                         f"of the number of replicas, {num_replicas}.")
    saved = [v for v in model.distribution.network.variables + model.optimizer.variables
             if tf.as_dtype(v.dtype).is_floating]

    @tf.function
    def all_finite():
        return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in saved])

    return _Run(**vars(model), data_config=data_config, event_shape=event_shape,
                num_values=num_values, num_classes=num_classes, conditional=bool(conditioning),
                all_finite=lambda: bool(all_finite()))


def _train(run, config, strategy, step, checkpoints, writer, stop, stop_if_signalled):
    """Trains from `step` to `config.train.steps`, logging every term of the model's
    `training_terms` (TensorBoard `train/<term>`), checkpointing, stopping on a signal;
    returns the last step, the terms' means over the last log window and the images/s."""
    train_config, distribution, optimizer = config.train, run.distribution, run.optimizer
    variables, num_replicas, total = run.variables, strategy.num_replicas_in_sync, config.train.steps

    counters = run.counters

    def terms_and_gradients(images, labels, step):
        # Every replica gets the step's seed: a model draws each example's noise through
        # `tfar.replicas`, the same for any number of replicas.
        seed = tf.stack([tf.constant(train_config.seed, tf.int32), tf.cast(step, tf.int32)])
        with tf.GradientTape() as tape:
            terms = distribution.training_terms(
                images, conditional_input=labels if run.conditional else None, seed=seed,
                step=step)
            terms = {k: tf.cast(v, tf.float32) / num_replicas for k, v in terms.items()}
            scaled_loss = optimizer.scale_loss(terms["loss"])
        return terms, tape.gradient(scaled_loss, variables)

    if train_config.get("jit_compile", False):
        # XLA compiles the model's arithmetic; the update (and under a strategy its
        # all-reduce) stays outside. Stateless noise (dropout masks, orders) differs
        # from the default executor's under XLA: a run keeps one setting.
        terms_and_gradients = tf.function(terms_and_gradients, jit_compile=True)

    def replica_step(images, labels, step):
        terms, gradients = terms_and_gradients(images, labels, step)
        optimizer.apply_gradients(zip(gradients, variables))
        return terms

    def global_step(iterator):
        """One training step: (the terms summed over replicas, 1 if the optimizer skipped
        the update (non-finite gradients under a LossScaleOptimizer), else 0)."""
        images, labels = next(iterator)
        step, applied = counters.step.read_value(), _read(optimizer.iterations)
        per_replica = strategy.run(replica_step, args=(images, labels, step))
        terms = {k: strategy.reduce("SUM", v, axis=None) for k, v in per_replica.items()}
        skipped = 1 - (_read(optimizer.iterations) - applied)
        counters.step.assign_add(1)
        counters.skipped.assign_add(skipped)
        return terms, skipped

    @tf.function
    def train_loop(iterator, num_steps):  # num_steps >= 1
        # The first step runs before the loop: it tells which terms the model logs.
        terms, skipped = global_step(iterator)
        arrays = {k: tf.TensorArray(tf.float32, size=num_steps).write(0, v)
                  for k, v in terms.items()}
        skips = tf.TensorArray(tf.int64, size=num_steps).write(0, skipped)
        for i in tf.range(1, num_steps):
            terms, skipped = global_step(iterator)
            arrays = {k: arrays[k].write(i, terms[k]) for k in arrays}
            skips = skips.write(i, skipped)
        return {k: a.stack() for k, a in arrays.items()}, skips.stack()

    history, timed_seconds, timed_steps, first_loop = {}, 0.0, 0, True
    # All workers must stop after the same loop: they agree on whether any was signalled.
    agree = StopAgreement(strategy) if stop.enabled and is_multi_worker(strategy) else None
    if step < total:
        batches = input_pipeline.TrainBatches(run.data_config, train_config.batch_size,
                                              train_config.seed)
        progress = keras.utils.Progbar(total, stateful_metrics=["loss", "steps/s"],
                                       verbose=1 if _chief_tty(strategy) else 0)
        logged_at, iterator = step, None
        while step < total:
            epoch, offset = divmod(step, batches.steps_per_epoch)
            if iterator is None or offset == 0:
                iterator = iter(batches.distribute(strategy, epoch, offset))
            n = min(_loop_length(step, total, train_config), batches.steps_per_epoch - offset)
            began = time.perf_counter()
            terms, skips = train_loop(iterator, tf.constant(n))
            terms, skips = {k: v.numpy() for k, v in terms.items()}, skips.numpy()
            seconds = time.perf_counter() - began
            _check_finite(terms["loss"], step, checkpoints)
            for skipped_step in step + 1 + np.flatnonzero(skips):
                logging.warning("Step %d skipped: non-finite gradients (the loss scale "
                                "was lowered).", skipped_step)
            if not first_loop:  # the first loop also traces the step: not timed
                timed_steps, timed_seconds = timed_steps + n, timed_seconds + seconds
            first_loop = False
            step += n
            window = max(train_config.log_every, 1)
            history = {k: (history.get(k, []) + v.tolist())[-window:] for k, v in terms.items()}
            loss = float(np.mean(terms["loss"]))
            progress.update(step, [("loss", loss), ("steps/s", n / seconds)])
            with writer.as_default(step=step):
                for name, values in terms.items():
                    tf.summary.scalar(f"train/{name}", float(np.mean(values)))
                tf.summary.scalar("train/steps_per_second", n / seconds)
                tf.summary.scalar("train/images_per_second", n * train_config.batch_size / seconds)
                tf.summary.scalar("train/skipped_steps", int(counters.skipped.numpy()))
            if step - logged_at >= train_config.log_every or step == total:
                logging.info("step %d/%d: %s, %.1f steps/s", step, total, ", ".join(
                    f"{k} {np.mean(v):.4f}" for k, v in history.items()), n / seconds)
                logged_at = step
            if (train_config.checkpoint_every > 0 and step % train_config.checkpoint_every == 0) \
                    or step == total:
                saved = checkpoints.save(step)
                if saved:
                    logging.info("Saved checkpoint %s.", saved)
            if agree is None:
                stop_if_signalled(step)
            else:  # only what all workers agreed on: a signal seen since is for the next loop
                agreed = agree(stop.received)
                if agreed:
                    stop_if_signalled(step, signum=agreed)
    return _Trained(step, {k: float(np.mean(v)) for k, v in history.items()},
                    timed_steps * train_config.batch_size / timed_seconds if timed_steps else None)


def _read(variable):
    """A Keras or TF variable's value now, as an int64 tensor."""
    return tf.cast(tf.convert_to_tensor(variable), tf.int64)


def _chief_tty(strategy):
    """A progress bar only on the chief, and only on a terminal."""
    return is_chief(strategy) and sys.stdout.isatty()


def _check_finite(losses, step, checkpoints):
    """Stops before anything is saved when a loss of the last loop is NaN or infinite."""
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        raise FloatingPointError(
            f"The training loss is {losses[bad[0]]} at step {step + bad[0] + 1}; "
            "stopped without saving. " + (
                f"The last good checkpoint is {checkpoints.latest}" if checkpoints.latest
                else "No checkpoint was written yet") + ". Lower "
            "config.train.learning_rate or set config.train.grad_clip_norm and rerun "
            "(it resumes from the last checkpoint), or pass --restore_from=<an older one>.")


def _evaluate_and_export(run, config, workdir, chief, step, writer, stop_if_signalled):
    """Test NLL on the whole test split (with the EMA weights, if any; a model without a
    likelihood has none), then, on the chief, the samples: their MMD² to as many test
    examples (`config.eval.mmd_samples`), the sample grid and the model's
    `evaluation_images` (PNG and TensorBoard), and the SavedModel export. Returns the
    metrics (step, test figures, export path)."""
    distribution = run.distribution
    if config.train.ema_decay > 0:  # evaluate/sample/export the EMA weights
        run.use_ema_weights()
    test_batches = input_pipeline.test_batches(run.data_config, config.eval.batch_size)
    levels = input_pipeline.dequantized_levels(run.data_config)
    figures, lines, result = {}, [], {"step": step, "test_metric": "mmd2"}
    if distribution.has_likelihood:
        metrics = evaluation.evaluate(distribution, test_batches, run.conditional,
                                      seed=config.eval.seed)
        figures, line = evaluation.report(metrics, real_valued=run.num_values is None,
                                          dequantized_levels=levels)
        logging.info("Step %d: %s (%d examples).", step, line, metrics["num_images"])
        result.update(test_metric=metrics["metric"], test_images=metrics["num_images"])
        lines.append(line)
    if not chief:
        return dict(result, **figures, test_line="; ".join(lines) or "sample figures on the chief")

    stop_if_signalled()
    grids = {}
    images, labels = next(iter(test_batches))
    # A model conditioned on anything but its batches' labels or captions (an
    # auto-encoder's code) has no samples of its own: its evaluation_images show it.
    columns, samples = config.eval.sample_columns, None
    mmd_samples = config.eval.get("mmd_samples")
    mmd_samples = config.eval.num_samples if mmd_samples is None else mmd_samples
    if distribution.conditional_shape is None or run.num_classes:
        count = max(config.eval.num_samples, mmd_samples)
        samples = _draw_samples(distribution, config, run.num_classes, count=count)
        shown = samples[:config.eval.num_samples]
        if len(run.event_shape) == 3:
            grids["samples"] = evaluation.image_grid(*evaluation.pixels(
                shown, distribution.num_values), columns=columns)
    elif input_pipeline.condition(run.data_config) == "caption":
        # Each row: a test caption above the samples drawn for it.
        captions = _distinct(labels.numpy(), config.eval.num_samples // columns)
        samples = _draw_samples(distribution, config, captions=np.repeat(captions, columns))
        grids["samples"] = evaluation.captioned_grid(
            samples, [c.decode() for c in captions], run.num_values, columns)
    if samples is not None and mmd_samples >= 2:
        quality, line = evaluation.sample_quality(
            samples[:mmd_samples], distribution.num_values, test_batches, run.num_values)
        logging.info("Step %d: %s.", step, line)
        figures.update(quality)
        lines.append(line)
    result.update(figures, test_line="; ".join(lines))
    c = labels if run.conditional else None
    for name, rows in distribution.evaluation_images(
            images, seed=(config.train.seed, 2), conditional_input=c).items():
        rows = np.asarray(rows)
        grids[name] = evaluation.image_grid(rows.reshape((-1,) + rows.shape[2:]),
                                            run.num_values, columns=rows.shape[1])
    with writer.as_default(step=step):
        for key, value in figures.items():
            tf.summary.scalar(key.replace("test_", "test/", 1), value)
        for name, grid in grids.items():
            evaluation.write_png(grid, os.path.join(workdir, f"{name}.png"))
            tf.summary.image(name, grid[None].astype(np.float32) / 255.0)
    writer.flush()

    stop_if_signalled()
    export_path = None
    if config.export.enabled:
        _remove_unfinished_exports(os.path.join(workdir, "export"))
        export_path = os.path.join(workdir, "export", str(step))
        if saved_model.is_complete(export_path):
            logging.info("Export %s already exists; not exporting again.", export_path)
        else:
            export_path = tfar.export.export(distribution, os.path.join(workdir, "export"),
                                             version=step)
            logging.info("Exported SavedModel to %s.", export_path)
    result["export"] = export_path
    return result


def _remove_unfinished_exports(export_dir):
    """Removes the temporary directories of exports killed before their final rename
    (`export_dir/.tmp-*`, which TF Serving ignores)."""
    if not tf.io.gfile.isdir(export_dir):
        return
    for name in tf.io.gfile.listdir(export_dir):
        if name.startswith(".tmp-"):
            try:
                tf.io.gfile.rmtree(os.path.join(export_dir, name.rstrip("/")))
            except tf.errors.NotFoundError:
                pass


def _peak_gpu_memory():
    """Peak bytes allocated on the first GPU by this process, None without a GPU."""
    if not tf.config.list_logical_devices("GPU"):
        return None
    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])


def _draw_samples(distribution, config, num_classes=None, captions=None, count=None):
    """`count` samples (default config.eval.num_samples); a class-conditional model draws
    one class per row of config.eval.sample_columns; with `captions` [n], sample i is
    drawn for caption i."""
    n, columns = count or config.eval.num_samples, config.eval.sample_columns
    c = None
    if num_classes:
        c = np.arange(n) // columns % num_classes
    if captions is not None:
        n, c = len(captions), tf.constant(captions)
    sample = tf.function(lambda: distribution.sample(n, seed=(config.train.seed, 1),
                                                     conditional_input=c))
    return sample().numpy()


def _distinct(values, count):
    """The first `count` distinct values, in order (fewer if there are not as many)."""
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
        if len(seen) == count:
            break
    return np.array(seen, dtype=object)
