"""Equinox policies: recurrent (RSPG) and memoryless (SPG) networks, fixed tables."""

from .networks import (
    ACTIVATIONS,
    HEADS,
    PAPER_ARCHITECTURE,
    AbstractPolicy,
    MemorylessPolicy,
    RecurrentPolicy,
    TablePolicy,
    TimeTablePolicy,
    make_policy,
)

__all__ = [
    "ACTIVATIONS", "HEADS", "PAPER_ARCHITECTURE", "AbstractPolicy", "MemorylessPolicy",
    "RecurrentPolicy", "TablePolicy", "TimeTablePolicy", "make_policy",
]
