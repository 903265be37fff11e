"""A class is a bigger experiment than one laptop: ``python -m cnncourse pool PATH...``.

Each learner runs a lesson with a seed of their own (``CNNCOURSE_SEED``, see
:mod:`cnncourse.reproducibility`) and drops the run's ``build/metrics.json`` (or the executed
notebook) into a shared folder.  :func:`pool_runs` reads them all and decides each claim again, with
every run as one sample: the claim's measured difference (what the run's verdict was decided from:
the claimed-larger value less the claimed-smaller one, less any margin the claim asks for), their
mean, its standard error over the runs (std / sqrt(runs)), and the verdict by the lessons' own rule
(:func:`cnncourse.claims.decide`, 2 SEs, widened for few runs: :func:`runs_threshold`), beside how
many single runs said each outcome.

It refuses to mix profiles, course versions or edited lessons (naming the files), drops a run whose
seed is already in the pool (saying so), and writes the pooled table as ``pooled.md`` and
``pooled.json``; ``python -m cnncourse site`` shows ``pooled.json`` on the reading copy's index when it
lies in the folder the site is built from.

Two things the pool cannot do.  Runs that test on the same images (a lesson that uses the whole test
split) share that test set's own sampling noise, which pooling does not shrink: a pooled verdict speaks
for that test set.  And a claim that names each run's strongest rival ("... (next best: {rival})") is
pooled as the margin over each run's own strongest rival, which leans towards NOT SEEN.

No TensorFlow here: the teacher's machine needs only the course's package.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..claims import NOT_JUDGED, OUTCOMES, Measurement, Verdict, decide, judged
from ..report import read_metrics, write_metrics

POOLED_JSON = "pooled.json"
POOLED_MD = "pooled.md"
_LESSON = re.compile(r"^\d\d_")
#: a lesson that repeats its runs uses seed, seed + 1, seed + 2 (cnncourse.reproducibility)
SEED_SPACING = 3


class PoolError(ValueError):
    """The runs cannot be pooled (different profiles, course versions or lesson code; no runs)."""


# ----------------------------------------------------------------------------- recording a run
def lesson_code(nb) -> str:
    """A fingerprint of a notebook's code cells (12 hex digits): two runs with the same one ran the
    same lesson code.  ``nb``: a notebook node or its JSON dict."""
    digest = hashlib.sha256()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            digest.update(("".join(source) if isinstance(source, list) else source).encode())
            digest.update(b"\0")
    return digest.hexdigest()[:12]


def run_record(nb, profile: str, status: str) -> dict:
    """What the runner records about a run for pooling: profile, the run's seed and its origin, the
    course version (the cnncourse package's), the lesson code's fingerprint, the status."""
    from importlib import metadata

    from ..reproducibility import run_seed

    seed, origin = run_seed()
    try:
        version = metadata.version("cnncourse")
    except metadata.PackageNotFoundError:
        version = "not installed"
    return {"profile": profile, "seed": seed, "seed_origin": origin, "course_version": version,
            "lesson_code": lesson_code(nb), "status": status}


def record_run(metrics_path: str | Path, notebook: str, record: dict) -> dict:
    """Put ``record`` (:func:`run_record`) beside ``notebook``'s metrics and claims in ``metrics_path``;
    return that entry ({"metrics", "claims", "run"})."""
    metrics = read_metrics(metrics_path)
    entry = metrics.setdefault(notebook, {"metrics": {}, "claims": []})
    entry["run"] = record
    write_metrics(metrics_path, metrics)
    return entry


# ----------------------------------------------------------------------------- reading runs
@dataclass
class Run:
    """One run of one lesson: where it was read from, its record and its claims."""

    source: str
    lesson: str
    record: dict
    claims: list[dict]

    @property
    def seed(self):
        return self.record.get("seed")


def _runs_in_file(path: Path) -> tuple[list[Run], list[str]]:
    """The runs in one metrics.json or executed notebook, and notes on what was skipped."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return [], [f"skipped {path}: not readable JSON ({err})"]
    if not isinstance(data, dict):
        return [], [f"skipped {path}: not a metrics.json or an executed notebook"]
    if path.suffix == ".ipynb":
        meta = data.get("metadata", {}).get("cnncourse", {})
        name = path.stem
        if "claims" not in meta:
            return [], [f"skipped {path}: an executed notebook without its claims in its metadata (run it "
                        f"with `python -m cnncourse run`, or pool its metrics.json)"]
        entries = {name: {"run": meta, "claims": meta["claims"]}}
    elif "pooled" in data:
        return [], []   # a pooled table written here earlier
    else:
        entries = {k: v for k, v in data.items() if _LESSON.match(k) and isinstance(v, dict) and "claims" in v}
        if not entries:
            return [], [f"skipped {path}: no lesson's claims in it"]
    runs, notes = [], []
    for name, entry in sorted(entries.items()):
        record = entry.get("run")
        if not record or "seed" not in record:
            notes.append(f"skipped {path} ({name}): no run record (seed, profile, course version): it was "
                         f"made before runs recorded them; run the lesson again")
        elif record.get("status", "ok") != "ok":
            notes.append(f"skipped {path} ({name}): the run {record.get('status')}")
        else:
            runs.append(Run(str(path), name, record, list(entry.get("claims", []))))
    return runs, notes


def find_runs(paths: Iterable[str | Path]) -> tuple[list[Run], list[str]]:
    """Every run in ``paths``: ``.json`` files (metrics.json, whatever their names), executed notebooks
    (``NN_*.ipynb``), and folders searched for both (a folder's notebooks are read only where it holds
    no ``.json`` with claims: the runner leaves both, and they are the same runs).  Returns the runs
    (in the order of their paths) and notes on the files skipped."""
    files: list[Path] = []
    notes: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.json") if q.name != POOLED_JSON and ".ipynb_checkpoints" not in q.parts)
            folders_with_json = {q.parent for q in found}
            found += sorted(q for q in p.rglob("[0-9][0-9]_*.ipynb")
                            if q.parent not in folders_with_json and ".ipynb_checkpoints" not in q.parts)
            files += found
        elif p.is_file():
            files.append(p)
        else:
            notes.append(f"skipped {p}: no such file or folder")
    runs: list[Run] = []
    for f in files:
        more, why = _runs_in_file(f)
        runs += more
        notes += why
    return runs, notes


# ----------------------------------------------------------------------------- pooling
_PARENTHESES = re.compile(r"\s*\([^()]*\)")


def claim_key(text: str) -> str:
    """A claim's text without its run-specific parts, the parenthesised ones ("(next best: ResNet)",
    "(+0.12 points there, +1.3 here)"), so that the same claim of different runs pools together."""
    return " ".join(_PARENTHESES.sub("", text).split())


def common_wording(texts: Sequence[str]) -> str:
    """The first text, less the parenthesised parts that are not in every one of ``texts``."""
    common = set.intersection(*(set(m.strip() for m in _PARENTHESES.findall(t)) for t in texts))
    return " ".join(_PARENTHESES.sub(lambda m: m.group(0) if m.group(0).strip() in common else "", texts[0]).split())


@dataclass
class PooledClaim:
    """One claim pooled over runs."""

    claim: str                  # the claim's wording, less what differs between the runs
    unit: str
    runs: int                   # runs that decided it
    mean: float | None          # mean of the runs' differences (None: a fact, not pooled)
    se: float | None            # standard error over runs
    outcome: str | None         # pooled verdict (None: one run, or a fact)
    margin: str                 # the pooled margin as a learner reads it
    single: dict[str, int] = field(default_factory=dict)   # outcome -> how many single runs said it
    wordings: list[str] = field(default_factory=list)      # the claim's texts in the runs
    threshold: float | None = None   # the margin, in SEs over the runs, that decides (runs_threshold)

    @property
    def agree(self) -> int | None:
        """How many single runs said what the pool says."""
        return None if self.outcome is None else self.single.get(self.outcome, 0)


@dataclass
class PooledLesson:
    """One lesson pooled over runs: the common profile and version, the seeds, the claims."""

    lesson: str
    profile: str
    course_version: str
    lesson_code: str
    seeds: list
    sources: list[str]
    claims: list[PooledClaim]


def runs_threshold(z: float, runs: int) -> float | None:
    """How many SEs over ``runs`` runs decide a pooled verdict: the lessons' ``z`` (2) where the SE is
    known, widened for the few runs that estimate it here to the same confidence under Student's t
    with runs - 1 degrees of freedom (2 runs: 14.0; 3: 4.5; 5: 2.9; 10: 2.3; 20: 2.1).  None for one run."""
    if runs < 2:
        return None
    from scipy import stats

    return float(stats.t.ppf(stats.norm.cdf(z), runs - 1))


def pool_claim(records: Sequence[dict], profile: str = "?") -> PooledClaim:
    """Pool one claim's recorded verdicts (one per run, :meth:`Verdict.as_record` dicts) of runs under
    ``profile`` (its name; "?": not recorded): a profile that judges no claim (smoke) pools to
    NOT JUDGED, with its margin."""
    unit = records[0].get("unit", "points")
    z = float(records[0].get("z") or 2.0)
    by = float(records[0].get("by") or 0.0)
    single = {o: sum(r["outcome"] == o for r in records) for o in OUTCOMES}
    wordings = list(dict.fromkeys(r["claim"] for r in records))
    key = common_wording(wordings)
    differences = [float(r["difference"]) for r in records]
    n = len(records)
    threshold = runs_threshold(z, n)
    if unit == "fact":
        return PooledClaim(key, unit, n, None, None, None, "a fact of each run: see the single runs", single, wordings)
    if n < 2:
        return PooledClaim(key, unit, n, differences[0], None, None, "one run: nothing to pool", single, wordings)
    pooled = Measurement.over_seeds(differences)   # the mean and its SE over runs, the runs as seeds
    if unit == "count":   # whole numbers: "at least k" is "more than k - 1/2"
        outcome = judged(decide(pooled.value + 0.5, pooled.se, threshold), profile)
        margin = f"{pooled.value:+.2f} past the bar on average (SE {pooled.se:.2f} over runs)"
    else:
        outcome = judged(decide(pooled.value, pooled.se, threshold), profile)
        margin = Verdict(key, outcome, pooled.value, pooled.se, threshold, by, unit).margin_text()
    return PooledClaim(key, unit, n, pooled.value, pooled.se, outcome, margin, single, wordings, threshold)


def _refuse_mixed(lesson: str, runs: Sequence[Run]) -> None:
    for what, label in (("profile", "profiles"), ("course_version", "course versions"),
                        ("lesson_code", "lesson code (an edited notebook?)")):
        by_value: dict[str, list[str]] = {}
        for run in runs:
            by_value.setdefault(str(run.record.get(what)), []).append(run.source)
        if len(by_value) > 1:
            listing = "; ".join(f"{value}: {', '.join(sources)}" for value, sources in by_value.items())
            raise PoolError(f"{lesson}: the runs differ in {label}, so they are not one experiment - {listing}. "
                            f"Pool one {what.replace('_', ' ')} at a time (move the other files out).")


def pool_runs(runs: Sequence[Run]) -> tuple[list[PooledLesson], list[str]]:
    """Pool ``runs`` lesson by lesson.  Returns the pooled lessons and notes (duplicate seeds
    dropped).  Raises :class:`PoolError` when there is no run, or when a lesson's runs differ in
    profile, course version or lesson code."""
    if not runs:
        raise PoolError("no runs to pool: give the folder the class copied its build/metrics.json files into")
    notes: list[str] = []
    pooled = []
    for lesson in sorted({r.lesson for r in runs}):
        mine = [r for r in runs if r.lesson == lesson]
        _refuse_mixed(lesson, mine)
        kept: dict = {}
        for run in mine:
            if run.seed in kept:
                notes.append(f"dropped {run.source} ({lesson}): seed {run.seed} is already pooled from "
                             f"{kept[run.seed].source}")
            else:
                kept[run.seed] = run
        mine = list(kept.values())
        numbers = [s for s in kept if isinstance(s, int)]
        close = sorted(s for s in numbers if any(0 < t - s < SEED_SPACING for t in numbers))
        if close:
            notes.append(f"{lesson}: seeds less than {SEED_SPACING} apart ({', '.join(map(str, close))} and the next): a "
                         f"lesson that repeats its runs uses seed, seed + 1, seed + 2, so such runs share some "
                         f"models' seeds and are not quite independent; give learners seeds 10 apart, or names")
        by_claim: dict[str, list[dict]] = {}
        for run in mine:
            for record in run.claims:
                by_claim.setdefault(claim_key(record["claim"]), []).append(record)
        first = mine[0].record
        profile = first.get("profile", "?")
        claims = [pool_claim(records, profile) for records in by_claim.values()]
        if any(c.outcome == NOT_JUDGED for c in claims):
            notes.append(f"{lesson}: the {profile} profile judges no claim (it only proves that every cell runs), "
                         f"pooled or not: the table shows the pooled margins, NOT JUDGED")
        pooled.append(PooledLesson(lesson, profile, first.get("course_version", "?"),
                                   first.get("lesson_code", "?"), [r.seed for r in mine], [r.source for r in mine],
                                   claims))
    return pooled, notes


# ----------------------------------------------------------------------------- showing it
def _single_text(single: dict[str, int]) -> str:
    """What the single runs said: "3 NOT SEEN, 1 WITHIN NOISE" ({outcome: how many runs})."""
    return ", ".join(f"{n} {o}" for o, n in single.items() if n)


def _threshold_text(lesson: PooledLesson) -> str:
    by_runs = {c.runs: c.threshold for c in lesson.claims if c.threshold is not None}
    return " / ".join(f"{t:.1f} SEs over {n} runs" for n, t in sorted(by_runs.items(), reverse=True)) or "- (one run)"


def format_pooled(lessons: Sequence[PooledLesson], notes: Sequence[str] = ()) -> str:
    """The pooled table as Markdown (readable as plain text too): per lesson, per claim, the pooled
    verdict and margin, the runs, what the single runs said and how many agreed with the pool."""
    lines = ["# Pooled verdicts over the class's runs", ""]
    for lesson in lessons:
        lines += [f"## {lesson.lesson}: {len(lesson.seeds)} run{'s' if len(lesson.seeds) != 1 else ''} pooled", "",
                  f"profile `{lesson.profile}` · cnncourse {lesson.course_version} · lesson code {lesson.lesson_code}"
                  f" · seeds {', '.join(map(str, lesson.seeds))}", "",
                  f"A pooled verdict needs a margin beyond {_threshold_text(lesson)} (the lessons' 2 SEs, "
                  f"widened for few runs: Student's t).", "",
                  "| pooled verdict | claim | mean margin over the runs (SE over runs) | runs | single runs said | agree |",
                  "|---|---|---|---|---|---|"]
        for c in lesson.claims:
            agree = "-" if c.agree is None else f"{c.agree} of {c.runs}"
            lines.append(f"| {c.outcome or '-'} | {c.claim.replace('|', '/')} | {c.margin} | {c.runs} | "
                         f"{_single_text(c.single)} | {agree} |")
        lines.append("")
    if notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in notes] + [""]
    lines.append("A pooled verdict takes each run's measured difference as one sample: HOLDS / NOT SEEN beyond "
                 "the threshold in standard errors of their mean, else WITHIN NOISE. Runs on the same test images "
                 "share its sampling noise, which pooling does not shrink.")
    return "\n".join(lines) + "\n"


