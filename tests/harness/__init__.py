"""Test harness: the stack's constants and start helpers (`stack`: simulators over HTTPS,
kubelantern in front), real servers on 127.0.0.1 (`servers`), a throwaway CA (`pki`), kubeconfig
files and the fake exec plugin's stanza (`kubeconfig`), clients of kubelantern's proxy
(`proxy`: cluster URLs, pods, exec sessions, upgrade requests), the real kubectl pointed at
it (`kubectl`), and an upstream that records which identity reached it (`certs`)."""
