"""The request body, read with a size cap (413 past `max_body_bytes`)."""

from fastapi import Request

from api.errors import payload_too_large


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 past `max_body_bytes` (checked before and while reading)."""
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int):
    return payload_too_large("body_too_large", f"the request body is larger than {limit} bytes")
