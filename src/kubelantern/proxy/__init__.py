"""The proxy: HTTP streaming (http.py) and the WebSocket bridge (websocket.py)."""
