"""Airflow DAG: render salesperf's monthly report set after each month closes.

The period comes from the run's data interval, so a backfill of March 2026 renders reports/2026-03 with the data as it
stood at the end of March (point-in-time). Copy to your DAGs folder and adjust SALESPERF and CATALOG.
"""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

SALESPERF = "/srv/salesperf"
CATALOG = "/srv/crm/catalog.yml"

with DAG(
    dag_id="salesperf_monthly",
    schedule="0 6 2 * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sales", "reports"],
) as dag:
    for lang in ("en", "zh"):
        BashOperator(
            task_id=f"reports_{lang}",
            cwd=SALESPERF,
            bash_command=(
                ".venv/bin/salesperf run --period {{ data_interval_start.strftime('%Y-%m') }} "
                f"--catalog {CATALOG} --lang {lang} --out reports-{lang} --workers 2"
            ),
        )
