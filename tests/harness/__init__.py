"""Test harness: real servers on 127.0.0.1, a throwaway CA, kubeconfig files."""
