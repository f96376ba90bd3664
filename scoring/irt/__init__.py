"""Item response theory: graded response and 2PL models, calibration and trait scoring.

Pure numpy/scipy (no service imports). Typical use::

    from scoring.irt import eap, fit_grm

    cal = fit_grm(responses)            # (N, J) category indices 0..K-1, -1 = missing
    scores = eap(responses, cal.params)  # ThetaEstimates(theta, sd)

See :mod:`scoring.irt._models` for the parameterisation (slope-intercept,
``logit P(X >= k | theta) = a*theta + d[k-1]``), :mod:`scoring.irt._calibration` for
marginal maximum likelihood and :mod:`scoring.irt._scoring` for EAP and MAP.
"""

from ._calibration import Calibration, fit_2pl, fit_grm
from ._models import ItemParams, category_probabilities, item_information
from ._scoring import ThetaEstimates, check_responses, eap, map_estimate

__all__ = [
    "Calibration",
    "ItemParams",
    "ThetaEstimates",
    "category_probabilities",
    "check_responses",
    "eap",
    "fit_2pl",
    "fit_grm",
    "item_information",
    "map_estimate",
]
