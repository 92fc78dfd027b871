"""The simulator's own tests (`src/kubesim`): pure parts in `unit/`, real sockets in
`integration/`."""
