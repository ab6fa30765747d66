"""Browser tests of the sandbox's live view (run apart from the main suite; see conftest.py)."""
