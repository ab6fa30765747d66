"""Apache Airflow provider: the `mixpanel` connection type, MixpanelHook and the operators."""
