"""SPDY/3.1 for the simulator: frames, header compression and sessions (pure), the aiohttp
upgrade edge, and the kubelet's SPDY exec/attach and port-forward on top."""
