"""*Pure*: how a cluster looks in the UI — its group and colour from the `kubelantern`
kubeconfig extension (on the context, else on the cluster entry).

    contexts:
    - name: prod-eu
      context:
        cluster: prod-eu
        extensions:
        - name: kubelantern
          extension: {group: prod, color: "#c33"}

The colour lands in a style attribute in the browser, so only a hex colour or a plain
CSS colour name passes; anything else is a kubeconfig error naming the key.
"""

from __future__ import annotations

import re
from typing import Any

MAX_GROUP = 63
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_NAME = re.compile(r"[a-zA-Z]{3,24}")


class BadLook(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def looks_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(group, colour) of one `kubelantern` extension body; `BadLook` on bad values."""
    group = body.get("group")
    if group is not None and group != "":
        if not isinstance(group, str) or len(group) > MAX_GROUP or not group.strip():
            raise BadLook("group", f"is not a name of at most {MAX_GROUP} characters")
        group = group.strip()
    else:
        group = None
    colour = body.get("color", body.get("colour"))
    if colour is not None and colour != "":
        if not isinstance(colour, str) or not (_HEX.fullmatch(colour) or _NAME.fullmatch(colour)):
            raise BadLook("color", f"{colour!r} is not a colour (#rgb, #rrggbb or a CSS name)")
    else:
        colour = None
    return group, colour


def first(*pairs: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
    """Each of group and colour from the first place that sets it (context, then cluster)."""
    group = next((g for g, _ in pairs if g), None)
    colour = next((c for _, c in pairs if c), None)
    return group, colour
