"""Solution quality: Euler-equation errors and exploitability."""

__all__: list[str] = []

# --- Euler-equation errors ---------------------------------------------------------------------
from .euler import EulerErrors, euler_errors  # noqa: E402

__all__ += ["EulerErrors", "euler_errors"]

# --- exploitability ----------------------------------------------------------------------------
from .exploitability import (  # noqa: E402
    DeviationResult, ExploitabilityResult, as_policy, exploitability, exploitability_floor,
    trained_best_response,
)

__all__ += ["DeviationResult", "ExploitabilityResult", "as_policy", "exploitability",
            "exploitability_floor", "trained_best_response"]

# --- den Haan's accuracy statistics --------------------------------------------------------------
from .den_haan import (  # noqa: E402
    CapitalPathGap, DenHaanErrors, capital_path_gap, den_haan_errors, den_haan_statistic,
    stress_path,
)

__all__ += ["CapitalPathGap", "DenHaanErrors", "capital_path_gap", "den_haan_errors",
            "den_haan_statistic", "stress_path"]

# --- the first-order certificate ----------------------------------------------------------------
from .first_order import (  # noqa: E402
    best_response_irf, first_order_certificate, path_certificate)

__all__ += ["best_response_irf", "first_order_certificate", "path_certificate"]

# --- tests of the firms' forecast ---------------------------------------------------------------
from .forecast import forecast_tests  # noqa: E402

__all__ += ["forecast_tests"]
