"""One small registry type for every named thing of the project (after timm's ``_registry.py``).

Models, loss terms, strategies, ingest sources and the faster forms of a network are each kept in
a :class:`Registry`: registered by name (as a decorator or a plain call), fetched with
:meth:`Registry.get`, whose error is one line listing the known names, and listed sorted with
:meth:`Registry.names`::

    MODELS = Registry("model")

    @MODELS.register                  # under the function's own name
    def utime_small(*, n_classes): ...

    @MODELS.register("utime_tiny")    # under a name given
    def _tiny(*, n_classes): ...

    MODELS.register("utime_copy", utime_small)   # a plain call
    MODELS.get("unet")   # InputError: unknown model 'unet'; known models: utime_copy, utime_small, utime_tiny
"""

from __future__ import annotations

import fnmatch
from typing import Any, Callable, Generic, Iterator, TypeVar

from sleep_kd.errors import InputError

T = TypeVar("T")
_NO_ITEM = object()


class Registry(Generic[T]):
    """Named items of one kind.

    Parameters
    ----------
    kind : str
        What an item is, as error messages name it (``"loss term"``).
    plural : str, optional
        The plural of ``kind`` (default ``kind + "s"``).
    """

    def __init__(self, kind: str, *, plural: str | None = None) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._items: dict[str, T] = {}

    def register(self, name: Any = None, item: Any = _NO_ITEM, *, replace: bool = False) -> Any:
        """Register an item; returns it, or a decorator that does.

        ``register(fn)`` or ``@register``: under ``fn.__name__``. ``register("name", item)``: under
        ``name``. ``register("name")`` or ``register()``: a decorator (by the given or the item's
        own name). A name already taken is a ValueError unless ``replace``.
        """
        if name is not None and not isinstance(name, str):  # a bare decorator: the item itself
            return self._add(name.__name__, name, replace=replace)
        if item is _NO_ITEM:
            return lambda given: self._add(name or given.__name__, given, replace=replace)
        return self._add(name, item, replace=replace)

    def _add(self, name: str, item: T, *, replace: bool) -> T:
        if name in self._items and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        """Remove ``name`` if it is registered (for tests that register their own)."""
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        """The item ``name``; an unknown name is one InputError line listing the known names."""
        if name not in self._items:
            raise InputError(f"unknown {self.kind} {name!r}; known {self.plural}: {', '.join(self.names())}")
        return self._items[name]

    def find(self, names: Iterator[str] | list[str]) -> T | None:
        """The item of the first of ``names`` that is registered, or None (dispatch by class: MRO names)."""
        return next((self._items[name] for name in names if name in self._items), None)

    def names(self, pattern: str = "*", *, where: Callable[[T], bool] | None = None) -> list[str]:
        """Registered names matching the shell-style ``pattern`` (and ``where(item)``), sorted."""
        return sorted(name for name, item in self._items.items()
                      if fnmatch.fnmatch(name, pattern) and (where is None or where(item)))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
