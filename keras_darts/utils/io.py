"""Atomic file writes: a reader (or a crash) never sees a half-written file."""

import contextlib
import json
import os
import tempfile


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path that replaces `path` only if the block succeeds.

    The temporary file lives in the same directory as `path`, so the final
    `os.replace` is atomic on POSIX file systems. If the block raises, the
    temporary file is removed and `path` is left untouched.

    Args:
        path: final file path.
        suffix: suffix for the temporary name (some writers, such as
            `model.save_weights`, insist on an extension like `.weights.h5`).

    Yields:
        The temporary path to write to.

    Raises:
        OSError: if the directory is not writable.

    Example:

    >>> with atomic_path("/tmp/out.txt") as tmp:
    ...     open(tmp, "w").write("hello")
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path, text):
    """Writes `text` to `path` atomically.

    Args:
        path: file path.
        text: the string to write.

    Returns:
        The path written.

    Example:

    >>> atomic_write_text("/tmp/genotype.txt", "Genotype(...)")
    '/tmp/genotype.txt'
    """
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    return path


def atomic_write_json(path, obj, indent=2):
    """Serialises `obj` as JSON and writes it to `path` atomically.

    The object is serialised before anything touches the disk, so an object
    that cannot be serialised leaves no file behind.

    Args:
        path: file path.
        obj: a JSON-serialisable object.
        indent: JSON indentation.

    Returns:
        The path written.

    Raises:
        TypeError: if `obj` is not JSON-serialisable.

    Example:

    >>> atomic_write_json("/tmp/a.json", {"a": 1})
    '/tmp/a.json'
    """
    text = json.dumps(obj, indent=indent, sort_keys=False) + "\n"
    return atomic_write_text(path, text)


def read_json(path):
    """Reads a JSON file (UTF-8), such as one `atomic_write_json` wrote.

    Args:
        path: file path.

    Returns:
        The parsed object.

    Raises:
        OSError: if the file cannot be read.
        json.JSONDecodeError: if it is not JSON.

    Example:

    >>> read_json("/tmp/a.json")
    {'a': 1}
    """
    with open(path, encoding="utf-8") as f:
        return json.load(f)
