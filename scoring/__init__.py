"""Pure scoring of screening instruments: (instrument, answers) -> ScoreResult.

Typical use::

    from instruments import default_catalogue
    from scoring import answers_from_list, score

    phq9 = default_catalogue().get("phq9")
    result = score(phq9, answers_from_list(phq9, [1, 0, 2, 1, 0, 0, 1, 0, 1, 0]))

Everything the scorer does is declared in the instrument's ``scoring`` spec; see
:mod:`instruments._spec` and :func:`scoring.score`.
"""

from ._errors import AnswerError
from ._result import Flag, FlagSeverity, ScoreResult, ScoreStatus, SubscaleResult
from ._rounding import round_half_up
from ._scalar import answers_from_list, score

__all__ = [
    "AnswerError",
    "Flag",
    "FlagSeverity",
    "ScoreResult",
    "ScoreStatus",
    "SubscaleResult",
    "answers_from_list",
    "round_half_up",
    "score",
]
