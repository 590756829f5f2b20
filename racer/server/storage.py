"""Files in the data folder: uploaded models by content hash, evaluation artefacts by submission.

Every write goes to a temporary file in the same folder and is renamed into place, so a crash
never leaves half a model behind and two uploads of the same model share one file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from racer.server.config import ServerConfig


def model_path(config: ServerConfig, sha256: str) -> Path:
    """Where the model with this SHA-256 is kept."""
    return config.models_dir / f"{sha256}.onnx"


def store_model(config: ServerConfig, sha256: str, data: bytes) -> Path:
    """Keep an uploaded model (atomically; an identical file already there is reused)."""
    dest = model_path(config, sha256)
    if dest.exists() and dest.stat().st_size == len(data):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def results_path(config: ServerConfig, submission_id: int) -> Path:
    """The folder of a submission's evaluation artefacts."""
    return config.results_dir / str(submission_id)


def clear_results(config: ServerConfig, submission_id: int) -> None:
    """Delete a submission's artefacts (before it is raced again)."""
    shutil.rmtree(results_path(config, submission_id), ignore_errors=True)


def artefact(config: ServerConfig, submission_id: int, relative: str) -> Path | None:
    """An artefact's path if it exists inside the submission's folder (never outside it)."""
    root = results_path(config, submission_id).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
