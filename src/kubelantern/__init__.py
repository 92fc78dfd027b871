"""kubelantern: a Kubernetes web UI and multi-cluster proxy whose logs and terminals connect."""

__version__ = "0.1.0"
USER_AGENT = f"kubelantern/{__version__}"
