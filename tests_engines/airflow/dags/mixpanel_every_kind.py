"""A DAG that runs an action of every kind, its inputs templated from the run's conf."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from connector.engines.airflow.operators import MixpanelExportOperator, MixpanelOperator

PROJECT = "{{ dag_run.conf['project_id'] }}"

with DAG(
    "mixpanel_every_kind",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    ingest = MixpanelOperator(
        task_id="ingest",
        action="importEvents",
        inputs={"project_id": PROJECT, "events": "{{ dag_run.conf['events'] | tojson }}"},
    )
    profile = MixpanelOperator(
        task_id="profile",
        action="createProfile",
        inputs={"properties": "{{ dag_run.conf['profiles'] | tojson }}"},
    )
    query = MixpanelOperator(
        task_id="query",
        action="queryProfiles",
        inputs={
            "project_id": PROJECT,
            "distinct_ids": "{{ dag_run.conf['distinct_ids'] | tojson }}",
        },
    )
    export = MixpanelExportOperator(
        task_id="export",
        path="{{ dag_run.conf['export_path'] }}",
        inputs={"project_id": PROJECT, "from_date": "{{ ds }}", "to_date": "{{ ds }}"},
    )
    pipeline = MixpanelOperator(
        task_id="pipeline",
        action="createGCSPipeline",
        inputs={
            "project_id": PROJECT,
            "gcs_bucket": "{{ dag_run.conf['bucket'] }}",
            "gcs_region": "us-east1",
            "from_date": "{{ ds }}",
        },
    )
    ingest >> profile >> query >> export >> pipeline
