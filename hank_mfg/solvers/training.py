"""The training driver every policy-gradient method shares (docs/theory.md §6).

:func:`train` runs a *run* — an object with ``params``, ``opt_state``, ``train_chunk``,
``evaluate``, ``explain`` and ``policy`` — for ``config.iterations`` steps: ``eval_every``
steps at a time inside one jitted ``lax.scan``, an evaluation on fixed paths after each chunk
(a history row), a progress bar, a callback, atomic checkpoints every ``checkpoint_every``
evaluations and a bit-for-bit resume. A step that goes non-finite keeps the last good state and
the driver raises with what went wrong. The optimiser is any Optax ``GradientTransformation``
(:func:`default_optimizer` unless one is given). RSPG/SPG with discrete or continuous choices
and the model-free learners are runs of this one driver.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..policies.networks import AbstractPolicy
from .rollout import evaluate_paths, explain_prices, model_consumption_equivalent, rollout_batch

__all__ = ["AveragedState", "CheckpointError", "DiscreteEvaluation", "averaged",
           "checkpoint_mismatch", "default_optimizer", "evaluation_params", "gradient_steps",
           "guarded_steps", "keep_if_finite",
           "over_paths", "path_sharding", "path_sum", "stalled", "train", "trainable_filter"]


def default_optimizer(config, frozen=None) -> optax.GradientTransformation:
    """Global-norm clipping at ``config.clip_norm``, then Adam with the learning rate annealed
    linearly from ``config.lr`` to ``config.lr_final`` over ``config.iterations``; with
    ``config.average > 0`` (where the config has it) the iterates are also averaged
    (:func:`averaged`). ``frozen``: a mask of the parameters held at their start (a pytree of
    booleans like the parameters, or a function of them; ``optax.masked``), e.g. to train one
    part of a policy alone."""
    schedule = optax.linear_schedule(config.lr, config.lr_final, config.iterations)
    opt = optax.chain(optax.clip_by_global_norm(config.clip_norm), optax.adam(schedule))
    if frozen is not None:
        opt = optax.chain(opt, optax.masked(optax.set_to_zero(), frozen))
    decay = float(getattr(config, "average", 0.0))
    return averaged(opt, decay) if decay > 0 else opt


class AveragedState(NamedTuple):
    """The state of :func:`averaged`: the inner optimiser's, and the running average of the
    parameters it has produced."""

    inner: Any
    average: Any


def averaged(inner: optax.GradientTransformation, decay: float) -> optax.GradientTransformation:
    """``inner`` whose iterates are averaged (Polyak and Juditsky 1992; exponentially): the state
    carries ``bar_k = decay bar_{k-1} + (1 - decay) theta_k``, from ``bar_0 = theta_0``, the
    structural start. The steps are ``inner``'s; :func:`evaluation_params` reads the average,
    which the driver evaluates and returns. Where the iterates fluctuate about a point the
    expected gradient holds them at (an AR(1) with coefficient ``a``), the average's variance
    is ``(1 - d)(1 + a d) / ((1 + d)(1 - a d))`` times theirs (``d = decay``); along
    directions the gradient does not hold at all the iterates drift, and the average drifts
    with them (docs/theory.md §12.7)."""
    if not 0.0 < decay < 1.0:
        raise ValueError(f"averaged: decay must lie in (0, 1); got {decay!r}")

    def init(params):
        return AveragedState(inner.init(params), jax.tree_util.tree_map(jnp.asarray, params))

    def update(grads, state, params=None):
        updates, inner_state = inner.update(grads, state.inner, params)
        new = optax.apply_updates(params, updates)
        avg = jax.tree_util.tree_map(lambda b, p: decay * b + (1.0 - decay) * p,
                                     state.average, new)
        return updates, AveragedState(inner_state, avg)

    return optax.GradientTransformation(init, update)


def evaluation_params(params, opt_state):
    """The parameters a run is evaluated and returned with: the average of the iterates when
    the optimiser averages them (:func:`averaged`), else ``params``."""
    return opt_state.average if isinstance(opt_state, AveragedState) else params


def keep_if_finite(ok, new, old):
    """``new`` where the step went well (``ok``), else ``old``: a training step that went
    non-finite keeps the last good parameters and optimiser state (the driver then raises)."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b) if eqx.is_array(a) else a,
                                  new, old)


