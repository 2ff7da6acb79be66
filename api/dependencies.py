"""Request dependencies as `Annotated` aliases: the settings, the executor, a size-capped body.

All `async def`: they only read app state, and a plain `def` would cost a thread-pool hop each.
"""

from typing import Annotated

from fastapi import Depends, Request

from api.dataset import DatasetInfo
from api.errors import payload_too_large
from api.executor import Executor
from api.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_executor(request: Request) -> Executor:
    return request.app.state.executor


async def get_dataset(request: Request) -> DatasetInfo:
    return request.app.state.dataset


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


SettingsDep = Annotated[Settings, Depends(get_settings)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
DatasetDep = Annotated[DatasetInfo, Depends(get_dataset)]
BodyDep = Annotated[bytes, Depends(read_body)]
