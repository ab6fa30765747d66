"""Regenerates specs/schemas/*.json from the YAML meta-schema and the spec files' modelines."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connector.describe.editor import write_json_schemas  # noqa: E402

if __name__ == "__main__":
    for path in write_json_schemas(ROOT / "specs"):
        print(f"wrote {path.relative_to(ROOT)}")
