"""Solution quality: Euler-equation errors and exploitability."""

__all__: list[str] = []

# --- Euler-equation errors ---------------------------------------------------------------------

# --- exploitability ----------------------------------------------------------------------------
from .exploitability import ExploitabilityResult, as_policy, exploitability  # noqa: E402

__all__ += ["ExploitabilityResult", "as_policy", "exploitability"]
