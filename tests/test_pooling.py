"""Pooling (kb/evidence/pooling.py) against an independent computation, and GRADE's
rating (kb/evidence/grade.py)."""

import math

import numpy as np
import pytest
from scipy import stats

from kb.evidence import grade, pooling

# a worked example: four series, events of n
SERIES = [(60, 100), (52, 104), (54, 120), (35, 50)]


def dersimonian_laird(y: np.ndarray, v: np.ndarray):
    """DerSimonian and Laird (1986) written out, as a reader checks them by hand."""
    w = 1 / v
    fixed = (w * y).sum() / w.sum()
    q = (w * (y - fixed) ** 2).sum()
    k = len(y)
    c = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = max(0.0, (q - (k - 1)) / c)
    w_star = 1 / (v + tau2)
    mu = (w_star * y).sum() / w_star.sum()
    se = math.sqrt(1 / w_star.sum())
    half_pi = stats.t.ppf(0.975, k - 2) * math.sqrt(tau2 + se * se)
    return dict(mu=mu, se=se, tau2=tau2, q=q, i2=max(0.0, (q - (k - 1)) / q) * 100,
                pi=(mu - half_pi, mu + half_pi), weights=w_star / w_star.sum() * 100)


def expit(x):
    return 1 / (1 + math.exp(-x))


def test_proportions_pool_as_an_independent_computation_does_to_3_decimals():
    y = np.array([math.log(e / (n - e)) for e, n in SERIES])
    v = np.array([1 / e + 1 / (n - e) for e, n in SERIES])
    expected = dersimonian_laird(y, v)
    result = pooling.pool([pooling.logit_effect(e, n) for e, n in SERIES], "expit")
    assert expected["tau2"] > 0
    assert result.tau2 == pytest.approx(expected["tau2"], abs=5e-4)
    assert result.q == pytest.approx(expected["q"], abs=5e-4)
    assert result.i2 == pytest.approx(expected["i2"], abs=5e-4)
    assert result.q_p == pytest.approx(stats.chi2.sf(expected["q"], 3), abs=5e-4)
    assert result.estimate == pytest.approx(expit(expected["mu"]), abs=5e-4)
    assert result.ci_low == pytest.approx(expit(expected["mu"] - 1.959964 * expected["se"]),
                                          abs=5e-4)
    assert result.ci_high == pytest.approx(expit(expected["mu"] + 1.959964 * expected["se"]),
                                           abs=5e-4)
    assert (result.pi_low, result.pi_high) == pytest.approx(
        tuple(expit(x) for x in expected["pi"]), abs=5e-4)
    assert result.weights == pytest.approx(list(expected["weights"]), abs=5e-3)
    # the figures a reader sees: 55.4 % (45.3-65.1), I² 72.5 %
    assert (round(result.estimate * 100, 1), round(result.ci_low * 100, 1),
            round(result.ci_high * 100, 1), round(result.i2, 1)) == (55.4, 45.3, 65.1, 72.5)


HOMOGENEOUS = [(30, 60), (32, 62), (31, 61)]


def test_statsmodels_returns_a_negative_tau2_on_homogeneous_series():
    """Why pooling truncates: the library's DL moment estimate is left untruncated."""
    from statsmodels.stats.meta_analysis import combine_effects

    effects = [pooling.logit_effect(e, n) for e, n in HOMOGENEOUS]
    raw = combine_effects(np.array([e.y for e in effects]),
                          np.array([e.variance for e in effects]), method_re="dl")
    assert raw.tau2 < 0


def test_tau2_is_truncated_at_zero_and_the_model_is_then_the_fixed_effect_one():
    effects = [pooling.logit_effect(e, n) for e, n in HOMOGENEOUS]
    result = pooling.pool(effects, "expit")
    y = np.array([e.y for e in effects])
    v = np.array([e.variance for e in effects])
    expected = dersimonian_laird(y, v)
    assert result.tau2 == 0.0 and expected["tau2"] == 0.0
    assert result.i2 == 0.0
    assert result.estimate == pytest.approx(expit(expected["mu"]), abs=5e-4)
    fixed_se = math.sqrt(1 / (1 / v).sum())
    assert result.ci_low == pytest.approx(expit(expected["mu"] - 1.959964 * fixed_se),
                                          abs=5e-4)
    # never narrower than the fixed-effect interval
    assert result.ci_high - result.ci_low == pytest.approx(
        expit(expected["mu"] + 1.959964 * fixed_se)
        - expit(expected["mu"] - 1.959964 * fixed_se), abs=1e-6)


def test_no_prediction_interval_below_three_studies():
    result = pooling.pool([pooling.logit_effect(60, 100), pooling.logit_effect(30, 90)],
                          "expit")
    assert result.pi_low is None and result.pi_high is None


def test_a_share_of_none_or_all_gets_half_a_patient_added_to_each_cell():
    none, everyone = pooling.logit_effect(0, 20), pooling.logit_effect(20, 20)
    assert none.y == pytest.approx(math.log(0.5 / 20.5))
    assert none.variance == pytest.approx(1 / 0.5 + 1 / 20.5)
    assert everyone.y == pytest.approx(-none.y)


def test_a_studys_own_interval_is_clopper_pearson():
    low, high = pooling.exact_interval(7, 20)
    assert low == pytest.approx(stats.beta.ppf(0.025, 7, 14), abs=1e-9)
    assert high == pytest.approx(stats.beta.ppf(0.975, 8, 13), abs=1e-9)


def test_ratios_are_weighed_by_the_variance_their_95_ci_implies():
    effect = pooling.log_ratio_effect(0.6, 0.4, 0.9)
    assert effect.y == pytest.approx(math.log(0.6))
    assert math.sqrt(effect.variance) == pytest.approx(
        (math.log(0.9) - math.log(0.4)) / (2 * 1.959964), abs=1e-6)
    pooled = pooling.pool([effect, pooling.log_ratio_effect(0.8, 0.5, 1.28)], "exp")
    assert 0.6 < pooled.estimate < 0.8 and pooled.ci_low < pooled.estimate < pooled.ci_high


@pytest.mark.parametrize("design, judgements, expected", [
    ("randomized", {}, "high"),
    ("randomized", {"imprecision": "serious"}, "moderate"),
    ("randomized", {"imprecision": "serious", "risk-of-bias": "very serious"}, "very low"),
    ("observational", {"inconsistency": "not serious"}, "low"),
    ("observational", {"inconsistency": "serious"}, "very low"),
    ("observational", {"inconsistency": "very serious", "imprecision": "serious"},
     "very low"),
    ("mixed", {}, "low"),
])
def test_grade_starts_by_design_and_moves_down_by_the_judgements(design, judgements,
                                                                  expected):
    assert grade.rate(design, judgements) == expected
    assert grade.symbols(expected).count("⊕") == grade.LEVELS.index(expected) + 1