def stalled(history: list[dict], metrics, patience: int, improvement: float) -> bool:
    """The stopping rule (docs/theory.md §12.9): ``True`` when none of the history columns
    ``metrics`` (certificates, lower is better) has improved on its best so far by the relative
    amount ``improvement`` at any of the last ``patience`` evaluations. An evaluation improves a
    certificate when its value is below ``(1 - improvement)`` times the best of the evaluations
    before it; a non-finite value never improves."""
    rows = [r for r in history if all(m in r for m in metrics)]
    if patience < 1 or len(rows) <= patience:
        return False
    for m in metrics:
        v = np.array([r[m] if r[m] is not None else np.nan for r in rows], dtype=float)
        v = np.where(np.isfinite(v), v, np.inf)
        for j in range(len(v) - patience, len(v)):
            if v[j] < (1.0 - improvement) * np.min(v[:j]):
                return False
    return True


def iteration_key(base_key, i):
    """The training key of iteration ``i`` (the same at every resume)."""
    return jax.random.fold_in(base_key, i)



#: the mesh axis of the noise paths
PATHS = "paths"


def path_sharding(n_paths: int):
    """The sharding of the noise-path axis over every device: one ``Mesh`` over
    ``jax.devices()`` (all hosts' devices after ``jax.distributed.initialize()``) with the axis
    ``"paths"``, and a ``NamedSharding`` splitting the leading (path) axis over it.

    The mesh takes the most devices that divide ``n_paths`` evenly (8 paths on 3 devices: 2
    of them), ``None`` where that is one device (the paths then stay on the first). Every
    path's rollout, values and gradient are independent, so XLA runs each device's paths
    where they are and sums the gradient once. On a CPU each core is a device
    (:mod:`hank_mfg.devices`).
    """
    devices = jax.devices()
    used = max(d for d in range(1, len(devices) + 1) if n_paths % d == 0)
    if used < 2:
        return None
    mesh = jax.sharding.Mesh(np.asarray(devices[:used]), (PATHS,))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(PATHS))


def placed(eps):
    """Evaluation paths placed over the devices (see :func:`path_sharding`)."""
    sharding = path_sharding(eps.shape[0])
    return eps if sharding is None else jax.device_put(eps, sharding)


def replicated(tree, sharding):
    """Every array of ``tree`` copied to each device of ``sharding``'s mesh (``tree`` itself
    without one): how a training step that sums its paths' gradients over the devices leaves
    the parameters, so that the first step and the evaluations see them placed as every later
    call does (a jitted function compiles again for arrays placed differently)."""
    if sharding is None:
        return tree
    everywhere = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())
    return jax.tree_util.tree_map(
        lambda x: jax.device_put(x, everywhere) if isinstance(x, jax.Array) else x, tree)


def uncommitted(tree):
    """Every array of ``tree`` as a fresh array on the default device, not committed to the
    devices a run's paths used: a solution's parameters then combine with arrays placed on
    any devices (evaluation paths split over another number of devices, a user's own)."""
    return jax.tree_util.tree_map(
        lambda x: jnp.asarray(np.asarray(x), dtype=x.dtype) if isinstance(x, jax.Array) else x,
        tree)


def shard_paths(eps, sharding):
    return eps if sharding is None else jax.lax.with_sharding_constraint(eps, sharding)


