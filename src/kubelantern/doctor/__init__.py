"""kubelantern.doctor."""
