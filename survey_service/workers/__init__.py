"""Background work: the outbox dispatcher and the deadline sweeper."""

from .dispatcher import Dispatcher, DispatchStats
from .sweeper import SweepStats, sweep

__all__ = ["DispatchStats", "Dispatcher", "SweepStats", "sweep"]
