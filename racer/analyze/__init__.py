"""Read training and evaluation logs (racer's and DeepRacer's), summarise them and chart them.

``racer analyze`` is a thin front end over :func:`analyze`. No learning library is imported.
"""

from racer.analyze.episodes import EpisodeTable, episodes
from racer.analyze.readers import Source, read_source, read_sources
from racer.analyze.report import AnalysisReport, SourceReport, analyze
from racer.analyze.summary import IterationSummary, PhaseSummary, summarise
from racer.analyze.table import LogFormatError, StepTable

__all__ = [
    "AnalysisReport",
    "EpisodeTable",
    "IterationSummary",
    "LogFormatError",
    "PhaseSummary",
    "Source",
    "SourceReport",
    "StepTable",
    "analyze",
    "episodes",
    "read_source",
    "read_sources",
    "summarise",
]