def over_paths(fn, sharding, per_path: bool = False):
    """``fn(shared, eps)`` with each device running it on its own noise paths: ``eps`` split
    along its leading (path) axis by ``sharding`` (:func:`path_sharding`) and ``shared`` (e.g.
    the policy's parameters) the same on every device. The outputs are the same on every
    device (``fn`` sums what it needs across devices with :func:`path_sum` over the axis
    :data:`PATHS`), or with ``per_path`` one row per path, split as ``eps`` is. ``fn`` itself
    where ``sharding`` is ``None``.

    Constraining ``eps`` alone leaves the partitioning to XLA's propagation, which may
    replicate work: the HANK 100 x 7 preset then took as long on 2 CPU devices as on one,
    with both cores busy (docs/performance.md). Here every device's share is explicit."""
    if sharding is None:
        return fn
    shared = jax.sharding.PartitionSpec()
    return jax.shard_map(fn, mesh=sharding.mesh, in_specs=(shared, sharding.spec),
                         out_specs=sharding.spec if per_path else shared, check_vma=False)


def path_sum(x, axis: str | None):
    """The sum of ``x`` over the devices that share the noise paths: ``axis`` is
    :data:`PATHS` inside :func:`over_paths`, ``None`` where one device holds every path."""
    return x if axis is None else jax.lax.psum(x, axis)


def guarded_steps(update, params, opt_state, start, n_steps_arr):
    """``len(n_steps_arr)`` training iterations under one ``lax.scan`` (trace it inside a jitted
    function): ``update(params, opt_state, i) -> (params, opt_state, loss, finite,
    gradient norm)`` is iteration ``i``'s step, kept only where it went well (finite loss,
    gradient norm and prices; else the last good state stays and the driver raises). Returns
    ``(params, opt_state, losses, finite, gradient norms)``. Every learner's training chunk is
    this loop: RSPG with either kind of choice (:func:`gradient_steps`) and the model-free
    learners."""
    def step(carry, i):
        params, opt_state = carry
        new_params, new_opt, loss, finite, gnorm = update(params, opt_state, i)
        ok = jnp.isfinite(loss) & finite & jnp.isfinite(gnorm)
        new_params, new_opt = keep_if_finite(ok, (new_params, new_opt), (params, opt_state))
        return (new_params, new_opt), (loss, finite, gnorm)

    (params, opt_state), (losses, finite, gnorms) = jax.lax.scan(
        step, (params, opt_state), start + n_steps_arr)
    return params, opt_state, losses, finite, gnorms


def gradient_steps(params, opt_state, config_static, start, n_steps_arr, sample_noise,
                   value_and_grad):
    """Policy-gradient iterations (:func:`guarded_steps`): each samples ``config.n_paths``
    noise paths with the iteration's key (``sample_noise(key=..., n_paths=...)``), takes
    ``(loss, grads, finite) = value_and_grad(params, eps)`` and the optimiser's step.
    ``config_static``: ``(config, make_optimizer, base_key, sharding)``."""
    config, make_optimizer, base_key, sharding = config_static
    optimizer = make_optimizer(config)

    def update(params, opt_state, i):
        eps = sample_noise(key=iteration_key(base_key, i), n_paths=config.n_paths)
        eps = shard_paths(eps, sharding)
        loss, grads, finite = value_and_grad(params, eps)
        updates, new_opt = optimizer.update(grads, opt_state, params)
        return eqx.apply_updates(params, updates), new_opt, loss, finite, optax.tree.norm(grads)

    return guarded_steps(update, params, opt_state, start, n_steps_arr)


@eqx.filter_jit
def evaluate_discrete(policy, mf, eps):
    return evaluate_paths(mf, policy, eps)


@eqx.filter_jit
def rollout_discrete(policy, mf, eps):
    return rollout_batch(mf, policy, eps)



def run_keys(config):
    """The run's three keys from ``config.seed``: initialisation, training, evaluation."""
    base = jax.random.key(config.seed)
    k_init, k_train, k_eval = jax.random.split(base, 3)
    return k_init, k_train, k_eval


def trainable_filter(policy: AbstractPolicy):
    """Filter spec of the trained leaves: every float array except the fixed normaliser."""
    spec = jax.tree_util.tree_map(eqx.is_inexact_array, policy)
    if hasattr(policy, "norm"):
        frozen = jax.tree_util.tree_map(lambda _: False, policy.norm)
        spec = eqx.tree_at(lambda p: p.norm, spec, replace=frozen)
    return spec


