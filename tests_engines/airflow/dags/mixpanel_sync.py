"""A daily DAG: the events sync with a lookback (state in an Airflow Variable), cohort changes."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from connector.engines.airflow.sync_operators import (
    MixpanelCohortChangesOperator,
    MixpanelSyncOperator,
)

PROJECT = "{{ dag_run.conf['project_id'] }}"

with DAG(
    "mixpanel_sync",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    events = MixpanelSyncOperator(
        task_id="events",
        path="{{ dag_run.conf['path'] }}",
        inputs={"project_id": PROJECT},
        lookback_days=5,
    )
    cohort = MixpanelCohortChangesOperator(
        task_id="pro_cohort", cohort_id=1001, inputs={"project_id": PROJECT}
    )
