"""Decide a lesson's claims from measured values and their noise.

A claim such as "fine-tuning beats training from scratch" is checked on the
learner's own run.  Every measured value carries a standard error (SE): the
binomial SE of an accuracy on ``n`` test images, the spread over seeds, or 0
for an exact count.  A difference is judged against the SE of the difference:

- ``HOLDS``         the difference is in the claimed direction by more than ``z`` SEs;
- ``NOT SEEN``      it goes the other way by more than ``z`` SEs (with no noise:
                    the claim simply failed);
- ``WITHIN NOISE``  it is smaller than ``z`` SEs either way: this run cannot tell.

Every verdict is printed as one line (outcome, claim, margin in points and in
SEs) and recorded in the runner's ``metrics.json`` (see :mod:`cnncourse.report`),
so ``python -m cnncourse run`` and the benchmark can print each lesson's claims.

    acc = Measurement.accuracy
    check_greater("fine-tuning beats the frozen base",
                  acc(0.61, n=5000, label="fine-tuned"), acc(0.58, n=5000, label="frozen"))
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

HOLDS = "HOLDS"
NOT_SEEN = "NOT SEEN"
WITHIN_NOISE = "WITHIN NOISE"
#: a run under a profile too small to decide claims (``smoke``: one epoch on tiny data, proving only
#: that every cell runs) measures and records each claim but judges none
NOT_JUDGED = "NOT JUDGED"
OUTCOMES = (HOLDS, NOT_SEEN, WITHIN_NOISE, NOT_JUDGED)

#: units a difference can be shown in: a scale factor and a suffix
UNITS = {"points": (100.0, " points"), "value": (1.0, ""), "count": (1.0, ""), "fact": (1.0, "")}


@dataclass(frozen=True)
class Measurement:
    """A measured value with its standard error (same units as the value).

    Build one with :meth:`accuracy` (an accuracy on ``n`` independent test items),
    :meth:`over_seeds` (the mean of runs with different seeds) or :meth:`exact`.
    """

    value: float
    se: float
    label: str = ""
    n: int | None = None        # test items (accuracy) or runs (over_seeds)

    def __post_init__(self):
        if not (math.isfinite(self.value) and math.isfinite(self.se)) or self.se < 0:
            raise ValueError(f"a measurement needs a finite value and SE >= 0, got {self.value} +/- {self.se}")

    @classmethod
    def accuracy(cls, value: float, n: int, label: str = "") -> "Measurement":
        """An accuracy (a fraction in [0, 1]) on ``n`` test items: SE = sqrt(p (1 - p) / n)."""
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"an accuracy lies in [0, 1], got {value}")
        if n < 1:
            raise ValueError(f"an accuracy needs at least one test item, got n={n}")
        return cls(value, math.sqrt(value * (1.0 - value) / n), label, int(n))

    @classmethod
    def over_seeds(cls, values: Sequence[float], label: str = "", *, std: float | None = None,
                   items: int | None = None) -> "Measurement":
        """The mean of runs that differ only in their seed: SE = std (ddof 1) / sqrt(runs).

        std   : the run-to-run spread to use instead of these values' own, e.g. one pooled
                over several configurations (:func:`pooled_std`); then one run is enough
        items : the values are accuracies on this many test items: their sampling variance,
                p (1 - p) / items, which other seeds do not resample, is added to the SE
        """
        values = np.asarray(values, dtype=float)
        if values.size < 1 or (std is None and values.size < 2):
            raise ValueError(f"the spread over seeds needs at least 2 runs (or a given std), got {values.size}")
        mean = float(values.mean())
        spread = float(values.std(ddof=1)) if std is None else float(std)
        if not math.isfinite(spread) or spread < 0:
            raise ValueError(f"std must be finite and >= 0, got {spread}")
        variance = spread**2 / values.size
        if items is not None:
            if not 0.0 <= mean <= 1.0 or items < 1:
                raise ValueError(f"items applies to accuracies in [0, 1] on >= 1 items, got {mean} on {items}")
            variance += mean * (1.0 - mean) / items
        return cls(mean, math.sqrt(variance), label, int(values.size))

    @classmethod
    def exact(cls, value: float, label: str = "") -> "Measurement":
        """A value with no noise (a count, a parameter number, a fixed bar)."""
        return cls(float(value), 0.0, label)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one claim, with the numbers it was decided from.

    ``difference`` is (claimed-larger) - (claimed-smaller) - ``by``, in the values' units;
    ``se`` is its standard error; ``margin_se`` the difference in SEs (inf with no noise).
    """

    claim: str
    outcome: str
    difference: float
    se: float
    z: float
    by: float
    unit: str
    values: dict[str, float] = field(default_factory=dict)

    @property
    def margin_se(self) -> float:
        if self.se == 0:
            return math.copysign(math.inf, self.difference) if self.difference else 0.0
        return self.difference / self.se

    @property
    def holds(self) -> bool:
        return self.outcome == HOLDS

    def margin_text(self) -> str:
        """The difference as a learner reads it: points (or the value), the claimed margin, the SEs."""
        if self.unit == "fact":
            return str(self.values["detail"])
        if self.unit == "count":
            bound = "at least" if "at least" in self.values else "at most"
            of = f" of {self.values['out of']:g}" if "out of" in self.values else ""
            return f"{self.values['count']:g}{of} ({bound} {self.values[bound]:g} claimed)"
        scale, suffix = UNITS[self.unit]
        fmt = (lambda x: f"{scale * x:+.1f}{suffix}") if self.unit == "points" else (lambda x: f"{x:+.3g}")
        text = fmt(self.difference + self.by)
        if self.by:
            text += f" against the {fmt(self.by)} claimed: margin {fmt(self.difference)}"
        if self.se > 0:
            text += f" ({self.margin_se:+.1f} SE)"
        return text

    def __str__(self) -> str:
        return f"{self.outcome:<12}  {self.claim}: {self.margin_text()}"

    def as_record(self) -> dict:
        """A JSON-ready dict: claim, outcome, values, difference, se, margin in SEs, z, by, unit."""
        record = asdict(self)
        record["margin_se"] = None if math.isinf(self.margin_se) else round(self.margin_se, 3)
        return record


