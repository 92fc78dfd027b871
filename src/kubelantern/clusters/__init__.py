"""Clusters: what kubeconfig says (specs), how to authenticate (credentials), who they are."""
