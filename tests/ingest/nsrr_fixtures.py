"""Small NSRR-shaped folders: EDFs from the project's own writer, annotation XML written here.

``polysomnography/edfs/<visit folder>/<stem>.edf`` and
``polysomnography/annotations-events-nsrr/<visit folder>/<stem>-nsrr.xml``, as sleepdata.org lays
out SHHS, MESA and the others. Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sleep_kd.data.synthetic.edf_writer import Channel, write_psg
from tests.ingest.fixtures import night_signals

# Every stage concept NSRR writes, and the stored Stage code each must give.
CONCEPTS = {"Wake|0": 0, "Stage 1 sleep|1": 1, "Stage 2 sleep|2": 2, "Stage 3 sleep|3": 3,
            "Stage 4 sleep|4": 4, "REM sleep|5": 5, "Movement|6": -1, "Unscored|9": -2}
SHHS_CHANNELS = ("EEG", "EEG(sec)", "ECG", "EMG")
MESA_CHANNELS = ("EEG1", "EEG2", "EEG3", "EKG")


def stage_event(concept: str, start: float, duration: float) -> tuple[str, str, float, float]:
    return ("Stages|Stages", concept, start, duration)


def nsrr_xml(events, *, epoch_length: float | str = 30) -> str:
    """A ``PSGAnnotation`` document; ``events`` are (EventType, EventConcept, Start, Duration)."""
    body = "".join(
        f"<ScoredEvent><EventType>{etype}</EventType><EventConcept>{concept}</EventConcept>"
        f"<Start>{start}</Start><Duration>{duration}</Duration></ScoredEvent>\n"
        for etype, concept, start, duration in events)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<PSGAnnotation>\n'
            f"<SoftwareVersion>Compumedics</SoftwareVersion>\n<EpochLength>{epoch_length}</EpochLength>\n"
            f"<ScoredEvents>\n{body}</ScoredEvents>\n</PSGAnnotation>\n")


def default_events(seconds: float) -> list:
    """A recording start marker, wake, a 90 s run of N2 (three epochs), an arousal, REM to the end."""
    events = [("", "Recording Start Time", 0, seconds), stage_event("Wake|0", 0, 30),
              stage_event("Stage 2 sleep|2", 30, 90),
              ("Arousals|Arousals", "Arousal|Arousal ()", 47.5, 8.0)]
    return events + [stage_event("REM sleep|5", 120, seconds - 120)]


def write_nsrr_night(root: Path, stem: str, *, channels=SHHS_CHANNELS, seconds: int = 180, sfreq: float = 128.0,
                     events=None, xml: str | None = None, visit_folder: str = "") -> tuple[Path, Path]:
    """Write ``<stem>.edf`` and ``<stem>-nsrr.xml`` under ``root/polysomnography``; returns both paths."""
    poly = Path(root) / "polysomnography"
    edf = poly / "edfs" / visit_folder / f"{stem}.edf"
    annotation = poly / "annotations-events-nsrr" / visit_folder / f"{stem}-nsrr.xml"
    edf.parent.mkdir(parents=True, exist_ok=True)
    annotation.parent.mkdir(parents=True, exist_ok=True)
    # Reuse the MASS fixture's signal shapes: an ECG with spikes, EEG tones.
    shapes = night_signals(("EEG C3-CLE", "ECG ECGI"), int(seconds * sfreq), sfreq)
    signals = [Channel(label, shapes["ECG ECGI" if label in ("ECG", "EKG") else "EEG C3-CLE"]
                       + (0 if label in ("ECG", "EKG", "EEG", "EEG3") else np.float64(index)), "uV", 1000.0)
               for index, label in enumerate(channels)]
    write_psg(edf, signals, sfreq=sfreq, record_id=stem)
    annotation.write_text(xml if xml is not None else nsrr_xml(events or default_events(seconds)))
    return edf, annotation


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE PSGAnnotation [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<PSGAnnotation><EpochLength>30</EpochLength><ScoredEvents><ScoredEvent>
<EventType>Stages|Stages</EventType><EventConcept>&lol9;</EventConcept><Start>0</Start><Duration>30</Duration>
</ScoredEvent></ScoredEvents></PSGAnnotation>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE PSGAnnotation [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<PSGAnnotation><EpochLength>30</EpochLength><ScoredEvents>&secret;</ScoredEvents></PSGAnnotation>
"""