def pooled_std(groups: Mapping[str, Sequence[float]]) -> float:
    """The run-to-run standard deviation pooled over groups of repeated runs (e.g. one group per
    model, one value per seed): sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1)).  Groups with one run add
    nothing; NaN when no group has two."""
    dof, total = 0, 0.0
    for values in groups.values():
        values = np.asarray(values, dtype=float)
        if values.size > 1:
            dof += values.size - 1
            total += (values.size - 1) * values.var(ddof=1)
    return math.sqrt(total / dof) if dof else float("nan")


def check_best(
    claim: str,
    runs: Mapping[str, Sequence[float]],
    best: str,
    *,
    items: int | None = None,
    z: float = 2.0,
    unit: str = "points",
    show: bool = True,
    record: bool = True,
) -> Verdict:
    """Check that ``best`` scores higher than every other entry of ``runs`` ({name: one value per
    seed}), against the strongest rival (the highest mean).  Each mean's SE comes from the spread
    over seeds pooled over all entries (:func:`pooled_std`), plus, with ``items``, the sampling
    noise of an accuracy on that many test items.  With one run per entry there is no spread: the
    SE is the sampling noise alone (``items``), or the values are taken as exact.  ``{rival}`` in
    ``claim`` is replaced by the rival's name.  Returns the :class:`Verdict`.
    """
    if best not in runs or len(runs) < 2:
        raise KeyError(f"{best!r} must be one of at least two entries; got {list(runs)}")
    means = {name: float(np.mean(values)) for name, values in runs.items()}
    rival = max((name for name in runs if name != best), key=means.get)
    spread = pooled_std(runs)

    def measure(name: str) -> Measurement:
        if math.isfinite(spread):
            return Measurement.over_seeds(runs[name], name, std=spread, items=items)
        if items is not None:
            return Measurement.accuracy(means[name], items, name)
        return Measurement.exact(means[name], name)

    return check_greater(claim.replace("{rival}", rival), measure(best), measure(rival), z=z, unit=unit,
                         show=show, record=record)


def decide(difference: float, se: float, z: float = 2.0) -> str:
    """HOLDS / NOT SEEN / WITHIN NOISE for a difference whose claimed sign is positive."""
    if se == 0:
        return HOLDS if difference > 0 else NOT_SEEN
    if difference > z * se:
        return HOLDS
    if difference < -z * se:
        return NOT_SEEN
    return WITHIN_NOISE


def _as_measurement(x: Measurement | float, default_label: str) -> Measurement:
    return x if isinstance(x, Measurement) else Measurement.exact(float(x), default_label)


