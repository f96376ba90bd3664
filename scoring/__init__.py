"""Pure scoring of screening instruments: (instrument, answers) -> ScoreResult.

Typical use::

    from instruments import default_catalogue
    from scoring import answers_from_list, score, score_batch

    phq9 = default_catalogue().get("phq9")
    result = score(phq9, answers_from_list(phq9, [1, 0, 2, 1, 0, 0, 1, 0, 1, 0]))
    batch = score_batch(phq9, int8_matrix)  # one row per response; batch.row(i) == score(...)

Everything the scorer does is declared in the instrument's ``scoring`` spec; see
:mod:`instruments._spec`, :func:`scoring.score` and :func:`scoring.score_batch`.
"""

from ._batch import STATUS_CODES, BatchResult, SubscaleBatch, score_batch
from ._context import GENDERS, BatchContext, ScoreContext
from ._errors import AnswerError, ContextError
from ._result import Flag, FlagSeverity, ScoreResult, ScoreStatus, SubscaleResult
from ._rounding import round_half_up
from ._scalar import answers_from_list, score

__all__ = [
    "GENDERS",
    "STATUS_CODES",
    "AnswerError",
    "BatchContext",
    "BatchResult",
    "ContextError",
    "Flag",
    "FlagSeverity",
    "ScoreContext",
    "ScoreResult",
    "ScoreStatus",
    "SubscaleBatch",
    "SubscaleResult",
    "answers_from_list",
    "round_half_up",
    "score",
    "score_batch",
]