CHECKPOINT_FILE = "checkpoint.eqx"
STATE_FILE = "state.json"


def save_checkpoint(directory, params, opt_state, iteration, history, meta):
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, CHECKPOINT_FILE + ".tmp")
    eqx.tree_serialise_leaves(tmp, (params, opt_state))
    os.replace(tmp, os.path.join(directory, CHECKPOINT_FILE))  # atomic: a killed run keeps the last good one
    state = dict(meta, iteration=int(iteration), history=[_json_row(r) for r in history])
    tmp = os.path.join(directory, STATE_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1, allow_nan=False)
    os.replace(tmp, os.path.join(directory, STATE_FILE))


def _json_row(row: dict) -> dict:
    """A history row with non-finite floats as ``None`` (``null``: JSON has no NaN)."""
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in row.items()}


def _float_row(row: dict) -> dict:
    """Inverse of :func:`_json_row` for the float columns (``None`` back to NaN)."""
    return {k: float("nan") if v is None else v for k, v in row.items()}


def checkpoint_mismatch(state: dict, meta: dict, config_class) -> dict:
    """``{key: (checkpoint value, requested value)}`` for every differing method/config/model key.

    ``config.iterations`` is not compared: raising it on resume extends the run.
    """
    diff = {}
    # a config key newer than the checkpoint compares as its default
    defaults = {f.name: f.default for f in dataclasses.fields(config_class)}
    # ... unless the class says what a checkpoint written before the key existed did
    defaults.update(getattr(config_class, "ABSENT_MEANS", {}))
    for group in ("method", "optimizer", "config", "model_fields"):
        # a checkpoint from before optimisers could be chosen used the default one
        old = state.get(group, "default" if group == "optimizer" else None)
        new = json.loads(json.dumps(meta[group]))
        if isinstance(old, dict) and isinstance(new, dict):
            for k in sorted(set(old) | set(new)):
                if group == "config" and k == "iterations":
                    continue
                missing = defaults.get(k, "<missing>") if group == "config" else "<missing>"
                if old.get(k, missing) != new.get(k, "<missing>"):
                    diff[f"{group}.{k}"] = (old.get(k, missing), new.get(k, "<missing>"))
        elif old != new:
            diff[group] = (old, new)
    return diff


class CheckpointError(ValueError):
    """A checkpoint that cannot be read (truncated or corrupted files)."""


def load_checkpoint(directory, params, opt_state):
    try:
        with open(os.path.join(directory, STATE_FILE)) as f:
            state = json.load(f)
        params, opt_state = eqx.tree_deserialise_leaves(os.path.join(directory, CHECKPOINT_FILE),
                                                        (params, opt_state))
    except Exception as err:  # any failure to read the files: they are damaged
        first = " ".join(str(err).split())[:160]
        raise CheckpointError(
            f"the checkpoint in {directory} is unreadable (truncated or corrupted: "
            f"{type(err).__name__}{': ' + first if first else ''}); start the run over "
            "(without resume)") from err
    return params, opt_state, state


def model_fields(model) -> dict:
    out = {}
    for f in dataclasses.fields(model):
        v = getattr(model, f.name)
        if v is None or isinstance(v, (bool, int, float, str)):
            out[f.name] = v
        elif np.ndim(v) == 0:
            out[f.name] = float(v)
        else:
            out[f.name] = f"array{tuple(np.shape(v))}"
    return out


