"""Source adapters: each finds its recordings under a root folder and reads one night.

A source is a small class registered with :func:`register_source` (in :data:`SOURCES`, a
:class:`sleep_kd.registry.Registry`; the interface is in ``base.py``). The pipeline only talks to
this interface, so adding a database (SHHS, MESA...) is one new module here, imported below::

    from sleep_kd.data.ingest.sources.base import Night, RecordingRef, register_source

    @register_source("mydb")
    class MyDb:
        def __init__(self, **options): ...
        def find(self, root: Path) -> list[RecordingRef]: ...   # sorted by recording_id
        def read(self, ref: RecordingRef) -> Night: ...

Instances must be picklable: recordings are read in worker processes.
"""

from __future__ import annotations

from sleep_kd.data.ingest.sources import edf, mass, nsrr  # noqa: F401  (registers the built-in sources)
from sleep_kd.data.ingest.sources.base import (
    SOURCES, Night, RecordingRef, Source, register_source, unscored_epochs,
)
from sleep_kd.errors import InputError


def list_sources() -> list[str]:
    """Names of the registered sources, sorted."""
    return SOURCES.names()


def create_source(name: str, **options) -> Source:
    """Build the source adapter ``name`` with its options (InputError lists the known names)."""
    cls = SOURCES.get(name)
    try:
        return cls(**options)
    except TypeError:  # an option this source does not take
        flags = ", ".join("--" + key.replace("_", "-") for key in sorted(options))
        raise InputError(f"source {name!r} does not take option(s) {flags}") from None


__all__ = ["SOURCES", "Night", "RecordingRef", "Source", "create_source", "list_sources", "register_source",
           "unscored_epochs"]
