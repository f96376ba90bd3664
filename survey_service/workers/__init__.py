"""Background work: the outbox dispatcher and the deadline sweeper."""

from survey_service.workers.dispatcher import Dispatcher, DispatchStats
from survey_service.workers.sweeper import SweepStats, sweep

__all__ = ["DispatchStats", "Dispatcher", "SweepStats", "sweep"]
