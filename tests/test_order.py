"""Same verdicts in any order: neither test order, statistics left by earlier tests, nor how
xdist spreads tests may change what the guard finds. Checked the way CI would notice: the
baseline recorded by each run must be byte-identical."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from conftest import DjangoProject, Recordings, SampleApp
from test_accuracy import ARTIFACTS, QUERIES, TESTS
from test_baseline import XDIST

SEEDS = (1, 2, 3)


def _orders(tmp_path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """Each run's name and its extra arguments: pytest's order, three random orders over the
    whole session, two xdist workers."""
    runs = [("default", ())]
    for seed in SEEDS:
        runs.append(
            (
                f"seed{seed}",
                (
                    "-p",
                    "random_order",
                    "--random-order-bucket=global",
                    f"--random-order-seed={seed}",
                ),
            )
        )
    runs.append(("xdist", ("-p", "xdist", "-n", "2")))
    return runs


def _baselines(
    run_one: object, tmp_path: Path, shared: Mapping[str, bytes] | None = None
) -> dict[str, bytes]:
    """Each run's baseline; ``shared`` holds those recorded already, by run name."""
    found = dict(shared or {})
    for name, extra in _orders(tmp_path):
        if name in found:
            continue
        path = tmp_path / f"{name}.json"
        run = run_one(  # type: ignore[operator]
            f"--indexguard-baseline={path}", "--indexguard-update-baseline", *extra
        )
        assert path.exists(), run.output
        found[name] = path.read_bytes()
    return found


def test_sample_app_baselines_in_any_order(
    sample_app: SampleApp, tmp_path: Path, recordings: Recordings
) -> None:
    # pytest's order and two xdist workers are the session's shared recordings (the same
    # options: --without-indexes, a baseline updated); the random orders run here.
    shared = {
        "default": recordings.record(sample_app).content,
        "xdist": recordings.record(sample_app, XDIST[1]).content,
    }
    baselines = _baselines(
        lambda *args: sample_app.run("--without-indexes", *args), tmp_path, shared
    )
    assert baselines["default"].count(b'"fingerprint"') == 5
    for name, content in baselines.items():
        assert content == baselines["default"], name


@pytest.mark.parametrize("mode", ["forced"])
def test_accuracy_scenarios_in_any_order(
    django_project: DjangoProject, tmp_path: Path, mode: str
) -> None:
    django_project.pytester.makepyfile(queries=QUERIES)
    django_project.write_tests(TESTS.format(artifacts=ARTIFACTS))
    baselines = _baselines(
        lambda *args: django_project.run("--indexguard", f"--indexguard-mode={mode}", *args),
        tmp_path,
    )
    assert baselines["default"].count(b'"fingerprint"') >= 10
    for name, content in baselines.items():
        assert content == baselines["default"], name
