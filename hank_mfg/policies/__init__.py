"""Equinox policies: recurrent (RSPG) and memoryless (SPG) networks, fixed tables."""