class DiscreteEvaluation:
    """What every run with discrete choices shares: its policy, the exact evaluation on fixed
    paths (exploitability against the best response), and where prices went non-finite.

    A subclass sets ``problem`` (the compiled mean field), ``static`` (the policy's fixed part),
    ``method``, ``k_train``, ``n_paths`` and ``eval_eps``, and adds ``train_chunk``.
    """

    def policy(self, params) -> AbstractPolicy:
        """The trained policy of the parameters ``params``."""
        return eqx.combine(params, self.static)

    def explain(self, params, i):
        eps = self.problem.sample_noise(key=iteration_key(self.k_train, i), n_paths=self.n_paths)
        return explain_prices(rollout_discrete(self.policy(params), self.problem, eps))

    def evaluate(self, params, iteration, seconds, loss):
        policy = self.policy(params)
        ev = evaluate_discrete(policy, self.problem, self.eval_eps)
        if not bool(jnp.all(ev.prices_finite)):  # reduced on the devices (paths may be sharded)
            why = explain_prices(rollout_discrete(policy, self.problem, self.eval_eps))
            raise FloatingPointError(f"{self.method.upper()} iteration {iteration}: non-finite "
                                     f"prices in the evaluation rollout: {why}")
        ex, ret_pi = float(jnp.mean(ev.exploitability)), float(jnp.mean(ev.policy_return))
        return dict(
            iteration=int(iteration), seconds=float(seconds), loss=float(loss),
            exploitability=ex,
            consumption_equivalent=model_consumption_equivalent(
                self.problem.model, ex, ret_pi, horizon=self.problem.horizon),
            policy_return=ret_pi,
            best_response_return=float(jnp.mean(ev.best_response_return)),
            infeasible_mass=float(jnp.max(ev.infeasible_mass)),
        )

    def summary(self, first, last) -> dict:
        return dict(final_infeasible_mass=last.get("infeasible_mass"))


