"""Output paths: checked before any work, published together after it.

Every command and the worker call :func:`check_output_file` / :func:`check_output_folder` for each output
before they load a model or compute anything, so a path that would destroy an input (the same file, also
through a symbolic or hard link, or an input's provenance record), a folder where a file is meant, a file
where a folder is meant, an extension no writer knows, or a parent that cannot be created or written is
refused with one line naming the path and the fix.

Outputs are then written through :func:`publish`: every file goes to a temporary name beside its
destination and every folder to a scratch folder; only when the whole block succeeded are they renamed into
place, one after the other. On any failure the temporaries are removed, folders this publication created
are removed again, and an output that already existed is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from synthtrust.errors import InputError

# Formats SimpleITK writes into one file (NRRD/MetaImage headers with a detached data file are left out: the
# data file's name is fixed inside the header, so it cannot be written under a temporary name and renamed).
IMAGE_EXTENSIONS = (".nii.gz", ".nii", ".nrrd", ".mha")
JSON_EXTENSIONS = (".json",)
CSV_EXTENSIONS = (".csv",)
PROVENANCE_SUFFIX = ".provenance.json"

PathLike = str | os.PathLike


def _provenance_of(path: Path) -> Path:
    # Imported here, not at the top: provenance imports the image I/O (SimpleITK), which the worker's
    # job checks do not otherwise need.
    from synthtrust.provenance import provenance_path

    return provenance_path(path)


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file: the same resolved path, or (both existing) the same inode,
    which also catches hard links and bind mounts."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        first, second = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _protected(inputs: Iterable[PathLike | None]) -> list[tuple[Path, Path, str]]:
    """(path, the input it belongs to, what it is) for every input and every input's provenance record."""
    protected = []
    for given in inputs:
        if given is None or str(given) == "":
            continue
        source = Path(given)
        protected.append((source, source, "the input"))
        record = _provenance_of(source) if not source.is_dir() else None
        if record is not None and record.is_file():  # only an existing record can be destroyed
            protected.append((record, source, "the provenance record of the input"))
    return protected


def _refuse_inputs(path: Path, option: str, protected: list[tuple[Path, Path, str]]) -> None:
    for candidate, source, what in protected:
        if _same_file(path, candidate):
            link = " (through a link)" if os.path.abspath(path) != os.path.abspath(candidate) else ""
            shown = source if what == "the input" else f"{source} ({candidate})"
            raise InputError(f"{option} {path} is {what} {shown}{link}; writing it would destroy that input: "
                             "choose another output path")


def _nearest_existing(folder: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _refuse_parent(path: Path, option: str) -> None:
    """The folder ``path`` goes into must exist or be creatable, and be writable."""
    parent = Path(os.path.abspath(path)).parent
    existing = _nearest_existing(parent)
    if not existing.is_dir():
        raise InputError(f"{option} {path} cannot be created: {existing} is a file, not a folder; choose a path "
                         "inside a folder")
    # As root os.access always says yes; for everyone else it is the check the rename will make.
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path} cannot be written: {existing} is not writable by you; choose a folder "
                         "you can write to")


def known_extension(path: PathLike, extensions: Iterable[str]) -> str | None:
    """The extension of ``path`` among ``extensions`` (case-insensitive), longest first, or None."""
    name = Path(path).name.lower()
    for extension in sorted(extensions, key=len, reverse=True):
        if name.endswith(extension) and len(name) > len(extension):
            return extension
    return None


def check_output_file(path: PathLike, inputs: Iterable[PathLike | None] = (), option: str = "--out",
                      extensions: Iterable[str] = IMAGE_EXTENSIONS, provenance: bool = False) -> Path:
    """Refuse (InputError) an output file that would destroy an input or cannot be written; returns the path.

    ``provenance``: the command also writes ``<stem>.provenance.json`` beside it; that file is checked too.
    """
    path = Path(path)
    extensions = tuple(extensions)
    if path.is_dir():
        example = f"out{extensions[0]}" if extensions else "a file name"
        raise InputError(f"{option} {path} is a folder; give a file path, e.g. {path / example}")
    if extensions and known_extension(path, extensions) is None:
        raise InputError(f"{option} {path} has no known writer; end it in {', '.join(extensions)}")
    protected = _protected(inputs)
    _refuse_inputs(path, option, protected)
    _refuse_parent(path, option)
    if provenance:
        record = _provenance_of(path)
        if record.is_dir():
            raise InputError(f"{option} {path}: its provenance record {record} is a folder; move that folder or "
                             "choose another output name")
        _refuse_inputs(record, f"{option} {path}: its provenance record", protected)
    return path


