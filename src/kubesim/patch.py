"""Patch application: JSON merge patch (RFC 7386), a strategic-merge subset, JSON patch
(RFC 6902)."""

from __future__ import annotations

import copy
from typing import Any

from .status import StatusError

JSON = dict[str, Any]

# Strategic-merge list keys for the fields kubectl and UIs patch (k8s.io/api patchMergeKey tags).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "tolerations": "key",
    "conditions": "type",
    "ownerReferences": "uid",
}


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    """Merge patch plus merge-by-key for known lists, `$patch: delete|replace`, and the
    `$setElementOrder/`, `$retainKeys`, `$deleteFromPrimitiveList/` directives (order ignored)."""
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if patch.get("$patch") == "delete":
            return None
        result = copy.deepcopy(target) if isinstance(target, dict) else {}
        retain = patch.get("$retainKeys")
        for key, value in patch.items():
            if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
                continue
            if key.startswith("$deleteFromPrimitiveList/"):
                name = key.split("/", 1)[1]
                result[name] = [x for x in result.get(name) or [] if x not in (value or [])]
                continue
            if value is None:
                result.pop(key, None)
            else:
                merged = strategic_merge_patch(result.get(key), value, key)
                if merged is None:
                    result.pop(key, None)
                else:
                    result[key] = merged
        if isinstance(retain, list):
            result = {k: v for k, v in result.items() if k in retain or k not in patch}
        return result
    if isinstance(patch, list) and field in MERGE_KEYS and isinstance(target, list):
        key = MERGE_KEYS[field]
        result_list = copy.deepcopy(target)
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                result_list.append(copy.deepcopy(item))
                continue
            idx = next(
                (
                    i
                    for i, t in enumerate(result_list)
                    if isinstance(t, dict) and t.get(key) == item[key]
                ),
                None,
            )
            if item.get("$patch") == "delete":
                if idx is not None:
                    result_list.pop(idx)
                continue
            if idx is None:
                result_list.append({k: v for k, v in copy.deepcopy(item).items() if k != "$patch"})
            else:
                result_list[idx] = strategic_merge_patch(result_list[idx], item, "")
        return result_list
    return copy.deepcopy(patch)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise StatusError(400, f'the json patch path "{path}" must start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc: Any, parts: list[str]) -> Any:
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise StatusError(
                    422, f"the server rejected our request: missing path /{'/'.join(parts)}"
                )
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise StatusError(422, f"the server rejected our request: bad index {p}") from None
        else:
            raise StatusError(422, f"the server rejected our request: cannot descend into {p}")
    return cur


def _add(doc: Any, parts: list[str], value: Any, replace: bool) -> Any:
    if not parts:
        return copy.deepcopy(value)
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise StatusError(422, f"replace operation does not apply: doc is missing key: {last}")
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if last == "-":
            if replace:
                raise StatusError(422, "replace operation does not apply: '-' index")
            parent.append(copy.deepcopy(value))
        else:
            try:
                i = int(last)
            except ValueError:
                raise StatusError(422, f"invalid list index {last!r}") from None
            if replace:
                if not 0 <= i < len(parent):
                    raise StatusError(422, f"replace operation does not apply: index {i}")
                parent[i] = copy.deepcopy(value)
            else:
                if not 0 <= i <= len(parent):
                    raise StatusError(422, f"add operation does not apply: index {i} out of bounds")
                parent.insert(i, copy.deepcopy(value))
    else:
        raise StatusError(422, "the json patch target is not a container")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise StatusError(422, "cannot remove the whole document")
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise StatusError(
                422, f"remove operation does not apply: doc is missing path: /{'/'.join(parts)}"
            )
        return parent.pop(last)
    if isinstance(parent, list):
        try:
            return parent.pop(int(last))
        except (ValueError, IndexError):
            raise StatusError(422, f"remove operation does not apply: index {last}") from None
    raise StatusError(422, "the json patch target is not a container")


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise StatusError(400, "json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise StatusError(400, f"invalid json patch operation: {op!r}")
        kind = op["op"]
        parts = _pointer(str(op.get("path", "")))
        if kind == "add":
            doc = _add(doc, parts, op.get("value"), replace=False)
        elif kind == "replace":
            doc = _add(doc, parts, op.get("value"), replace=True)
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "test":
            if _resolve(doc, parts) != op.get("value"):
                raise StatusError(422, f"testing value /{'/'.join(parts)} failed")
        elif kind in ("move", "copy"):
            src = _pointer(str(op.get("from", "")))
            value = _resolve(doc, src)
            value = copy.deepcopy(value)
            if kind == "move":
                _remove(doc, src)
            doc = _add(doc, parts, value, replace=False)
        else:
            raise StatusError(400, f"unexpected json patch operation {kind!r}")
    return doc


PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply",
}


def apply_patch(kind: str, target: JSON, patch: Any) -> JSON:
    if kind == "json":
        result = json_patch(target, patch)
    elif kind == "strategic":
        if not isinstance(patch, dict):
            raise StatusError(400, "a strategic merge patch must be a JSON object")
        result = strategic_merge_patch(target, patch)
    else:  # merge, and server-side apply treated as a merge of the applied fields
        if not isinstance(patch, dict):
            raise StatusError(400, "a merge patch must be a JSON object")
        result = merge_patch(target, patch)
    if not isinstance(result, dict):
        raise StatusError(422, "the patch did not produce an object")
    return result
