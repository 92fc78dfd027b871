"""Benchmarks: kubelantern against baselines measured in the same run (ratios, not absolutes)."""
