"""Recurrent Structural Policy Gradient (RSPG) and its memoryless ablation SPG (docs/theory.md §6).

Per iteration: sample ``B`` common-noise paths; roll the population forward with the current
policy; compute the *exact* expected return by backward recursion along each path with the
mean-field path held fixed; loss ``= -mean_b sum_s mu_0(s) V_0(s)``; Adam with global-norm
clipping and a linearly annealed learning rate. Monte Carlo only in the aggregate noise.

The whole iteration is one jitted function; ``eval_every`` iterations run inside one
``lax.scan``; between chunks the driver evaluates exploitability on fixed evaluation paths
(common random numbers across evaluations), updates the progress bar and history, and writes a
checkpoint from which ``resume=True`` continues bit-for-bit.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from typing import Any, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..model.base import AbstractHetAgentModel
from ..operators.compile import AnyMeanField, compile_model
from ..operators.meanfield import MeanField
from ..model.economy import AbstractEconomy
from ..policies.networks import ACTIVATIONS, HEADS, AbstractPolicy, head_for_mean, make_policy
from ..policies.savings import SAVINGS_HEADS
from ..policies.savings import trainable as savings_trainable
from . import continuous as cont
from . import savings_certificates as certificates
from .krusell_smith import KrusellSmithConfig, KrusellSmithSolution, krusell_smith
from .markets import ForecastClearing
from .rl import RL_METHODS, RLConfig, RLRun
from .rollout import (
    action_values, model_consumption_equivalent, policy_values, relative_exploitability,
    replay_tables, rollout_batch,
)
from .training import (
    STATE_FILE, DiscreteEvaluation, default_optimizer, evaluation_params, gradient_steps,
    load_checkpoint, model_fields, path_sharding, placed, run_keys, train, trainable_filter,
)

__all__ = [
    "INITS", "METHODS", "RSPGConfig", "Solution", "load_solution", "rspg_loss", "rspg_value_and_grad",
    "solve", "stationary_action_mean",
]

METHODS = ("rspg", "spg")
#: How choices are represented (:class:`RSPGConfig` ``choice``).
CHOICES = ("auto", "discrete", "continuous")
#: Policy initialisations (:class:`RSPGConfig` ``init``).
INITS = ("auto", "symmetric", "stationary")
#: Structural starts of continuous-choice RSPG (docs/theory.md §12.7).
STARTS = cont.STARTS
#: Where a discrete policy's network runs (:class:`RSPGConfig` ``table_head``).
TABLE_HEADS = ("state", "knots")


@dataclasses.dataclass(frozen=True)
class RSPGConfig:
    """Training configuration (defaults: the paper's code defaults, docs/theory.md §6).

    Args:
        iterations: gradient steps (500). n_paths: noise paths per step ``B`` (8).
        lr, lr_final: Adam learning rate, annealed linearly from ``lr`` to ``lr_final`` (0.01 -> 0.001).
        clip_norm: global gradient-norm clip (1.0).
        hidden: GRU (RSPG) / observation-embedding (SPG) width (128). widths: MLP widths (128, 128).
        activation: ``relu``. head: ``beta`` (ordered Beta head) or ``categorical``.
        head_scale: the output layer starts at its default initialisation times this, with zero
            bias (0.01: the first policy plays nearly the same distribution in every state).
        time_input: feed the normalised date to the policy (finite horizon).
        eval_every: iterations per jitted chunk between exploitability evaluations (20).
        eval_paths: noise paths for each exploitability evaluation (8; fixed across evaluations).
        seed: PRNG seed; the same seed gives the same numbers. Iteration ``i`` draws its noise
            paths from ``fold_in(key(seed) -> training key, i)``, so training does not depend
            on ``eval_every`` or on where a run was interrupted and resumed.
        checkpoint_every: write a checkpoint every this many evaluations (1 = every evaluation).
        init: the policy's starting point (:data:`INITS`). ``"symmetric"``: every household
            first plays the same near-symmetric Beta over the actions (mean share about one
            half) — the paper's start. ``"stationary"``: the head's bias is set so that the
            first policy plays, in every state, actions averaging the consumption share that
            keeps aggregate capital at its initial level (:func:`stationary_action_mean`) — the
            sensible start from a steady-state distribution, where a share of one half would
            run capital down to zero within a few dates. ``"auto"`` (default): ``"stationary"``
            when the model has a given initial distribution (``initial_mu``, e.g. from
            :func:`~hank_mfg.with_steady_state_initial`), else ``"symmetric"``.
        choice: ``"discrete"`` (the model's action grid, the paper's method), ``"continuous"``
            (a deterministic savings policy around the model's steady state, docs/theory.md
            §12) or ``"auto"`` (default: continuous for an economy, else discrete). With
            continuous choices ``init``, ``head`` and ``time_input`` do not apply (the policy
            starts at the steady-state household's rule and has no date input); see
            :meth:`continuous` for its preset.
        savings_head: continuous choices: ``"knots"`` (the policy at ``n_knots`` wealth knots
            per income state, interpolated; cost independent of the grid) or ``"state"`` (an
            MLP per individual state).
        table_head: discrete choices: ``"state"`` (the paper's: the MLP on every individual
            state) or ``"knots"`` (the MLP once per date, giving the head's outputs at
            ``n_knots`` wealth knots per income state, interpolated to the grid).
        n_knots: knots per income state (24) of either head.
        horizon: continuous choices: the horizon ``T`` (default ``None``: the first ``T`` with
            ``beta^T <= horizon_tol``, 0.01); the model's ``horizon`` field is not used.
        news: continuous choices: ``K`` announced innovations of the shock ``news_shock``
            (default: the economy's first shock) that hit ``1..K`` dates after they are
            announced, observed by everyone (0: none; docs/theory.md §13.4).
        control_lags: continuous choices: the gradient's control variate — the marginal value
            of saving along a path is replaced by its residual on the innovations of the
            ``control_lags`` dates that follow, and the firms' forecast target by its residual on
            the next date's innovations (the same expected gradient, less noise; docs/theory.md
            §12.3). ``0``: the plain single-path estimate; :meth:`continuous` uses 48.
        precondition: continuous choices: scale each household's marginal value of saving by
            the inverse curvature of utility in log consumption, a Gauss–Newton step in
            relative consumption household by household (docs/theory.md §12.3). ``False``: the
            plain policy gradient; :meth:`continuous` turns it on.
        continuation: continuous choices: how the training direction values saving.
            ``"lottery"``: the exact gradient of the lottery-valued objective (the secant slope
            of next date's value between grid points). ``"egm"``: the Euler equation as the
            endogenous grid method discretises it — one EGM step at each date's budget from
            the marginal value the path realises next date, ``u'(c*) - u'(c)`` — the
            discretisation of the structural start, the best response and the
            perfect-foresight benchmarks, so that a start that solves the model is a fixed
            point of training (docs/theory.md §12.3); :meth:`continuous` uses it from the
            first-order start, where the step is taken to first order about the households'
            expectation (linear in the realised marginal value, so without the bias the
            step's nonlinearity gives its mean over the shocks). ``"egm-pointwise"``: the step
            from the realised marginal value itself.
        start: continuous choices: the structural start the learned correction is added to.
            ``"steady-state"`` (default): one EGM step at today's budget from the steady
            state's marginal value, scaled by the expected return. ``"first-order"``: from the
            first-order (certainty-equivalent) solution instead — the households' expected
            marginal value and the firms' forecast move with the history of surprises as the
            perfect-foresight responses show, so that the untrained solution equals the
            sequence-space one at first order (docs/theory.md §12.7). ``"risk-adjusted"``: the
            first-order start with the households' expected marginal value adjusted for risk
            at the steady state (its mean over next date's shocks rather than its value at
            their mean; the same at first order), so that the untrained households already
            save for precaution next to the borrowing limit. ``"time-iteration"``: the
            risk-adjusted start whose households near the borrowing limit take next date's
            expectation by quadrature over its shocks, with their own next-date choices at
            each node (one step of time iteration; docs/theory.md §12.7).
        floor_expectations: continuous choices from a first-order start, an economy with a
            lower bound (``OneAssetHANK(i_lb=...)``): ``True`` makes the start's expectations
            piecewise linear — the households and firms expect the linear solution with the
            rule shifted where the bound binds, announced and revised every date, instead of
            the linear solution's path below the bound (docs/theory.md §12.7); with
            ``start="time-iteration"`` next date's shifts are solved again at each node of its
            quadrature, on the whole grid. ``False`` (default): the linear expectations, with
            the bound in today's prices only.
        stop_patience: continuous choices with Gaussian shocks: ``0`` (default) trains for
            ``iterations``; ``k > 0`` certifies every evaluation by the first-order certificate
            (history column ``first_order_gap``, docs/theory.md §12.8) and stops training when
            neither it nor, for an economy with the firms' forecast, the expected residual of
            any forward-looking condition (``<target>_expected``) has improved on its best by
            ``stop_improvement`` over the last ``k`` evaluations — a stopping rule from the
            certificates alone, with no reference solution (docs/theory.md §12.9).
        stop_improvement: the relative improvement that counts (0.05: 5% below the best).
        linear_correction: continuous choices: whether the learned correction (the households'
            and the firms' forecaster's) may respond linearly to the history's deviation from
            the steady state. ``None`` (default): ``False`` from a first-order start — the
            correction is then a level that keeps the start's slope plus terms of second and
            higher order, so that the first-order response stays the start's whatever
            training does along the directions its gradient barely holds (docs/theory.md
            §12.12) — and ``True`` from the steady
            state, whose correction must learn the first-order response itself.
        average: ``0`` (default) evaluates and returns the last iterate; ``d`` in ``(0, 1)``
            the exponential average of the iterates with decay ``d`` from the start
            (:func:`~hank_mfg.solvers.training.averaged`): the steps are Adam's; the average
            removes most of the iterates' fluctuation about the point the expected gradient
            holds them at, not a drift along directions it does not hold (docs/theory.md
            §12.7).
    """

    iterations: int = 500
    n_paths: int = 8
    lr: float = 0.01
    lr_final: float = 0.001
    clip_norm: float = 1.0
    hidden: int = 128
    widths: tuple = (128, 128)
    activation: str = "relu"
    head: str = "beta"
    head_scale: float = 0.01
    time_input: bool = True
    eval_every: int = 20
    eval_paths: int = 8
    seed: int = 0
    checkpoint_every: int = 1
    init: str = "auto"
    choice: str = "auto"
    savings_head: str = "knots"
    table_head: str = "state"
    n_knots: int = 24
    horizon: Optional[int] = None
    horizon_tol: float = 1e-2
    news: int = 0
    news_shock: Optional[str] = None
    control_lags: int = 0
    precondition: bool = False
    continuation: str = "lottery"
    start: str = "steady-state"
    floor_expectations: bool = False
    stop_patience: int = 0
    stop_improvement: float = 0.05
    average: float = 0.0
    linear_correction: Optional[bool] = None

    #: what a configuration saved before a key existed meant by its absence
    ABSENT_MEANS = {"linear_correction": True}

    def __post_init__(self):
        for name in ("iterations", "n_paths", "hidden", "eval_every", "eval_paths", "checkpoint_every"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"RSPGConfig.{name} must be a positive integer; got {v!r}")
        if not (np.isfinite(self.head_scale) and self.head_scale >= 0):
            raise ValueError(f"RSPGConfig.head_scale must be finite and >= 0; "
                             f"got {self.head_scale!r}")
        for name in ("lr", "lr_final", "clip_norm"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"RSPGConfig.{name} must be positive and finite; got {v:.6g}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"RSPGConfig.activation must be one of {sorted(ACTIVATIONS)}; "
                             f"got {self.activation!r}")
        if self.head not in HEADS:
            raise ValueError(f"RSPGConfig.head must be one of {HEADS}; got {self.head!r}")
        if self.init not in INITS:
            raise ValueError(f"RSPGConfig.init must be one of {INITS}; got {self.init!r}")
        if self.choice not in CHOICES:
            raise ValueError(f"RSPGConfig.choice must be one of {CHOICES}; got {self.choice!r}")
        if self.savings_head not in SAVINGS_HEADS:
            raise ValueError(f"RSPGConfig.savings_head must be one of {SAVINGS_HEADS}; "
                             f"got {self.savings_head!r}")
        if self.table_head not in TABLE_HEADS:
            raise ValueError(f"RSPGConfig.table_head must be one of {TABLE_HEADS}; "
                             f"got {self.table_head!r}")
        if self.start not in STARTS:
            raise ValueError(f"RSPGConfig.start must be one of {STARTS}; got {self.start!r}")
        if not isinstance(self.n_knots, (int, np.integer)) or self.n_knots < 2:
            raise ValueError(f"RSPGConfig.n_knots must be an integer >= 2; got {self.n_knots!r}")
        if self.horizon is not None and (not isinstance(self.horizon, (int, np.integer))
                                         or self.horizon < 2):
            raise ValueError(f"RSPGConfig.horizon must be None or an integer >= 2; "
                             f"got {self.horizon!r}")
        if not (np.isfinite(self.average) and 0.0 <= self.average < 1.0):
            raise ValueError(f"RSPGConfig.average must lie in [0, 1); got {self.average!r}")
        if not 0.0 <= self.stop_improvement < 1.0:
            raise ValueError(f"RSPGConfig.stop_improvement must lie in [0, 1); "
                             f"got {self.stop_improvement!r}")
        for name in ("news", "control_lags", "stop_patience"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"RSPGConfig.{name} must be an integer >= 0; got {v!r}")
        if not isinstance(self.floor_expectations, (bool, np.bool_)):
            raise ValueError(f"RSPGConfig.floor_expectations must be True or False; "
                             f"got {self.floor_expectations!r}")
        if self.floor_expectations and self.start == "steady-state":
            raise ValueError("RSPGConfig.floor_expectations=True needs a first-order start "
                             "(start='first-order', 'risk-adjusted' or 'time-iteration'); "
                             "got start='steady-state'")
        if self.linear_correction is not None and not isinstance(self.linear_correction,
                                                                   (bool, np.bool_)):
            raise ValueError(f"RSPGConfig.linear_correction must be None, True or False; "
                             f"got {self.linear_correction!r}")
        if self.linear_correction is False and self.start == "steady-state":
            raise ValueError("RSPGConfig.linear_correction=False needs a start that is exact at "
                             "first order (start='first-order', 'risk-adjusted' or "
                             "'time-iteration'); got "
                             "start='steady-state'")
        if not isinstance(self.precondition, (bool, np.bool_)):
            raise ValueError(f"RSPGConfig.precondition must be True or False; "
                             f"got {self.precondition!r}")
        if self.continuation not in cont.CONTINUATIONS:
            raise ValueError(f"RSPGConfig.continuation must be one of {cont.CONTINUATIONS}; "
                             f"got {self.continuation!r}")
        if not 0.0 < self.horizon_tol < 1.0:
            raise ValueError(f"RSPGConfig.horizon_tol must lie in (0, 1); got {self.horizon_tol!r}")
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))

    @classmethod
    def paper(cls, **overrides) -> "RSPGConfig":
        """The published configuration for the macro model (docs/theory.md §6)."""
        return cls(**overrides)

    @classmethod
    def fast(cls, **overrides) -> "RSPGConfig":
        """The least wall time to a given exploitability on the paper's model (docs/performance.md):
        the paper's network evaluated at 24 wealth knots per income state and interpolated
        (``table_head="knots"``), its output layer at the default initialisation
        (``head_scale=1``), 4 paths per iteration at Adam 0.03 -> 0.003, 200 iterations,
        exploitability every 10 on the same 8 evaluation paths as the paper preset."""
        base = dict(table_head="knots", n_knots=24, head_scale=1.0, n_paths=4, lr=0.03,
                    lr_final=0.003, iterations=200, eval_every=10, eval_paths=8)
        return cls(**{**base, **overrides})

    @classmethod
    def continuous(cls, **overrides) -> "RSPGConfig":
        """Continuous savings choices around the steady state (docs/theory.md §12): knot head
        (24 knots), GRU 32 and MLP 64-64 with tanh, Adam 3e-3 annealed to 3e-4, 150
        iterations of 8 paths with the control variate over the 48 dates ahead
        (``control_lags``) and the gradient scaled to relative consumption (``precondition``),
        certificates on 8 paths every 25 iterations (the configuration of docs/validation.md
        and docs/performance.md). From ``start="first-order"`` the marginal value of saving is
        read as EGM reads it (``continuation="egm"``), so that the start is a fixed point of
        training, at a tenth of the rate (3e-4 to 3e-5): that start is already exact at first
        order and leaves only what linearisation misses to learn, and Adam's normalised steps
        move every parameter by about the rate even where the expected gradient is zero, so
        that at the steady-state start's rate training follows the gradient's noise away from
        it (docs/theory.md §12.3, §12.7). From ``start="risk-adjusted"`` or
        ``"time-iteration"`` the same, evaluated and returned with the average of the iterates
        (``average=0.95``); from ``"time-iteration"`` for 25 iterations, one evaluation: that
        start is already at the relative exploitability's floor and close to the Euler
        equation next to the borrowing limit, the expected Phillips-curve residual gains in the
        first 25 iterations what 150 gain, and longer training only walks the households'
        correction away from the start along directions the expected gradient does not hold
        (docs/validation.md, "The time-iteration start")."""
        base = dict(choice="continuous", hidden=32, widths=(64, 64), activation="tanh",
                    lr=3e-3, lr_final=3e-4, iterations=150, eval_every=25, control_lags=48,
                    precondition=True)
        if overrides.get("start") in ("first-order", "risk-adjusted", "time-iteration"):
            base.update(lr=3e-4, lr_final=3e-5, continuation="egm")
        if overrides.get("start") in ("risk-adjusted", "time-iteration"):
            base.update(average=0.95)
        if overrides.get("start") == "time-iteration":
            base.update(iterations=25)
        return cls(**{**base, **overrides})

    @property
    def correction_is_linear(self) -> bool:
        """Whether the learned correction keeps its linear term (``linear_correction`` resolved)."""
        if self.linear_correction is None:
            return self.start == "steady-state"
        return bool(self.linear_correction)

    def savings_architecture(self) -> dict:
        return dict(hidden=self.hidden, widths=self.widths, activation=self.activation,
                    head=self.savings_head, n_knots=self.n_knots,
                    linear=self.correction_is_linear)

    def architecture(self) -> dict:
        return dict(hidden=self.hidden, widths=self.widths, activation=self.activation,
                    head=self.head, time_input=self.time_input, head_scale=self.head_scale,
                    knots=self.n_knots if self.table_head == "knots" else 0)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["widths"] = list(self.widths)
        return d


@dataclasses.dataclass
class Solution:
    """A solved model: the trained ``policy`` and how it got there.

    Attributes:
        model, method, config, policy: what was solved and the result (a discrete policy, an
            :class:`~hank_mfg.policies.networks.AbstractPolicy`, or a continuous one, a
            :class:`~hank_mfg.policies.savings.SavingsPolicy`).
        history: pandas DataFrame (iteration, seconds, wall_seconds, loss, exploitability,
            policy_return, best_response_return, infeasible_mass) — one row per evaluation
            (``seconds``: training time; ``wall_seconds``: everything, see :func:`solve`); returns count the
            utility of feasible choices, infeasible choices are in ``infeasible_mass``
            (:class:`~hank_mfg.solvers.rollout.Evaluation`). Continuous choices report
            relative_exploitability, euler_mean, euler_max and market_residual instead of
            infeasible_mass (docs/theory.md §12.4).
        summary: final exploitability, returns, timings (JSON-serialisable dict).
        problem: the compiled problem (see :meth:`compiled`).
    """

    model: Any
    method: str
    config: Any
    policy: Any
    history: Any
    summary: dict
    problem: Any = None

    def compiled(self):
        """The compiled problem: a :class:`MeanField` (discrete choices) or a
        :class:`~hank_mfg.solvers.continuous.SavingsProblem` (continuous choices)."""
        return compile_model(self.model) if self.problem is None else self.problem


# ---- the loss ----------------------------------------------------------------------------------
def rspg_loss(policy: AbstractPolicy, mf: AnyMeanField, eps) -> tuple[jax.Array, jax.Array]:
    """RSPG loss ``-mean_b sum_s mu_0(s) V_0(s)`` over noise paths ``eps (B, T)``.

    Gradients flow through the policy tables ``P_t`` only (rewards and the individual
    transition); the mean-field and price path are stop-gradient (docs/theory.md §6.1). Returns
    ``(loss, prices_finite)``.
    """
    traj = rollout_batch(mf, policy, eps)
    v0 = jax.vmap(lambda tr: policy_values(mf, tr)[0])(traj)
    return -jnp.mean(jnp.sum(v0 * traj.mu[:, 0], axis=-1)), mf.prices_finite(traj.agg)


def rspg_value_and_grad(params, static, mf: AnyMeanField, eps):
    """RSPG loss and its gradient, without differentiating through the value recursion.

    Mathematically identical to differentiating :func:`rspg_loss` (tested): with the mean-field
    path fixed, the population's own distribution ``mu_t`` is the occupancy measure of a single
    household following ``P``, so (finite-horizon policy-gradient identity)
    ``dJ = sum_t beta^t sum_s mu_t(s) sum_k dP_t[s,k] A_t[s,k]`` with the exact action values
    ``A_t = R_t + beta Q_t(V_{t+1})``. So: (1) a gradient-free rollout records the path,
    (2) a gradient-free backward recursion gives ``V`` and ``A``, (3) the policy is replayed on
    the recorded (fixed) observations and one reverse sweep with cotangent
    ``-beta^t mu_t A_t / B`` gives the gradient. This halves the time per iteration against
    reverse-mode through the whole rollout (docs/performance.md). Returns
    ``(loss, grads, prices_finite)``.
    """
    policy = eqx.combine(jax.lax.stop_gradient(params), static)
    traj = rollout_batch(mf, policy, eps)
    V, A = jax.vmap(lambda tr: action_values(mf, tr))(traj)
    B, T = eps.shape[:2]
    disc = mf.model.beta ** jnp.arange(T, dtype=A.dtype)
    cot = jax.lax.stop_gradient(-(disc[None, :, None, None] * traj.mu[..., None] * A) / B)

    def surrogate(p):
        pol = eqx.combine(p, static)
        P = jax.vmap(lambda obs: replay_tables(pol, obs))(traj.obs)
        return jnp.sum(P * cot)

    grads = jax.grad(surrogate)(params)
    loss = -jnp.mean(jnp.sum(V[:, 0] * traj.mu[:, 0], axis=-1))
    return loss, grads, mf.prices_finite(traj.agg)


@eqx.filter_jit
def _train_chunk(params, static, opt_state, mf: AnyMeanField, config_static, start, n_steps_arr):
    """``len(n_steps_arr)`` RSPG iterations under one ``lax.scan`` (the whole loop jitted)."""
    return gradient_steps(params, opt_state, config_static, start, n_steps_arr, mf.sample_noise,
                          lambda p, eps: rspg_value_and_grad(p, static, mf, eps))


def stationary_action_mean(mf: AnyMeanField) -> tuple[float, jax.Array]:
    """The mean action that keeps aggregate capital at its initial level, and the action values.

    With prices at the initial distribution ``mu_0`` (and ``z = 0``), cash on hand ``m`` and
    capital ``K = sum mu_0 a``: if every household consumes the same share ``s`` of its cash on
    hand above the limit, next capital is ``K' = a_min + (1 - s) (M - a_min)`` with
    ``M = sum mu_0 m`` (the lottery preserves mean wealth), so ``K' = K`` at
    ``s = (M - K) / (M - a_min)``, the consumption share of a stationary capital stock
    (``share`` actions; returns ``(s, shares)``). With ``savings`` actions the mean next wealth
    is ``K`` itself (returns ``(K, levels)``). With a stationary income distribution ``L``
    stays put and, with constant-returns prices, ``dK'/dK = (1 - s)(1 + r) < 1`` whenever
    ``s > r / (1 + r)``: capital stays near ``K`` under the first policy.
    """
    mu0 = mf.initial_distribution()
    agg = mf.aggregate_state(mu0, 0.0)
    if mf.model.action_kind == "share":
        M = mu0 @ mf.cash_on_hand(agg)
        return float((M - agg.K) / (M - mf.a_grid[0])), mf.action_grid
    return float(agg.K), mf.action_grid


def resolved_init(model: AbstractHetAgentModel, config: RSPGConfig) -> str:
    """``config.init`` with ``"auto"`` resolved (see :class:`RSPGConfig`)."""
    if config.init != "auto":
        return config.init
    return "stationary" if model.initial_mu is not None else "symmetric"


def _init_state(mf: AnyMeanField, method: str, config: RSPGConfig,
                make_optimizer=default_optimizer):
    k_init, _, _ = run_keys(config)
    policy = make_policy(mf, method, key=k_init, **config.architecture())
    if isinstance(mf, MeanField) and resolved_init(mf.model, config) == "stationary":
        target, values = stationary_action_mean(mf)
        policy = head_for_mean(policy, values, target)
    params, static = eqx.partition(policy, trainable_filter(policy))
    opt_state = make_optimizer(config).init(params)
    return params, static, opt_state


# ---- the driver ----------------------------------------------------------------------------------
def solve(
    model,
    method: str = "rspg",
    config: Optional[Any] = None,
    *,
    checkpoint_dir: Optional[str] = None,
    resume: bool = False,
    progress: bool = True,
    callback: Optional[Callable[[dict], None]] = None,
    started: Optional[float] = None,
    optimizer: Optional[optax.GradientTransformation] = None,
    certificates: Optional[Callable] = None,
) -> "Solution | KrusellSmithSolution":
    """Solve the mean-field equilibrium with aggregate risk by RSPG (or SPG).

    Args:
        model: a declared model (e.g. ``RSPGMacro(horizon=32)``).
        method: ``"rspg"`` (recurrent, history-aware policy), ``"spg"`` (memoryless ablation),
            a model-free learner, or ``"krusell-smith"`` (the Krusell–Smith algorithm for an
            economy with a joint aggregate/idiosyncratic chain such as
            ``KrusellSmithUnemployment``; returns a
            :class:`~hank_mfg.solvers.krusell_smith.KrusellSmithSolution`).
        config: :class:`RSPGConfig` (paper defaults when omitted).
        checkpoint_dir: where to write ``checkpoint.eqx`` and ``state.json`` at evaluations.
        resume: continue from the checkpoint in ``checkpoint_dir`` (same model/method/config),
            giving exactly the numbers of an uninterrupted run. A larger ``config.iterations``
            extends a run; the added steps use the final learning rate ``lr_final`` (so they
            differ from a run started with that many iterations).
        progress: show a tqdm bar with loss and latest exploitability.
        callback: called with each history row (a dict) — for custom logging.
        started: a ``time.perf_counter()`` reading from which the history's ``wall_seconds``
            count (default: when ``solve`` is called; the CLI passes its own start, so that
            imports count too). ``seconds`` counts from the end of the first evaluation, that
            is without set-up and compilation; ``wall_seconds`` counts everything a user waits
            for, and a resumed run adds to the wall time its checkpoint recorded.
        optimizer: any Optax ``GradientTransformation`` for RSPG/SPG (default: global-norm
            clipping at ``clip_norm`` and Adam annealed linearly from ``lr`` to ``lr_final``,
            :func:`~hank_mfg.solvers.training.default_optimizer`). A checkpoint records whether
            a custom one was used; resume with the same one.
        certificates: continuous choices: a function ``(problem, policy) -> {column: value}``
            (lower is better), evaluated at every evaluation and recorded first in the
            history; the stopping rule (``config.stop_patience``) reads every column it
            returns (``hm.solve`` passes the first-order certificate,
            :func:`~hank_mfg.metrics.first_order.first_order_gap`).

    Returns:
        :class:`Solution` with the trained policy, a history DataFrame and a summary.

    Raises:
        ValueError: unknown method, bad config, a checkpoint from a different run (the
            message lists the differing keys, old -> new), or fewer iterations than it holds.
        FloatingPointError: non-finite loss, gradient or prices; names the iteration and, for
            prices, the aggregate that left its domain with the date and path (e.g. ``capital
            K = -0.01 <= 0 at date 7 on path 3``) and what to try; the last good checkpoint is kept.

    Timing: at the paper's full size (1000 states, horizon 128, 8 paths) one iteration costs
    about a second on a 2-core CPU (see docs/performance.md).

    Example:
        >>> sol = hm.solve(RSPGMacro(horizon=16), "rspg", hm.RSPGConfig(iterations=20, eval_every=10))
        >>> sol.history.tail()
    """
    import pandas as pd

    t_wall = time.perf_counter() if started is None else started
    if method == "krusell-smith":
        if not (config is None or isinstance(config, KrusellSmithConfig)):
            raise ValueError(f"solve: method 'krusell-smith' takes a KrusellSmithConfig; got a "
                             f"{type(config).__name__}")
        return krusell_smith(model, config, progress=progress)
    if method not in METHODS and method not in RL_METHODS:
        raise ValueError(f"solve: method must be one of "
                         f"{METHODS + tuple(RL_METHODS) + ('krusell-smith',)}; got {method!r}")
    if config is None:
        config = RLConfig.for_method(method) if method in RL_METHODS else RSPGConfig()
    if not isinstance(config, _config_class(method)):
        raise ValueError(f"solve: method {method!r} takes a {_config_class(method).__name__}; "
                         f"got a {type(config).__name__}")
    if resume and checkpoint_dir is None:
        raise ValueError("solve: resume=True needs checkpoint_dir")
    if continuous_choices(model, config) and not jax.config.jax_enable_x64:
        # continuous choices build on the EGM steady state and certify by EGM: float64 throughout
        with jax.enable_x64(True):
            model = jax.tree_util.tree_map(
                lambda x: x.astype(jnp.float64) if eqx.is_array(x) and x.dtype == jnp.float32
                else x, model)
            return solve(model, method, config, checkpoint_dir=checkpoint_dir, resume=resume,
                         progress=progress, callback=callback, started=t_wall,
                         optimizer=optimizer, certificates=certificates)
    stopping = isinstance(config, RSPGConfig) and config.stop_patience > 0
    if stopping and not continuous_choices(model, config):
        raise ValueError("RSPGConfig.stop_patience: the stopping rule reads the first-order "
                         "certificate of continuous choices; set it to 0 for discrete ones")
    if optimizer is None:
        run = _run_class(model, method, config)(model, method, config)
    elif method in RL_METHODS:
        raise ValueError(f"solve: optimizer is for RSPG/SPG; method {method!r} builds its own "
                         "from its RLConfig (lr, clip_norm)")
    else:
        run = _run_class(model, method, config)(model, method, config, lambda _: optimizer)
    if certificates is not None and hasattr(run, "certificates"):
        run.certificates = certificates
    if stopping and certificates is None and not run.stop_metrics():
        raise ValueError("RSPGConfig.stop_patience: nothing to stop on — the economy has no "
                         "forward-looking condition and no certificates were passed (hm.solve "
                         "passes the first-order certificate)")
    meta = dict(method=method, optimizer="default" if optimizer is None else "custom",
                config=config.to_dict(), model=type(model).__name__,
                model_fields=model_fields(model))

    params, history, start, it = train(
        run, config, meta, checkpoint_dir=checkpoint_dir, resume=resume, progress=progress,
        callback=callback, started=t_wall)

    frame = pd.DataFrame(history)
    first, last = history[0], history[-1]
    summary = dict(
        method=method,
        iterations=int(it),
        initial_exploitability=first["exploitability"],
        final_exploitability=last["exploitability"],
        final_policy_return=last["policy_return"],
        final_best_response_return=last["best_response_return"],
        train_seconds=last["seconds"],
        wall_seconds=last["wall_seconds"],
        # measured by the run that started from scratch (None if it was not recorded)
        first_eval_seconds_incl_compile=meta.get("first_eval_seconds_incl_compile"),
        resumed_from_iteration=int(start),
        stopped_early=meta.get("stopped_early"),
    )
    summary.update(run.summary(first, last))
    return Solution(model=model, method=method, config=config,
                    policy=run.policy(params), history=frame, summary=summary,
                    problem=run.problem)


def _config_class(method: str):
    """The configuration class of a method: :class:`RSPGConfig` or, for the model-free
    baselines, :class:`~hank_mfg.solvers.rl.RLConfig`."""

    return RLConfig if method in RL_METHODS else RSPGConfig


def _run_class(model, method: str, config):
    """The training problem of :func:`solve`: discrete choices, continuous savings choices or a
    model-free baseline on sampled agents."""

    if method in RL_METHODS:
        if isinstance(model, AbstractEconomy) and not model.discrete_actions:
            raise ValueError(f"solve: method {method!r} learns discrete choices from sampled "
                             f"agents; {type(model).__name__} is an economy without an action "
                             "grid, solved with continuous choices only")
        return RLRun
    return _SavingsRun if continuous_choices(model, config) else _DiscreteRun


def continuous_choices(model, config) -> bool:
    """Whether ``config`` solves ``model`` with continuous savings choices (see ``choice``)."""
    if not isinstance(config, RSPGConfig):
        return False
    if isinstance(model, AbstractEconomy) and not model.discrete_actions:
        if config.choice == "discrete":
            raise ValueError(f"RSPGConfig.choice: {type(model).__name__} is an economy without "
                             "an action grid, solved with continuous choices only; got "
                             "'discrete'")
        return True
    return config.choice == "continuous"


class _DiscreteRun(DiscreteEvaluation):
    """The discrete-choice problem (the paper's method) for :func:`~.training.train`."""

    def __init__(self, model, method, config, make_optimizer=default_optimizer):
        self.problem = mf = compile_model(model)
        self.method = method
        self.make_optimizer = make_optimizer
        self.params, self.static, self.opt_state = _init_state(mf, method, config, make_optimizer)
        _, self.k_train, k_eval = run_keys(config)
        self.eval_eps = placed(mf.sample_noise(key=k_eval, n_paths=config.eval_paths))
        self.n_paths = config.n_paths
        self.sharding = path_sharding(config.n_paths)

    def train_chunk(self, params, opt_state, config, it, steps):
        return _train_chunk(params, self.static, opt_state, self.problem,
                            (config, self.make_optimizer, self.k_train, self.sharding), it, steps)


class _SavingsRun:
    """Continuous savings choices around the steady state (docs/theory.md §12)."""

    def __init__(self, model, method, config, make_optimizer=default_optimizer):
        from .steady_state import steady_state

        cont.check_supported(model)  # before the steady state is solved
        with jax.enable_x64(True):
            ss = steady_state(model)
        self.steady_state = ss
        self.problem = problem = cont.savings_problem(
            model, ss, horizon=config.horizon, horizon_tol=config.horizon_tol,
            news=config.news, news_shock=config.news_shock, start=config.start,
            floor_expectations=config.floor_expectations)
        self.method = method
        k_init, self.k_train, k_eval = run_keys(config)
        policy = problem.make_policy(key=k_init, recurrent=(method == "rspg"),
                                     **config.savings_architecture())
        self.params, self.static = eqx.partition(policy, savings_trainable(policy))
        self.make_optimizer = make_optimizer
        self.opt_state = make_optimizer(config).init(self.params)
        self.eval_eps = placed(problem.sample_noise(key=k_eval, n_paths=config.eval_paths))
        self.sharding = path_sharding(config.n_paths)
        # the problem is closed over, not passed: its arrays and the model's parameters become
        # compile-time constants (a power with a constant exponent compiles to multiplications
        # and square roots; measured twice as fast on the HANK household)
        static = self.static
        self._train = eqx.filter_jit(
            lambda params, opt_state, cs, start, steps: _savings_train_chunk(
                params, static, opt_state, problem, cs, start, steps))
        self._evaluate = eqx.filter_jit(
            lambda params, eps: certificates.evaluate_savings(
                problem, eqx.combine(params, static), eps, path_sharding(eps.shape[0])))
        # certificates computed at every evaluation (set by solve; see its ``certificates``)
        self.certificates = None
        self._certified = ()   # their columns, once evaluated

    def train_chunk(self, params, opt_state, config, it, steps):
        return self._train(params, opt_state,
                           (config, self.make_optimizer, self.k_train, self.sharding), it, steps)

    def policy(self, params):
        return eqx.combine(params, self.static)

    def explain(self, params, i):
        return ("the savings policy left cash on hand at or below the borrowing limit, or a "
                "market could not clear in its bracket; try a smaller lr")

    def evaluate(self, params, iteration, seconds, loss):
        ev = self._evaluate(params, self.eval_eps)
        if not bool(jnp.all(ev.finite)):
            b = int(jnp.argmin(ev.finite))
            raise FloatingPointError(f"{self.method.upper()} iteration {iteration}: non-finite "
                                     f"consumption or values on evaluation path {b}")
        ret_pi = float(jnp.mean(ev.policy_return))
        ex = float(jnp.mean(ev.exploitability))
        # the certificates passed in (the first-order certificate, docs/theory.md §12.8) first
        first = ({} if self.certificates is None
                 else {k: float(v) for k, v in
                       self.certificates(self.problem, self.policy(params)).items()})
        self._certified = tuple(first) or self._certified
        row = dict(
            iteration=int(iteration), seconds=float(seconds), loss=float(loss), **first,
            exploitability=ex, relative_exploitability=relative_exploitability(ex, ret_pi),
            consumption_equivalent=model_consumption_equivalent(
                self.problem.model, ex, float(jnp.mean(ev.consumption_return))),
            policy_return=ret_pi, best_response_return=float(jnp.mean(ev.best_response_return)),
            euler_mean=float(jnp.mean(ev.euler_mean)), euler_max=float(jnp.max(ev.euler_max)),
            market_residual=float(jnp.max(ev.residual)),
        )
        # an economy solved with the firms' forecast: its other conditions along the paths
        row.update(certificates.equilibrium_columns(self.problem, ev))
        return row

    def stop_metrics(self) -> tuple:
        """History columns the stopping rule reads (lower is better): the certificates passed
        in (those evaluated so far) and, for an economy with the firms' forecast, the expected
        residual of each forward-looking condition."""
        forward = (self.problem.prices.forward_targets
                   if isinstance(self.problem.prices, ForecastClearing) else ())
        return self._certified + tuple(f"{k}_expected" for k in forward)

    def summary(self, first, last) -> dict:
        return dict(
            choice="continuous", horizon=self.problem.horizon,
            initial_relative_exploitability=first["relative_exploitability"],
            final_relative_exploitability=last["relative_exploitability"],
            # .get: a run resumed from a checkpoint written before this column existed
            initial_consumption_equivalent=first.get("consumption_equivalent"),
            final_consumption_equivalent=last["consumption_equivalent"],
            final_euler_mean=last["euler_mean"], final_euler_max=last["euler_max"],
            final_market_residual=last["market_residual"],
        )


def _savings_train_chunk(params, static, opt_state, problem, config_static, start, n_steps_arr):
    """``len(n_steps_arr)`` continuous-choice RSPG iterations under one ``lax.scan``."""
    config = config_static[0]

    def value_and_grad(p, eps):
        loss, grads, _ = cont.savings_value_and_grad(p, static, problem, eps, config.control_lags,
                                                     config.precondition, config.continuation,
                                                     config_static[3])
        return loss, grads, jnp.isfinite(loss)

    return gradient_steps(params, opt_state, config_static, start, n_steps_arr,
                          problem.sample_noise, value_and_grad)


def load_solution(model, checkpoint_dir: str) -> Solution:
    """Rebuild a :class:`Solution` from a checkpoint directory written by :func:`solve`."""
    import pandas as pd

    with open(os.path.join(checkpoint_dir, STATE_FILE)) as f:
        state = json.load(f)
    cfg = dict(state["config"])
    cfg["widths"] = tuple(cfg["widths"])
    config_class = _config_class(state["method"])
    cfg = {**getattr(config_class, "ABSENT_MEANS", {}), **cfg}
    config = config_class(**cfg)
    if continuous_choices(model, config) and not jax.config.jax_enable_x64:
        with jax.enable_x64(True):
            return load_solution(model, checkpoint_dir)
    run = _run_class(model, state["method"], config)(model, state["method"], config)
    params, opt_state, state = load_checkpoint(checkpoint_dir, run.params, run.opt_state)
    hist = state["history"]
    summary = dict(method=state["method"], iterations=state["iteration"],
                   final_exploitability=hist[-1]["exploitability"] if hist else None)
    return Solution(model=model, method=state["method"], config=config,
                    policy=run.policy(evaluation_params(params, opt_state)),
                    history=pd.DataFrame(hist), summary=summary, problem=run.problem)
