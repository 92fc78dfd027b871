"""Who the user is in team mode: OIDC sign-in (authorization code + PKCE) and sealed sessions.

A bottom layer: it imports nothing else of kubelantern, so web/ and proxy/ may both use it.
"""