def write_pooled(lessons: Sequence[PooledLesson], notes: Sequence[str], output_dir: str | Path) -> list[Path]:
    """Write ``pooled.md`` and ``pooled.json`` into ``output_dir``; returns their paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    md = output_dir / POOLED_MD
    md.write_text(format_pooled(lessons, notes), encoding="utf-8")
    js = output_dir / POOLED_JSON
    js.write_text(json.dumps({"pooled": [asdict(lesson) for lesson in lessons], "notes": list(notes)}, indent=2),
                  encoding="utf-8")
    return [md, js]


def pooled_html(executed_dir: str | Path) -> str:
    """The index page's section for ``executed_dir/pooled.json`` (empty when there is none)."""
    path = Path(executed_dir) / POOLED_JSON
    if not path.is_file():
        return ""
    data = json.loads(path.read_text(encoding="utf-8"))
    parts = ['<h2 id="pooled">The class\'s runs, pooled</h2><p style="font-size:14px;color:#444">Each run is one '
             'sample: a verdict here is decided from the mean of the runs\' measured differences and its standard '
             'error over the runs, beyond 2 SEs widened for few runs (Student\'s t; <code>python -m cnncourse '
             'pool</code>).</p>']
    esc = html.escape
    for lesson in data.get("pooled", []):
        rows = "".join(
            f"<tr><td>{esc(c['claim'])}</td><td><b>{esc(c['outcome'] or '-')}</b></td><td>{esc(c['margin'])}</td>"
            f"<td>{esc(_single_text(c['single']))}</td></tr>"
            for c in lesson["claims"])
        thresholds = sorted({c["threshold"] for c in lesson["claims"] if c.get("threshold") is not None})
        decides = f", verdicts beyond {thresholds[0]:.1f} SEs" if len(thresholds) == 1 else ""
        parts.append(f"<h3>{esc(lesson['lesson'])}: {len(lesson['seeds'])} runs, profile "
                     f"<code>{esc(lesson['profile'])}</code>, seeds {esc(', '.join(map(str, lesson['seeds'])))}"
                     f"{decides}</h3>"
                     f'<table class="claims pooled"><thead><tr><th>claim</th><th>pooled</th><th>mean margin (SE over '
                     f'runs)</th><th>single runs said</th></tr></thead><tbody>{rows}</tbody></table>')
    if data.get("notes"):
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in data["notes"]) + "</ul>")
    return "".join(parts)


def main(paths: Sequence[str], output_dir: str | Path = "build") -> int:
    """``python -m cnncourse pool``: print the pooled table and write it.  Runs that cannot be pooled
    raise :class:`PoolError` (the command line prints it in one line and exits with 2), after the
    notes on the files that were skipped."""
    import sys

    runs, notes = find_runs(paths)
    try:
        lessons, more = pool_runs(runs)
    except PoolError:
        for note in notes:
            print(note, file=sys.stderr)
        raise
    notes += more
    print(format_pooled(lessons, notes), end="")
    written = write_pooled(lessons, notes, output_dir)
    print(f"written: {', '.join(map(str, written))}")
    return 0
