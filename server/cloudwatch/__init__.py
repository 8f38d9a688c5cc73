"""CloudWatch: metrics, alarms and dashboards (``/services/CloudWatch``)."""
