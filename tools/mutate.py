"""Mutation score of the tests over the specs: every wire mutant of every operation must die.

    python tools/mutate.py [--operation KEY] [--all] [--verbose]

Prints killed/generated per operation and in total, and exits 1 when a mutant survives that
tools/mutation/allow.yaml does not list with a reason it cannot matter on the wire.

By default every mutant of the 23 core operations runs, and of every other operation a fixed
sample of SAMPLE_PER_OPERATION mutants: those whose ids hash lowest (sha256), so a run is
deterministic and a new operation adds a bounded number. `--all` runs every mutant.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from connector.catalog.cache import CACHE_ENV  # noqa: E402
from connector.catalog.load import specs_root  # noqa: E402
from connector.core.localkey import LOCAL_KEY_ENV  # noqa: E402
from tests.specs.seed import read_seed  # noqa: E402
from tools.mutation.generate import Mutant, mutants  # noqa: E402
from tools.mutation.run import Outcome, run, timed  # noqa: E402

ALLOW = Path(__file__).resolve().parent / "mutation" / "allow.yaml"
# Tests that load the specs per test; the lint, packaging and property modules are left out
# (they run subprocesses or render from specs loaded once at import).
TEST_ARGS = [
    "tests",
    "--ignore=tests/test_quality.py",
    "--ignore=tests/test_packaging.py",
    "--ignore=tests/test_properties.py",
    # A memory bound (tracemalloc over a million events), not a wire check: no spec mutant can
    # be caught by it alone, and inside this one long session its peak also counts what the
    # harness holds. The main suite runs it.
    "--deselect=tests/unit/modes/batched/test_run.py::test_a_million_generated_events_import_in_flat_memory",
]


SAMPLE_PER_OPERATION = 3


def sampled(found: list[Mutant], everything: set[str], per_operation: int) -> list[Mutant]:
    """All mutants of the operations in `everything`; of the others, the lowest-hashing few."""
    by_op: dict[str, list[Mutant]] = defaultdict(list)
    for mutant in found:
        by_op[mutant.operation].append(mutant)
    kept: list[Mutant] = []
    for op, items in by_op.items():
        if op not in everything:
            items = sorted(items, key=lambda m: hashlib.sha256(m.id.encode()).hexdigest())
            items = items[:per_operation]
        kept += items
    chosen = {id(m) for m in kept}
    return [m for m in found if id(m) in chosen]


def main(argv: list[str] | None = None) -> int:
    """Run the tool with the spec cache and the local key in a folder of this run.

    The user's cache and state folders are never written (the tests' own runs redirect them
    too, but the specs are loaded here first).
    """
    names = (CACHE_ENV, LOCAL_KEY_ENV)
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="mutants-specs-") as folder:
        os.environ[CACHE_ENV] = str(Path(folder) / "cache")
        os.environ[LOCAL_KEY_ENV] = str(Path(folder) / "local.key")
        try:
            return _main(argv)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operation", action="append", help="only this operation (repeatable)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every mutant")
    parser.add_argument(
        "--all", action="store_true", help="every mutant, not the per-operation sample"
    )
    parser.add_argument(
        "--core",
        action="store_true",
        help="only the component's original operations (the seed's), every mutant of each",
    )
    parser.add_argument("--allow", type=Path, default=ALLOW, help="the reviewed allow-list")
    args = parser.parse_args(argv)
    allowed: dict[str, str] = yaml.safe_load(args.allow.read_text(encoding="utf-8")) or {}
    source = specs_root()
    found = [m for m in mutants(source) if not args.operation or m.operation in args.operation]
    if args.core:
        core = set(read_seed())
        found = [m for m in found if m.operation in core]
    generated = len(found)
    if not args.all:
        found = sampled(found, set(read_seed()), SAMPLE_PER_OPERATION)
    print(f"{len(found)} of {generated} mutants ({'all' if args.all else 'sampled'})")
    out = sys.stdout

    def progress(outcome: Outcome) -> None:
        if args.verbose or outcome.status not in ("killed", "rejected"):
            print(f"  {outcome.status:8} {outcome.mutant.id}  [{outcome.detail}]", file=out)
            out.flush()

    (outcomes, cover_s), run_s = timed(lambda: run(found, source, TEST_ARGS, progress))
    by_op: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_op[outcome.mutant.operation].append(outcome)
    print(f"\n{'operation':28} {'killed':>6} {'rejected':>8} {'allowed':>7} {'generated':>9}")
    totals = [0, 0, 0, 0]
    failing = []
    for op, items in sorted(by_op.items()):
        killed = sum(o.status == "killed" for o in items)
        rejected = sum(o.status == "rejected" for o in items)
        allow = sum(o.status == "survived" and o.mutant.id in allowed for o in items)
        failing += [o for o in items if o.status == "error"]
        failing += [o for o in items if o.status == "survived" and o.mutant.id not in allowed]
        for i, n in enumerate((killed, rejected, allow, len(items))):
            totals[i] += n
        print(f"{op:28} {killed:6} {rejected:8} {allow:7} {len(items):9}")
    killed, rejected, allow, total = totals
    score = 100.0 * (killed + rejected) / total if total else 100.0
    print(f"{'total':28} {killed:6} {rejected:8} {allow:7} {total:9}")
    print(
        f"\nscore {killed + rejected}/{total} = {score:.1f}% killed (rejected = refused by the "
        f"spec checks); {allow} allow-listed survivors; {run_s:.0f} s in all, of which the "
        f"coverage pass {cover_s:.0f} s"
    )
    stale = sorted(set(allowed) - {o.mutant.id for o in outcomes if o.status == "survived"})
    if stale and not args.operation:
        print("allow-list entries that no longer survive (remove them):", *stale, sep="\n  ")
    if failing:
        print("\nsurvivors not in the allow-list (add a test that kills them):")
        for outcome in failing:
            print(f"  {outcome.status:8} {outcome.mutant.id}  [{outcome.detail}]")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
