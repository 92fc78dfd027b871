"""`kubelantern doctor`: can kubelantern reach each cluster, and which WebSocket way works."""

from kubelantern.doctor.checks import check_cluster, run_doctor
from kubelantern.doctor.report import ClusterReport, StrategyResult, judge

__all__ = ["ClusterReport", "StrategyResult", "check_cluster", "judge", "run_doctor"]
