"""Calls that span the layers, for notebooks: :func:`solve` is the solvers' ``solve`` whose
solution also answers ``sol.summary["quality"]`` with the verdicts that ``hank-mfg solve``
writes into summary.json (:func:`hank_mfg.reports.verdicts.run_quality`)."""

from __future__ import annotations

from .solvers.rspg import Solution
from .solvers.rspg import solve as _solve

__all__ = ["Summary", "solve"]


class Summary(dict):
    """A solution's summary (a plain ``dict`` to read and to write as JSON) whose
    ``"quality"`` is computed when it is first read, and kept: the verdicts cost an evaluation
    (the first-order certificate of continuous choices, Euler errors of discrete ones) that
    a run which never asks should not pay."""

    def __init__(self, data: dict, solution: Solution):
        super().__init__(data)
        self._solution = solution

    def __missing__(self, key):
        if key != "quality":
            raise KeyError(key)
        from .reports.verdicts import run_quality  # reports load pandas: only when asked

        self["quality"] = value = run_quality(self._solution)
        return value


def solve(model, method: str = "rspg", config=None, **kwargs):
    """Solve the mean-field equilibrium with aggregate risk: the solvers'
    :func:`~hank_mfg.solvers.rspg.solve`, with the same arguments and result, whose
    :class:`~hank_mfg.solvers.rspg.Solution` also answers ``sol.summary["quality"]``: the
    verdicts ``hank-mfg solve`` writes into summary.json and ``hank-mfg report`` prints
    (:func:`hank_mfg.reports.verdicts.run_quality`: ``{"passed", "warnings", "checks", ...}``),
    computed when first read.

    Args:
        model, method, config: as :func:`~hank_mfg.solvers.rspg.solve` (``method=
            "krusell-smith"`` returns its own solution, without verdicts).
        **kwargs: ``checkpoint_dir``, ``resume``, ``progress``, ``callback``, ``started``,
            ``optimizer``, ``certificates`` (see :func:`~hank_mfg.solvers.rspg.solve`). With
            ``config.stop_patience > 0`` the first-order certificate is evaluated at every
            evaluation (:func:`~hank_mfg.metrics.first_order.first_order_gap`) and training
            stops when the certificates stop improving.
    """
    if getattr(config, "stop_patience", 0) and "certificates" not in kwargs:
        # the stopping rule reads the first-order certificate at every evaluation
        from .metrics.first_order import first_order_gap

        kwargs["certificates"] = first_order_gap
    sol = _solve(model, method, config, **kwargs)
    if isinstance(sol, Solution):
        sol.summary = Summary(sol.summary, sol)
    return sol
