"""kubelantern.web."""
