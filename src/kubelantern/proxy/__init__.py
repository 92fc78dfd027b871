"""The proxy: HTTP streaming (http.py), the WebSocket bridge (ws/), port-forward (portforward/)."""
