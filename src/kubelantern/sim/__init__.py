"""kubelantern.sim."""
