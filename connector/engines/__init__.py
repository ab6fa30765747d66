"""Workflow-engine adapters (Airflow, Prefect): thin layers the core never imports."""
