"""Built-in working-day calendars: mainland China from two maintained libraries.

``cn`` is :func:`govhall_sdk.china_holidays_source` (the ``holidays`` package).
Building it imports the package's every country and computes some 150 years,
a few tenths of a second at each start of ``govhall``; so the days it gives
are kept in a cache file, which later starts read instead while the installed
``holidays`` package is the same (its path and the size and modification time
of every file the Chinese calendar is made from). The file is a digest line and
the days as JSON: a file that does not match its digest, or any problem reading
or writing one, means the library is asked, exactly as without a cache.

The cache folder is :func:`govhall_sdk.cache_dir` (``$GOVHALL_CACHE_DIR``, else
``$XDG_CACHE_HOME/govhall``, else ``~/.cache/govhall``); ``GOVHALL_CACHE_DIR=""`` turns the cache off.
"""
import contextlib
import hashlib
import importlib.util
import json
import os
from datetime import date
from pathlib import Path

from govhall_sdk import DaySource, cache_dir, china_holidays_source, chinesecalendar_source, hookimpl

#: Part of the cache key: a new layout of the file, or a new way of building the source, changes it.
CACHE_FORMAT = "cn-1"
#: The parts of the ``holidays`` package that make its Chinese calendar (the package's root files included).
_LIBRARY_PARTS = ("calendars", "groups", "mixins")
#: The holiday names' language (the source's default) and the calendar's own.
_LANGUAGES = ("en_US", "zh_CN")


def _library_files(root):
    """The files of the ``holidays`` package that its Chinese calendar depends on."""
    yield from root.glob("*.py")
    for part in _LIBRARY_PARTS:
        yield from (root / part).glob("*.py")
    yield root / "countries" / "china.py"
    for language in _LANGUAGES:
        yield root / "locale" / language / "LC_MESSAGES" / "CN.mo"


def _library_key():
    """A digest of the installed ``holidays`` package (found, not imported), or None when it is not found."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0])
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{root}".encode())
    for path in sorted(_library_files(root)):
        try:
            stat = path.stat()
        except OSError:
            digest.update(f"\0{path.relative_to(root)}\0missing".encode())
            continue
        digest.update(f"\0{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _dump(source):
    """A DaySource as JSON (dates as ordinals, the names in their order)."""
    return json.dumps({
        "holidays": sorted(d.toordinal() for d in source.holidays),
        "makeup_days": sorted(d.toordinal() for d in source.makeup_days),
        "published_years": sorted(source.published_years),
        "holiday_names": [[d.toordinal(), name] for d, name in source.holiday_names.items()],
        "statutory_days": sorted(d.toordinal() for d in source.statutory_days),
    }, ensure_ascii=False, separators=(",", ":"))


def _load(text):
    """The DaySource of :func:`_dump`'s text."""
    data = json.loads(text)
    days = date.fromordinal
    return DaySource(
        holidays=map(days, data["holidays"]),
        makeup_days=map(days, data["makeup_days"]),
        published_years=data["published_years"],
        holiday_names={days(o): name for o, name in data["holiday_names"]},
        statutory_days=map(days, data["statutory_days"]),
    )


def _read(path, key):
    """The cached source, or None when there is none that matches ``key`` and its digest."""
    try:
        head, _, body = path.read_bytes().partition(b"\n")
        if head != f"{key} {hashlib.sha256(body).hexdigest()}".encode():
            return None
        return _load(body.decode())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path, key, source):
    """Store a source for ``key`` (written aside and renamed: a reader sees a whole file or none)."""
    body = _dump(source).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only writing the cache needs it: a start-up that reads the cache does not pay its import
        fd, aside = tempfile.mkstemp(dir=path.parent, prefix=".cn-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(f"{key} {hashlib.sha256(body).hexdigest()}\n".encode() + body)
        os.replace(aside, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(aside)


def china_cached_source():
    """``cn``: :func:`govhall_sdk.china_holidays_source`, read from the cache when it matches the library."""
    folder = cache_dir()
    key = _library_key() if folder is not None else None
    if key is None:
        return china_holidays_source()
    path = folder / f"cn-{key[:32]}.json"
    source = _read(path, key)
    if source is None:
        source = china_holidays_source()
        _write(path, key, source)
    return source


@hookimpl
def govhall_register_calendars(register):
    """``cn`` (the default, from the ``holidays`` package) and ``cn-chinesecalendar``."""
    register("cn", china_cached_source)
    register("cn-chinesecalendar", chinesecalendar_source)
