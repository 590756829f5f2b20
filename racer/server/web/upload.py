"""The upload form: a signed-in racer enters an ONNX model in an open race."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from racer.server.api.deps import ConfigDep
from racer.server.errors import ServiceError
from racer.server.models import Race
from racer.server.races import get_race
from racer.server.submissions import check_entry, create_submission
from racer.server.uploads import UploadError, read_capped, read_metadata, validate_upload
from racer.server.web.render import Form, HtmlRoute, SignedIn, WebSession, page, redirect

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)


def _file(form: Form, key: str) -> UploadFile | None:
    value = form.get(key)
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


def _form(
    request: Request, race: Race, name: str, error: str | None = None, status_code: int = 200
) -> Response:
    context = {"race": race, "name": name, "error": error, "blocked": None}
    return page(request, "submit.html", context, status_code=status_code)


@router.get("/races/{slug}/submit")
def submit_form(slug: str, request: Request, session: WebSession, who: SignedIn) -> Response:
    """The upload form, or why this racer cannot enter the race now."""
    race = get_race(session, slug, who)
    try:
        check_entry(session, race, who)
    except ServiceError as exc:
        context = {"race": race, "name": "", "error": None, "blocked": exc.reason}
        return page(request, "submit.html", context, status_code=exc.status_code)
    return _form(request, race, "")


@router.post("/races/{slug}/submit")
def submit(
    slug: str,
    request: Request,
    session: WebSession,
    config: ConfigDep,
    who: SignedIn,
    form: Form,
) -> Response:
    """Check the upload, store it and queue its evaluation; then its page (303)."""
    race = get_race(session, slug, who)
    raw_name = form.get("name")
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    try:
        check_entry(session, race, who)
        model = _file(form, "model")
        if model is None:
            raise UploadError(422, "choose the model's .onnx file to upload")
        data = read_capped(model.file, config.max_upload_bytes, "the model")
        meta_text = None
        meta = _file(form, "metadata")
        if meta is not None:
            meta_text = read_metadata(meta.file)
        validated = validate_upload(
            data,
            max_bytes=config.max_upload_bytes,
            metadata_text=meta_text,
            filename=model.filename or "model.onnx",
        )
        default = (model.filename or "model").rsplit(".", 1)[0]
        submission = create_submission(session, config, race, who, validated, name or default)
    except (ServiceError, UploadError) as exc:
        session.rollback()
        return _form(request, race, name, exc.reason, exc.status_code)
    session.commit()
    return redirect(f"/submissions/{submission.id}")
