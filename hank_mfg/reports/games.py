"""Report of a finite-state game's run (docs/games.md): the mean field and the policy along
sampled paths, the exact exploitability, the training history."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from ..metrics.exploitability import exploitability
from ..solvers.rollout import rollout_batch
from ..solvers.rspg import Solution
from .export import save_figure, write_table

__all__ = ["game_tables", "write_game_report"]


def game_tables(sol: Solution, *, n_paths: int = 8, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Tables of a solved game on ``n_paths`` common-noise paths drawn from ``seed``:

    * ``mean_field``: path, date, state, mass (the exact distribution under the policy);
    * ``aggregates``: path, date and the public observation's entries ``obs_0, obs_1, ...``;
    * ``policy``: path, date, state, mean_action (the expected action index) and
      the most probable action, on every path;
    * ``solution_quality``: exploitability, policy and best-response returns on these paths;
    * ``history``: the training history.
    """
    mf = sol.compiled()
    key = jax.random.key(seed)
    eps = mf.sample_noise(key=key, n_paths=n_paths)
    traj = rollout_batch(mf, sol.policy, eps)
    mu, P, obs = (np.asarray(x) for x in (traj.mu, traj.P, traj.obs))
    B, T, n_s = mu.shape
    b, t, s = np.meshgrid(np.arange(B), np.arange(T), np.arange(n_s), indexing="ij")
    mean_field = pd.DataFrame(dict(path=b.ravel(), date=t.ravel(), state=s.ravel(),
                                   mass=mu.ravel()))
    actions = np.arange(P.shape[-1])
    policy = pd.DataFrame(dict(path=b.ravel(), date=t.ravel(), state=s.ravel(),
                               mean_action=(P @ actions).ravel(),
                               likeliest_action=P.argmax(axis=-1).ravel()))
    bo, to = np.meshgrid(np.arange(B), np.arange(T), indexing="ij")
    aggregates = pd.DataFrame(dict(path=bo.ravel(), date=to.ravel()))
    for j in range(obs.shape[-1]):
        aggregates[f"obs_{j}"] = obs[..., j].ravel()
    res = exploitability(mf, sol.policy, key=key, n_paths=n_paths)
    quality = pd.DataFrame([dict(exploitability=res.exploitability,
                                 policy_return=res.policy_return,
                                 best_response_return=res.best_response_return,
                                 n_paths=n_paths, seed=seed)])
    return dict(mean_field=mean_field, aggregates=aggregates, policy=policy,
                solution_quality=quality, history=sol.history)


def write_game_report(sol: Solution, out: str, *, n_paths: int = 8, seed: int = 0) -> dict:
    """Write :func:`game_tables` (CSV + Parquet) and two figures: the mean field over dates
    and states on the first path, and exploitability against training time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = game_tables(sol, n_paths=n_paths, seed=seed)
    paths = [p for name, df in tables.items() for p in write_table(df, out, name)]
    mf_0 = tables["mean_field"].query("path == 0").pivot(index="state", columns="date",
                                                         values="mass")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    im = ax.imshow(mf_0.to_numpy(), aspect="auto", origin="lower", cmap="viridis")
    ax.set_xlabel("date")
    ax.set_ylabel("state")
    ax.set_title(f"{type(sol.model).__name__}: the mean field on path 0")
    fig.colorbar(im, ax=ax, label="mass")
    figures = [save_figure(fig, out, "mean_field")]
    plt.close(fig)
    h = tables["history"]
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(h["wall_seconds"] if "wall_seconds" in h else h["seconds"], h["exploitability"], "o-")
    ax.set_yscale("log")
    ax.set_xlabel("wall seconds")
    ax.set_ylabel("exploitability")
    ax.set_title(f"{sol.method.upper()} on {type(sol.model).__name__}")
    ax.grid(alpha=0.3)
    figures.append(save_figure(fig, out, "solution_quality"))
    plt.close(fig)
    last = float(tables["solution_quality"]["exploitability"].iloc[0])
    first = float(h["exploitability"].iloc[0])
    ok = bool(np.isfinite(last) and last < first)
    quality = dict(passed=ok, checks=dict(exploitability_fell=ok),
                   warnings=[] if ok else [f"exploitability did not fall below the initial "
                                           f"policy's ({first:.4g} -> {last:.4g})"])
    return dict(tables=paths, figures=figures, quality=quality, choice="game")
