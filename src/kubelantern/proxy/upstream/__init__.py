"""The plain HTTP proxy's upstream client: `http1` (bytes, pure) → `conn` (one kept-alive
connection and its response) → `pool` (per cluster and TLS context) → `client` (one request,
stale retry); `aioclient` is aiohttp's behind the same face, `errors` the messages."""
