"""A worker process for the shared-budget tests: loads the component from a test spec folder,
says "ready", waits for "go" on stdin, then runs one action from several threads until each
thread has made `calls` calls or the budget refuses one. Prints one JSON line of results."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

from connector import Component
from connector.budgets.memory import BudgetExceeded
from connector.catalog.load import load_specs
from connector.send.attempts import NO_RETRY
from tests.conftest import TEST_CONNECTION


def main() -> None:
    job: dict[str, Any] = json.loads(sys.argv[1])
    component = Component(
        load_specs(Path(job["specs"])),
        base_url=job["base_url"],
        budgets=job["budgets"],
        retry=NO_RETRY,
        rate_wait_s=job["rate_wait_s"],
    )
    connection = job.get("connection") or TEST_CONNECTION
    results: dict[str, Any] = {"ok": 0, "refused": [], "errors": []}
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(job["calls"]):
            try:
                component.run(job["action"], job["inputs"], connection)
            except BudgetExceeded as exc:
                with lock:
                    results["refused"].append(str(exc))
                return
            except Exception as exc:  # reported to the test, which fails on any
                with lock:
                    results["errors"].append(f"{type(exc).__name__}: {exc}")
                return
            with lock:
                results["ok"] += 1

    print("ready", flush=True)
    sys.stdin.readline()
    threads = [threading.Thread(target=hammer) for _ in range(job["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
