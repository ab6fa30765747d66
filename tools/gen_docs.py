"""Regenerates docs/reference.md: a thin call of `mixpanel-connector docs --out docs`."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connector.cli.main import main  # noqa: E402

if __name__ == "__main__":
    # Pass --check to fail when the file is out of date instead of writing it.
    sys.exit(main(["docs", "--out", str(ROOT / "docs"), *sys.argv[1:]]))
