"""The WebSocket bridge: `bridge` (entry) → `connect` (strategy walk) → `dial` (one
upgrade), then `tunnel` (frames as bytes) or `relay` (messages)."""
