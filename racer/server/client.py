"""A small HTTP client for a racer race server: join, submit a model, follow it, read the board.

It speaks the server's JSON API with ``httpx`` (the ``server`` extra) and knows nothing of
FastAPI. Every failure is a :class:`ServerError` with one clear line: the server's own reason
for a refused request, or why the server could not be reached.

Example::

    client = RaceClient("http://localhost:8000", token=os.environ["RACER_TOKEN"])
    entry = client.submit("spring-cup", Path("fast.onnx"), name="fast")
    result = client.wait(entry["id"], timeout=1800)
"""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

FINAL_STATES = ("done", "failed", "removed")
"""Submission states that do not change any more."""
_LOCATIONS = ("body", "query", "path", "header", "cookie")
NO_TOKEN = (
    "submitting needs your racer token: pass --token or set RACER_TOKEN "
    "(get one with `racer join --server URL --code CODE --name NAME`)"
)


class ServerError(Exception):
    """The race server refused a request, answered nonsense, or could not be reached.

    Attributes:
        status_code: The HTTP status, or None when there was no HTTP answer.
        reason: The server's reason (its ``detail``) or what went wrong on the way.
    """

    def __init__(self, reason: str, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code

    def __str__(self) -> str:
        if self.status_code is None:
            return self.reason
        return f"the race server answered HTTP {self.status_code}: {self.reason}"


class WaitTimeout(ServerError):
    """A submission was still being evaluated when :meth:`RaceClient.wait` gave up."""


def _slug(race: str) -> str:
    """A race name made safe as one URL path segment."""
    return quote(race, safe="")


def _render_detail(detail: Any) -> str:
    """A FastAPI ``detail``: a string, or a list of validation problems, as one line."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = [str(p) for p in item.get("loc", []) if p not in _LOCATIONS]
                msg = str(item.get("msg", item))
                parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
            else:
                parts.append(str(item))
        return "; ".join(parts) or "the request was refused"
    return str(detail)


class RaceClient:
    """Talks to one race server as one racer.

    Args:
        server_url: The server's address, e.g. ``http://localhost:8000``.
        token: The racer's token (from :meth:`redeem`); needed to submit.
        timeout: Seconds to wait for each HTTP answer (an upload may take a while).

    Raises:
        ServerError: ``httpx`` is not installed, or the address is not an http(s) URL.
    """

    def __init__(self, server_url: str, token: str | None = None, timeout: float = 60) -> None:
        try:
            import httpx
        except ImportError:
            raise ServerError("the race client needs httpx: pip install 'racer[server]'") from None
        if not server_url.startswith(("http://", "https://")):
            raise ServerError(
                f"the race server's address must start with http:// or https://, got {server_url!r}"
            )
        self.server_url = server_url.rstrip("/")
        self.token = token
        self._http = httpx.Client(base_url=self.server_url, timeout=timeout)

    def __enter__(self) -> RaceClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the client's connections."""
        self._http.close()

    def _request(self, method: str, path: str, *, needs_token: bool = False, **kw: Any) -> Any:
        """Send a request (with the token, if any); the answer's JSON, or a ServerError."""
        import httpx

        headers = {"Accept": "application/json"}
        if needs_token and not self.token:
            raise ServerError(NO_TOKEN)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._http.request(method, path, headers=headers, **kw)
        except httpx.TimeoutException as exc:
            raise ServerError(
                f"the race server at {self.server_url} did not answer in time: {exc}"
            ) from None
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            raise ServerError(f"cannot reach the race server at {self.server_url}: {why}") from None
        return self._answer(response)

    def _answer(self, response: httpx.Response) -> Any:
        """The JSON of a successful answer; a :class:`ServerError` for any other."""
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if response.is_success:
            if body is None:
                raise ServerError(
                    f"{self.server_url} did not answer with JSON; is it a racer race server?"
                )
            return body
        if isinstance(body, dict) and "detail" in body:
            reason = _render_detail(body["detail"])
        else:
            text = " ".join(response.text.split())[:200]
            reason = text or response.reason_phrase or "the request was refused"
        raise ServerError(reason, response.status_code)

    def redeem(self, code: str, name: str) -> dict[str, Any]:
        """Join with an invite code: ``{"racer_id", "name", "token"}``."""
        body: dict[str, Any] = self._request(
            "POST", "/api/invites/redeem", json={"code": code, "name": name}
        )
        return body

    def submit(
        self, race: str, model_path: Path, name: str, metadata_path: Path | None = None
    ) -> dict[str, Any]:
        """Upload an ONNX model to a race; the new submission (``id``, ``state``, ...).

        Args:
            race: The race's slug.
            model_path: The ``.onnx`` file.
            name: The model's name on the leaderboard.
            metadata_path: A ``model_metadata.json`` to send with it (for an ONNX file that
                carries no metadata of its own).
        """
        with open(model_path, "rb") as model:
            files: dict[str, Any] = {
                "model": (Path(model_path).name, model, "application/octet-stream")
            }
            if metadata_path is not None:
                text = Path(metadata_path).read_bytes()
                files["metadata"] = ("model_metadata.json", text, "application/json")
            body: dict[str, Any] = self._request(
                "POST",
                f"/api/races/{_slug(race)}/submissions",
                needs_token=True,
                files=files,
                data={"name": name},
            )
        return body

    def submission(self, id: int) -> dict[str, Any]:
        """A submission's state and, once evaluated, its result."""
        body: dict[str, Any] = self._request("GET", f"/api/submissions/{int(id)}")
        return body

    def wait(self, id: int, timeout: float, poll: float = 1.0) -> dict[str, Any]:
        """Poll a submission until it is ``done``, ``failed`` or ``removed``.

        Raises:
            WaitTimeout: It was still queued or running after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            body = self.submission(id)
            if body.get("state") in FINAL_STATES:
                return body
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"submission {id} is still {body.get('state', 'pending')} after "
                    f"{timeout:g} s; see {self.submission_url(id)}"
                )
            time.sleep(max(0.0, min(poll, deadline - time.monotonic())))

    def leaderboard(self, race: str) -> dict[str, Any]:
        """A race's leaderboard."""
        body: dict[str, Any] = self._request("GET", f"/api/races/{_slug(race)}/leaderboard")
        return body

    def submission_url(self, id: int) -> str:
        """The submission's page on the server's website."""
        return f"{self.server_url}/submissions/{int(id)}"
