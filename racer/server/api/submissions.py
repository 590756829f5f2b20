"""Submissions: upload a model to a race, follow its evaluation, fetch its files."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse, Response

from racer.server import races
from racer.server import submissions as subs
from racer.server.api.deps import ConfigDep, MaybeRacer, OrganiserDep, RacerDep, SessionDep
from racer.server.api.views import submission_out
from racer.server.errors import NotFound
from racer.server.schemas import SubmissionOut
from racer.server.storage import artefact, model_path
from racer.server.uploads import read_capped, read_metadata, validate_upload

router = APIRouter(tags=["submissions"])

MEDIA = {"video": "video/webm", "trajectory": "image/png", "licence": "image/png"}


@router.post(
    "/api/races/{slug}/submissions",
    response_model=SubmissionOut,
    status_code=201,
    responses={
        413: {"description": "The file is too large"},
        415: {"description": "Not an ONNX model"},
        422: {"description": "An ONNX model the race cannot evaluate; the reason says why"},
    },
)
def submit(
    slug: str,
    session: SessionDep,
    config: ConfigDep,
    racer: RacerDep,
    model: Annotated[UploadFile, File(description="The model: an ONNX export (racer export)")],
    name: Annotated[str, Form(max_length=120)] = "model",
    metadata: Annotated[
        UploadFile | None, File(description="model_metadata.json, if not inside the ONNX file")
    ] = None,
) -> SubmissionOut:
    """Enter a model in a race; its evaluation is queued.

    The file is only ever parsed as ONNX and run by ONNX Runtime: nothing uploaded is
    unpickled or executed as code.
    """
    race = races.get_race(session, slug, racer)
    subs.check_entry(session, race, racer)
    data = read_capped(model.file, config.max_upload_bytes, "the model")
    meta_text = None if metadata is None else read_metadata(metadata.file)
    validated = validate_upload(
        data,
        max_bytes=config.max_upload_bytes,
        metadata_text=meta_text,
        filename=model.filename or "model.onnx",
    )
    submission = subs.create_submission(session, config, race, racer, validated, name)
    return submission_out(submission)


@router.get("/api/submissions/{submission_id}", response_model=SubmissionOut)
def get_submission(submission_id: int, session: SessionDep, racer: MaybeRacer) -> SubmissionOut:
    """A submission and its result."""
    return submission_out(subs.get_submission(session, submission_id, racer))


@router.delete("/api/submissions/{submission_id}", status_code=204, response_class=Response)
def remove_submission(submission_id: int, session: SessionDep, who: OrganiserDep) -> Response:
    """Take a submission off the leaderboard (organiser)."""
    subs.remove_submission(session, subs.get_submission(session, submission_id, who))
    return Response(status_code=204)


@router.get("/api/submissions/{submission_id}/model", response_class=FileResponse)
def download_model(
    submission_id: int, session: SessionDep, config: ConfigDep, racer: RacerDep
) -> FileResponse:
    """The uploaded ONNX file (its racer and the organiser only)."""
    submission = subs.get_submission(session, submission_id, racer)
    subs.check_owner(submission, racer)
    path = model_path(config, submission.model_sha256)
    if not path.is_file():
        raise NotFound("the model file is missing from the server's data folder")
    return FileResponse(
        path, media_type="application/octet-stream", filename=f"submission-{submission_id}.onnx"
    )


@router.get("/api/submissions/{submission_id}/files/{kind}", response_class=FileResponse)
def submission_file(
    submission_id: int,
    kind: Literal["video", "trajectory", "licence"],
    session: SessionDep,
    config: ConfigDep,
    racer: MaybeRacer,
) -> FileResponse:
    """An evaluation file: the lap video (WebM), the trajectory plot or the licence (PNG)."""
    submission = subs.get_submission(session, submission_id, racer)
    relative = (submission.result or {}).get("files", {}).get(kind)
    path = artefact(config, submission_id, relative) if isinstance(relative, str) else None
    if path is None:
        raise NotFound(f"submission {submission_id} has no {kind}")
    return FileResponse(path, media_type=MEDIA[kind])