def check_output_folder(path: PathLike, inputs: Iterable[PathLike | None] = (), option: str = "--out",
                        names: Iterable[str] = ()) -> Path:
    """Refuse (InputError) an output folder that is a file, is an input, cannot be created or written, or
    whose files ``names`` (the ones the command will write into it) would replace an input."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path} is a file; give a folder path (a new or existing folder)")
    protected = _protected(inputs)
    _refuse_inputs(path, option, protected)
    for name in names:
        _refuse_inputs(path / name, f"{option} {path}: its file {name}", protected)
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"{option} {path} is not writable by you; choose a folder you can write to")
    else:
        _refuse_parent(path, option)
    return path


def check_distinct(outputs: dict[str, PathLike | None]) -> None:
    """Refuse two outputs (option -> path) that name the same file."""
    given = [(option, Path(path)) for option, path in outputs.items() if path is not None]
    for index, (option, path) in enumerate(given):
        for other_option, other in given[index + 1:]:
            if _same_file(path, other):
                raise InputError(f"{option} and {other_option} are both {path}; give each output its own path")


def _umask() -> int:
    umask = os.umask(0)  # the only way to read the umask is to set it
    os.umask(umask)
    return umask


class Publication:
    """Temporary files and scratch folders, renamed onto their destinations by :meth:`commit`."""

    def __init__(self) -> None:
        self._files: list[tuple[Path, Path]] = []
        self._folders: list[tuple[Path, Path]] = []
        self._created: list[Path] = []

    def _make_parent(self, folder: Path) -> None:
        missing = []
        folder = Path(os.path.abspath(folder))
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for created in reversed(missing):
            created.mkdir()
            self._created.append(created)

    def file(self, destination: PathLike) -> Path:
        """A temporary path beside ``destination`` (same extension, so the writer picks the same format)."""
        destination = Path(destination)
        self._make_parent(destination.parent)
        suffix = known_extension(destination, IMAGE_EXTENSIONS + JSON_EXTENSIONS + CSV_EXTENSIONS)
        handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=suffix or ".tmp",
                                             dir=destination.parent)
        os.close(handle)
        # mkstemp makes a private (0600) file; outputs get the permissions any new file would get.
        os.chmod(temporary, 0o666 & ~_umask())
        self._files.append((Path(temporary), destination))
        return Path(temporary)

    def folder(self, destination: PathLike) -> Path:
        """A scratch folder beside ``destination``; its content is merged into ``destination`` on commit."""
        destination = Path(destination)
        self._make_parent(destination.parent)
        scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
        # mkdtemp makes a private (0700) folder; renamed into place it must look like any new folder.
        os.chmod(scratch, 0o777 & ~_umask())
        self._folders.append((scratch, destination))
        return scratch

    def commit(self) -> None:
        for _, destination in self._folders:
            if destination.exists() and not destination.is_dir():
                raise InputError(f"{destination} appeared as a file while the command ran; nothing was written")
        for _, destination in self._files:
            if destination.is_dir():
                raise InputError(f"{destination} appeared as a folder while the command ran; nothing was written")
        for scratch, destination in self._folders:
            _merge(scratch, destination)
            shutil.rmtree(scratch, ignore_errors=True)
        for temporary, destination in self._files:
            os.replace(temporary, destination)
        self._files, self._folders, self._created = [], [], []

    def discard(self) -> None:
        for temporary, _ in self._files:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        for scratch, _ in self._folders:
            shutil.rmtree(scratch, ignore_errors=True)
        for created in reversed(self._created):
            with contextlib.suppress(OSError):  # not empty: something else was put there meanwhile; keep it
                created.rmdir()
        self._files, self._folders, self._created = [], [], []


def _merge(source: Path, destination: Path) -> None:
    """Move the content of ``source`` into ``destination``: new entries are renamed in, files replace files,
    folders merge (an earlier run's other files in ``destination`` are kept)."""
    if not destination.exists():
        source.replace(destination)
        return
    for item in sorted(source.iterdir()):
        target = destination / item.name
        if item.is_dir() and target.is_dir():
            _merge(item, target)
        elif target.is_dir():
            shutil.rmtree(target)
            item.replace(target)
        else:
            item.replace(target)


@contextlib.contextmanager
def publish() -> Iterator[Publication]:
    """``with publish() as outputs: save(outputs.file(out)); write_json(..., outputs.file(record))``: every
    output appears when the block succeeds, none when it fails. An OSError while writing (disk full, a
    permission) becomes one InputError line naming it."""
    publication = Publication()
    try:
        yield publication
        publication.commit()
    except OSError as error:
        publication.discard()
        where = f" ({error.filename})" if error.filename else ""
        raise InputError(f"could not write the outputs{where}: {error.strerror or error}; nothing was written: "
                         "free disk space or choose another output folder") from error
    except BaseException:
        publication.discard()
        raise