def train(run, config, meta: dict, *, checkpoint_dir: str | None = None, resume: bool = False,
          progress: bool = True, callback: Callable[[dict], None] | None = None,
          started: float | None = None):
    """Train ``run`` to ``config.iterations`` (see the module docstring).

    ``meta`` (method, optimizer, config and model fields, JSON-serialisable) is written with every
    checkpoint and compared on resume. Returns ``(params, history, start, iterations)``:
    the final parameters (the average of the iterates when the optimiser averages them,
    :func:`evaluation_params`), the history rows, the iteration the run resumed from and the
    last one.
    """
    t_wall = time.perf_counter() if started is None else started
    params, opt_state = run.params, run.opt_state
    name = meta["method"].upper()
    history: list[dict] = []
    start = 0
    elapsed0 = wall0 = 0.0
    schedule_iterations = config.iterations
    if resume and os.path.exists(os.path.join(checkpoint_dir, STATE_FILE)):
        with open(os.path.join(checkpoint_dir, STATE_FILE)) as f:
            state = json.load(f)
        diff = checkpoint_mismatch(state, meta, type(config))  # before loading leaves of another shape
        if diff:
            raise ValueError(f"solve: checkpoint in {checkpoint_dir} was written for a different "
                             "run: " + "; ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in diff.items()))
        if int(state["iteration"]) > config.iterations:
            raise ValueError(f"solve: checkpoint in {checkpoint_dir} is at iteration "
                             f"{state['iteration']}; iterations must be at least that to resume; "
                             f"got {config.iterations}")
        params, opt_state, state = load_checkpoint(checkpoint_dir, params, opt_state)
        start = int(state["iteration"])
        history = [_float_row(r) for r in state["history"]]
        elapsed0 = history[-1]["seconds"] if history else 0.0
        wall0 = history[-1].get("wall_seconds", elapsed0) if history else 0.0
        # a run extended past its first iteration count keeps its learning-rate schedule
        # (annealed over the original count, then held at lr_final)
        schedule_iterations = int(state.get("lr_schedule_iterations", state["config"]["iterations"]))
        meta["first_eval_seconds_incl_compile"] = state.get("first_eval_seconds_incl_compile")
    meta["lr_schedule_iterations"] = schedule_iterations
    train_config = dataclasses.replace(config, iterations=schedule_iterations)
    # on every device the paths use from the start, as the training steps leave them: the
    # steps and the evaluations then see the same placement at every call and compile once
    params, opt_state = replicated((params, opt_state), getattr(run, "sharding", None))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.iterations, initial=start, desc=name, leave=True)

    def evaluate(params, iteration, seconds, loss):
        try:
            # on the evaluation paths' devices (a mesh of its own where fewer devices divide
            # them than divide the training paths)
            row = run.evaluate(replicated(params, path_sharding(run.eval_eps.shape[0])),
                               iteration, seconds, loss)
        except FloatingPointError:
            if bar is not None:
                bar.close()
            raise
        wall = dict(wall_seconds=float(wall0 + time.perf_counter() - t_wall))
        return {k: v for k, v in row.items() if k in ("iteration", "seconds")} | wall | row

    t_compile = 0.0
    t0 = time.perf_counter() - elapsed0
    if start == 0:
        tc = time.perf_counter()
        row = evaluate(evaluation_params(params, opt_state), 0, 0.0, float("nan"))
        t_compile += time.perf_counter() - tc
        meta["first_eval_seconds_incl_compile"] = t_compile
        t0 = time.perf_counter()
        history.append(row)
        if callback:
            callback(row)
    n_evals_done = 0
    it = start
    patience = getattr(config, "stop_patience", 0)
    while it < config.iterations:
        n = min(config.eval_every, config.iterations - it)
        steps = jnp.arange(n)
        new_params, new_opt, losses, finite, gnorms = run.train_chunk(
            params, opt_state, train_config, jnp.asarray(it), steps)
        losses = np.asarray(losses)
        bad = ~(np.isfinite(losses) & np.asarray(finite) & np.isfinite(np.asarray(gnorms)))
        if bad.any():
            j = int(np.argmax(bad))
            what = ("non-finite prices" if not bool(np.asarray(finite)[j])
                    else "non-finite loss" if not np.isfinite(losses[j]) else "non-finite gradient")
            if not bool(np.asarray(finite)[j]):
                # replay the chunk up to the failing step (deterministic) and locate the failure
                p_j = params
                if j > 0:
                    p_j = run.train_chunk(params, opt_state, train_config, jnp.asarray(it),
                                          jnp.arange(j))[0]
                what += ": " + run.explain(p_j, it + j)
            kept = (f"; last good checkpoint kept in {checkpoint_dir} (iteration {it})"
                    if checkpoint_dir else "")
            if bar is not None:
                bar.close()
            raise FloatingPointError(f"{name} stopped at iteration {it + j + 1}: {what}{kept}")
        params, opt_state = new_params, new_opt
        it += n
        row = evaluate(evaluation_params(params, opt_state), it, time.perf_counter() - t0,
                       losses[-1])
        history.append(row)
        n_evals_done += 1
        if callback:
            callback(row)
        if bar is not None:
            bar.update(n)
            bar.set_postfix(loss=f"{losses[-1]:.4g}", expl=f"{row['exploitability']:.4g}")
        metrics = run.stop_metrics() if patience and hasattr(run, "stop_metrics") else ()
        stop = (bool(metrics) and it < config.iterations
                and stalled(history, metrics, patience, config.stop_improvement))
        if stop:
            best = {m: float(np.nanmin([r[m] for r in history if r.get(m) is not None]))
                    for m in metrics}
            meta["stopped_early"] = dict(iteration=int(it), patience=int(patience),
                                         improvement=float(config.stop_improvement), best=best)
            warnings.warn(
                f"{name} stopped at iteration {it} of {config.iterations}: the certificates "
                f"{', '.join(metrics)} have not improved by {config.stop_improvement:.0%} over "
                f"the last {patience} evaluations (best: "
                + ", ".join(f"{m} {b:.3g}" for m, b in best.items()) + ")", stacklevel=3)
        if checkpoint_dir and (n_evals_done % config.checkpoint_every == 0
                               or it >= config.iterations or stop):
            save_checkpoint(checkpoint_dir, params, opt_state, it, history, meta)
        if stop:
            break
    if bar is not None:
        bar.close()

    params = evaluation_params(params, opt_state)
    if getattr(run, "sharding", None) is not None:
        params = uncommitted(params)
    return params, history, start, it
