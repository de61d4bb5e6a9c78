"""NSRR annotation XML (``<stem>-nsrr.xml``): stage events read with entity expansion off.

The file (SHHS, MESA, CHAT, CFS, MrOS...)::

    <PSGAnnotation>
      <EpochLength>30</EpochLength>
      <ScoredEvents>
        <ScoredEvent>
          <EventType>Stages|Stages</EventType>
          <EventConcept>Stage 2 sleep|2</EventConcept>
          <Start>930.0</Start>  <Duration>90.0</Duration>   <!-- seconds; may span epochs -->
        </ScoredEvent>
        ...  (arousals, desaturations, "Recording Start Time": not stages, skipped)

Parsed with the standard library's expat, streamed, with every entity declaration refused the
moment it is read: a "billion laughs" file is refused before anything is expanded, and no
external entity or DTD is ever fetched.
"""

from __future__ import annotations

from pathlib import Path
from xml.parsers import expat

from sleep_kd.data.cohort_file import EpochTable
from sleep_kd.data.ingest.hypnogram import build_epochs
from sleep_kd.data.stages import Stage
from sleep_kd.errors import InputError

STAGE_EVENT_TYPE = "stages|stages"
# EventConcept "<name>|<code>" of NSRR's stage events.
STAGE_CONCEPTS: dict[str, Stage] = {
    "0": Stage.W, "1": Stage.N1, "2": Stage.N2, "3": Stage.N3, "4": Stage.N4, "5": Stage.R,
    "6": Stage.MOVEMENT, "9": Stage.UNSCORED,
}
CONCEPT_NAMES: dict[str, Stage] = {
    "wake": Stage.W, "stage 1 sleep": Stage.N1, "stage 2 sleep": Stage.N2, "stage 3 sleep": Stage.N3,
    "stage 4 sleep": Stage.N4, "rem sleep": Stage.R, "movement": Stage.MOVEMENT, "unscored": Stage.UNSCORED,
}
_EVENT_FIELDS = ("EventType", "EventConcept", "Start", "Duration")


class _Refused(Exception):
    """Raised from inside an expat handler to stop parsing a hostile file at once."""


class _Collector:
    """expat handlers building ``EpochLength`` and the ScoredEvent field dicts, nothing else."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.text: list[str] = []
        self.epoch_length: str | None = None
        self.events: list[dict[str, str]] = []
        self.root: str | None = None

    def start(self, name: str, attrs) -> None:
        if self.root is None:
            self.root = name
        if name == "ScoredEvent":
            self.events.append({})
        self.stack.append(name)
        self.text = []

    def end(self, name: str) -> None:
        text = "".join(self.text).strip()
        self.stack.pop()
        if name == "EpochLength" and self.stack == ["PSGAnnotation"]:
            self.epoch_length = text
        elif name in _EVENT_FIELDS and self.stack and self.stack[-1] == "ScoredEvent":
            self.events[-1][name] = text
        self.text = []

    def data(self, text: str) -> None:
        self.text.append(text)


def _refuse_entity(name, *_):
    raise _Refused(f"declares the XML entity {name!r} (entity declarations are refused, never expanded)")


def parse_nsrr_xml(path: Path) -> _Collector:
    """Parse ``path``; InputError for a missing, malformed or hostile file (one line, the file named)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputError(f"{Path(path).name}: cannot read the annotation file ({error.strerror})") from None
    collector = _Collector()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = lambda context, base, system_id, public_id: _refuse_entity(system_id)
    parser.StartElementHandler, parser.EndElementHandler = collector.start, collector.end
    parser.CharacterDataHandler = collector.data
    try:
        parser.Parse(data, True)
    except _Refused as error:
        raise InputError(f"{Path(path).name}: refused: the file {error}") from None
    except expat.ExpatError as error:
        raise InputError(f"{Path(path).name}: not well-formed XML ({expat.ErrorString(error.code)} at line "
                         f"{error.lineno})") from None
    if collector.root != "PSGAnnotation":
        raise InputError(f"{Path(path).name}: root element is {collector.root!r}, expected 'PSGAnnotation' "
                         "(an NSRR annotation file)")
    return collector


def concept_stage(concept: str, *, source: str, index: int) -> Stage:
    """The stage of an EventConcept such as ``"Stage 2 sleep|2"``; name and code must agree."""
    name, _, code = concept.rpartition("|")
    by_code = STAGE_CONCEPTS.get(code.strip())
    by_name = CONCEPT_NAMES.get(" ".join(name.lower().split())) if name else None
    if by_code is None or (by_name is not None and by_name is not by_code):
        raise InputError(f"{source}: stage event {index} has EventConcept {concept!r}: expected one of "
                         "'Wake|0', 'Stage 1 sleep|1' ... 'Stage 4 sleep|4', 'REM sleep|5', 'Movement|6', "
                         "'Unscored|9'")
    return by_code


def read_nsrr_stages(path: Path) -> EpochTable:
    """The scoring epochs of an NSRR annotation file; onsets in seconds from the recording start.

    Stage events spanning several epochs are split into epochs of ``EpochLength`` seconds; a
    duration that is not a whole number of them is refused (the file declares another epoch).
    """
    path = Path(path)
    parsed = parse_nsrr_xml(path)
    if not parsed.epoch_length:  # the one place the file says its scoring epoch: never guessed from durations
        raise InputError(f"{path.name}: no EpochLength element: the scoring epoch is not declared")
    try:
        epoch_s = float(parsed.epoch_length)
    except ValueError:
        raise InputError(f"{path.name}: EpochLength {parsed.epoch_length!r} is not a number of seconds") from None
    onsets, durations, labels = [], [], []
    stages = [event for event in parsed.events if event.get("EventType", "").strip().lower() == STAGE_EVENT_TYPE]
    for index, event in enumerate(stages):
        stage = concept_stage(event.get("EventConcept", ""), source=path.name, index=index)
        try:
            onsets.append(float(event["Start"]))
            durations.append(float(event["Duration"]))
        except (KeyError, ValueError):
            raise InputError(f"{path.name}: stage event {index} has no numeric Start and Duration "
                             f"(got {event.get('Start')!r}, {event.get('Duration')!r})") from None
        labels.append(stage.name if stage not in (Stage.MOVEMENT, Stage.UNSCORED) else
                      ("movement" if stage is Stage.MOVEMENT else "unscored"))
    return build_epochs(onsets, durations, labels, source=path.name, epoch_s=epoch_s)
