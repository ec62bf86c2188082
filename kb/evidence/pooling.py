"""Random-effects pooling of proportions and ratios, through statsmodels.

Proportions are pooled on the logit scale and ratios on the log scale, by inverse
variance with DerSimonian-Laird's tau² (as R's `meta::metaprop(method = "Inverse",
sm = "PLOGIT")` and `metagen` do). statsmodels' `combine_effects(method_re="dl")`
returns the moment estimate untruncated: a negative tau² when Cochran's Q is below
k - 1, and with it a random-effects interval narrower than the fixed-effect one.
DerSimonian and Laird define tau² as max(0, ...), and at 0 the random-effects model is
the fixed-effect one, so that is what is returned then.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

Z95 = 1.959963984540054
CONTINUITY = 0.5


class Pooled(NamedTuple):
    estimate: float          # on the natural scale (a share 0-1, or a ratio)
    ci_low: float
    ci_high: float
    pi_low: float | None     # the 95% prediction interval, when k >= 3
    pi_high: float | None
    tau2: float
    i2: float                # percent
    q: float
    q_p: float
    weights: list[float]     # percent, in the studies' order


class Effect(NamedTuple):
    """One study on the pooling scale."""

    y: float
    variance: float


def logit_effect(events: int, n: int) -> Effect:
    """A share as a logit and its variance, 0.5 added to both cells at 0 or n."""
    if events in (0, n):
        events, n = events + CONTINUITY, n + 2 * CONTINUITY
    return Effect(math.log(events / (n - events)), 1 / events + 1 / (n - events))


def log_ratio_effect(ratio: float, low: float, high: float) -> Effect:
    """A ratio and its 95% CI as a log ratio and the variance the CI implies."""
    se = (math.log(high) - math.log(low)) / (2 * Z95)
    return Effect(math.log(ratio), se * se)


def exact_interval(events: int, n: int) -> tuple[float, float]:
    """A study's own 95% CI for a share: Clopper-Pearson."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(events, n, alpha=0.05, method="beta")
    return float(low), float(high)


def pool(effects: Sequence[Effect], back: str) -> Pooled:
    """Pool two or more effects; back is 'expit' (logits) or 'exp' (log ratios)."""
    import numpy as np
    from scipy import stats
    from statsmodels.stats.meta_analysis import combine_effects

    y = np.array([e.y for e in effects])
    variance = np.array([e.variance for e in effects])
    k = len(effects)
    with np.errstate(invalid="ignore"):   # a negative tau2's random-effects terms
        result = combine_effects(y, variance, method_re="dl")
    q = float(result.q)
    if result.tau2 > 0:
        tau2, mean = float(result.tau2), float(result.mean_effect_re)
        se, weights = float(result.sd_eff_w_re), result.weights_rel_re
    else:  # truncated at 0: the fixed-effect model
        tau2, mean = 0.0, float(result.mean_effect_fe)
        se, weights = float(result.sd_eff_w_fe), result.weights_rel_fe
    to_natural = _expit if back == "expit" else math.exp
    pi_low = pi_high = None
    if k >= 3:
        half = float(stats.t.ppf(0.975, k - 2)) * math.sqrt(tau2 + se * se)
        pi_low, pi_high = to_natural(mean - half), to_natural(mean + half)
    return Pooled(
        estimate=to_natural(mean), ci_low=to_natural(mean - Z95 * se),
        ci_high=to_natural(mean + Z95 * se), pi_low=pi_low, pi_high=pi_high, tau2=tau2,
        i2=max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0, q=q,
        q_p=float(stats.chi2.sf(q, k - 1)),
        weights=[float(w) * 100 for w in weights])


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))
