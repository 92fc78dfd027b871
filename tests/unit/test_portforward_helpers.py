"""Port-forward lookups that need no sockets: ports, service target ports, selectors."""

from __future__ import annotations

import pytest

from kubelantern.proxy.portforward import (
    Forward,
    PortForwardError,
    label_selector,
    parse_port,
    resolve_container_port,
    service_target,
)

SERVICE = {
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"app": "web", "tier": "front"},
        "ports": [
            {"name": "http", "port": 80, "targetPort": "http-alt"},
            {"name": "metrics", "port": 9090, "targetPort": 9091},
        ],
    },
}
POD = {
    "metadata": {"name": "web-1"},
    "spec": {"containers": [{"name": "c", "ports": [{"name": "http-alt", "containerPort": 8081}]}]},
}


def test_parse_port_accepts_numbers_and_refuses_the_rest() -> None:
    assert parse_port(8080) == 8080 and parse_port("53") == 53
    for bad in (0, 70000, "http", None, True, 1.5):
        with pytest.raises(PortForwardError) as err:
            parse_port(bad)
        assert err.value.status == 400


def test_service_port_to_pod_port() -> None:
    assert service_target(SERVICE, 9090) == 9091
    assert resolve_container_port(POD, service_target(SERVICE, 80)) == 8081
    with pytest.raises(PortForwardError, match="no port 443"):
        service_target(SERVICE, 443)
    with pytest.raises(PortForwardError, match="no container port named"):
        resolve_container_port(POD, "grpc")


def test_label_selector_is_sorted_and_joined() -> None:
    assert label_selector({"tier": "front", "app": "web"}) == "app=web,tier=front"


def test_forward_json_names_the_local_address() -> None:
    f = Forward("pf-1", "kind-dev", "default", "web-1", 8081, 45000, service="web", service_port=80)
    data = f.as_json()
    assert data["address"] == "127.0.0.1:45000" and data["servicePort"] == 80
    assert data["port"] == 8081 and data["connections"] == 0 and data["lastError"] is None
