"""Upgrades that are not WebSockets (SPDY/3.1): headers decided here (pure), the dial,
the byte splice, and the entry that ties them together."""
