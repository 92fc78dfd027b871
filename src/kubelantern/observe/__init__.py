"""Counters, gauges and the open-stream list: what every layer reports to."""
