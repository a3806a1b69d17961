"""Which upstream path a client's path maps to, or None when the gateway must refuse it.

The upstream URL is always the configured base URL plus this path, so nothing a client
writes (`@`, `..`, encoded slashes, a look-alike prefix) can point the gateway elsewhere.
"""

from urllib.parse import quote

INTERNAL_SEGMENT = "internal"
# Characters kept as they are inside one path segment (RFC 3986 pchar minus "%").
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"


def has_internal_segment(path: str) -> bool:
    return any(segment.lower() == INTERNAL_SEGMENT for segment in path.split("/"))


def upstream_path(service: str, path: str) -> str | None:
    """Normalise the decoded request `path` for `service`; None if it leaves it or is internal.

    "/users" and "/users/" both mean the collection ("/users/"); other trailing slashes go.
    """
    prefix = f"/{service}"
    if path != prefix and not path.startswith(prefix + "/"):
        return None
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                return None
            segments.pop()
            continue
        segments.append(segment)
    if not segments or segments[0] != service:
        return None
    if any(segment.lower() == INTERNAL_SEGMENT for segment in segments):
        return None
    encoded = "/" + "/".join(quote(segment, safe=_SEGMENT_SAFE) for segment in segments)
    return encoded + "/" if len(segments) == 1 else encoded
