"""Solution quality: Euler-equation errors and exploitability."""

__all__: list[str] = []

# --- Euler-equation errors ---------------------------------------------------------------------

# --- exploitability ----------------------------------------------------------------------------
