"""Do two dbt manifests assert the same things? Exit 0 when every data-test assertion (model, column,
kind, arguments, severity, where; batched tests counted per column, see lifecycle/assertions.py) of
one is in the other as often, else print the differences and exit 1.

    python scripts/compare_assertions.py BEFORE/manifest.json AFTER/manifest.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from lifecycle.assertions import Assertion, manifest_assertions


def _load(path: Path) -> tuple[Counter[Assertion], int]:
    manifest = json.loads(path.read_text())
    nodes = sum(1 for n in manifest["nodes"].values() if n["resource_type"] == "test")
    return Counter(manifest_assertions(manifest)), nodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    before, before_nodes = _load(args.before)
    after, after_nodes = _load(args.after)
    for label, diff in (("only before", before - after), ("only after", after - before)):
        for assertion in sorted(diff, key=repr):
            print(f"{label}: {assertion}")
    same = before == after
    print(f"{sum(before.values())} assertions in {before_nodes} test nodes before, "
          f"{sum(after.values())} in {after_nodes} after: {'the same' if same else 'DIFFERENT'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