def check_greater(
    claim: str,
    larger: Measurement | float,
    smaller: Measurement | float,
    *,
    by: float = 0.0,
    z: float = 2.0,
    unit: str = "points",
    show: bool = True,
    record: bool = True,
) -> Verdict:
    """Check the claim ``larger > smaller + by`` beyond noise; print and record the verdict.

    larger, smaller : Measurements (or plain numbers, taken as exact)
    by    : how much larger the claim says, in the values' units (0.10 = 10 points)
    z     : how many SEs of the difference decide (2 ~ 95%)
    unit  : "points" shows fractions as percentage points; "value" shows them as they are
    Returns the :class:`Verdict`.
    """
    if unit not in ("points", "value"):  # "count" and "fact" belong to check_count and check_fact
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
    a, b = _as_measurement(larger, "larger"), _as_measurement(smaller, "smaller")
    difference = a.value - b.value - by
    se = math.hypot(a.se, b.se)
    values = {a.label or "larger": a.value, b.label or "smaller": b.value}
    if a.se or b.se:
        values.update({f"{a.label or 'larger'} SE": a.se, f"{b.label or 'smaller'} SE": b.se})
    return _emit(Verdict(claim, decide(difference, se, z), difference, se, z, by, unit, values), show, record)


def judged(outcome: str, profile: str | None = None) -> str:
    """``outcome`` as a run under ``profile`` (a profile's name; None: the active one) may state it:
    :data:`NOT_JUDGED` under a profile too small to decide claims (``smoke``: the margin is kept, the
    outcome says it decides nothing), ``outcome`` itself otherwise (or for a profile this course does
    not know).  Every verdict a lesson prints, and every pooled one, passes through here."""
    from .profiles import PROFILES, get_profile

    settings = get_profile() if profile is None else PROFILES.get(profile)
    return outcome if settings is None or settings.judges_claims else NOT_JUDGED


def _emit(verdict: Verdict, show: bool, record: bool) -> Verdict:
    from dataclasses import replace

    verdict = replace(verdict, outcome=judged(verdict.outcome))
    if show:
        print(verdict)
    if record:
        from .report import record_claim

        record_claim(verdict.as_record())
    return verdict


def check_less(claim: str, smaller: Measurement | float, larger: Measurement | float, **kwargs) -> Verdict:
    """Check the claim ``smaller < larger - by`` beyond noise (see :func:`check_greater`)."""
    return check_greater(claim, larger, smaller, **kwargs)


def check_count(claim: str, count: int, at_least: int | None = None, *, at_most: int | None = None,
                out_of: int | None = None, show: bool = True, record: bool = True) -> Verdict:
    """Check an exact count against a bar ("at least 5 of 6 models overfit", "at most 10 units"):
    HOLDS or NOT SEEN (a count has no noise band)."""
    if (at_least is None) == (at_most is None):
        raise ValueError("give exactly one of at_least and at_most")
    bar = at_least if at_least is not None else at_most
    values = {"count": count, "at least" if at_most is None else "at most": bar}
    if out_of is not None:
        values["out of"] = out_of
    difference = float(count - bar) if at_most is None else float(bar - count)
    outcome = HOLDS if difference >= 0 else NOT_SEEN
    return _emit(Verdict(claim, outcome, difference, 0.0, 0.0, 0.0, "count", values), show, record)


def check_fact(claim: str, holds: bool, detail: str, *, show: bool = True, record: bool = True) -> Verdict:
    """Record a claim that is a plain fact of the run (no number to compare): HOLDS or NOT SEEN,
    with ``detail`` saying what was seen.  Prefer :func:`check_greater` wherever there is a number."""
    outcome = HOLDS if holds else NOT_SEEN
    return _emit(Verdict(claim, outcome, 1.0 if holds else -1.0, 0.0, 0.0, 0.0, "fact", {"detail": detail}),
                 show, record)


def claims_table(verdicts: Iterable[Verdict | dict]):
    """A DataFrame of verdicts (or their records): outcome, claim, margin."""
    import pandas as pd

    rows = []
    for v in verdicts:
        v = v if isinstance(v, Verdict) else Verdict(**{k: v[k] for k in (
            "claim", "outcome", "difference", "se", "z", "by", "unit", "values")})
        rows.append({"outcome": v.outcome, "claim": v.claim, "margin": v.margin_text()})
    return pd.DataFrame(rows, columns=["outcome", "claim", "margin"])


def format_claims(claims: list[dict], indent: str = "    ") -> list[str]:
    """Lines of a plain-text claims table: outcome, claim, margin (from recorded verdicts)."""
    if not claims:
        return [f"{indent}(no claims recorded)"]
    table = claims_table(claims)
    return [f"{indent}{row.outcome:<12}  {row.claim}: {row.margin}" for row in table.itertuples()]
