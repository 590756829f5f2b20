"""Export a trained policy to files a car loads, each checked by the runtime that will load it.

Example::

    from racer.export import export_policy

    result = export_policy("my-model", "deepracer")   # models/my-model/export/my-model.tar.gz
    print(result.path, result.report.to_dict())

Formats (a registry, :data:`racer.export.formats.FORMAT_MODULES`): ``deepracer`` (the
physical car's ``.tar.gz`` with a frozen TensorFlow graph, written without TensorFlow),
``onnx`` and ``openvino`` (IR). See ``docs/export.md``.
"""

from racer.export.errors import ExportError
from racer.export.exporter import (
    ExportResult,
    ParityError,
    export_loaded,
    export_policy,
    verify_export,
)
from racer.export.parity import ParityCheck, ParityReport

__all__ = [
    "ExportError",
    "ExportResult",
    "ParityCheck",
    "ParityError",
    "ParityReport",
    "export_loaded",
    "export_policy",
    "verify_export",
]
