"""Optional bearer-token authentication (setting `api.bearer_token`; empty: off).

The token is compared in constant time (`hmac.compare_digest`), so response times do not
reveal how much of a guess was right. The map page, its assets, `/map/config`, `/healthz` and
`/openapi.json` stay public: they hold no vessel data, and load balancers probe `/healthz`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stswatch.api.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="api.bearer_token from the settings")


def token_matches(expected: str, presented: str | None) -> bool:
    """True when `presented` equals `expected` (constant time); an empty token never does."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def bearer_dependency(expected: str) -> Callable[[HTTPAuthorizationCredentials | None], None]:
    """A FastAPI dependency that lets a request through only with the right bearer token."""

    def check(
        credentials: HTTPAuthorizationCredentials | None = Security(_bearer),  # noqa: B008
    ) -> None:
        presented = credentials.credentials if credentials is not None else None
        if not token_matches(expected, presented):
            raise ApiError(
                401,
                "unauthorized",
                "missing or wrong bearer token (Authorization: Bearer <api.bearer_token>)",
                headers={"WWW-Authenticate": 'Bearer realm="stswatch"'},
            )

    return check
