"""Which of SRS's extras provides a module, so a partial install answers in a sentence.

A Pi installs ``srs[edge]`` only; running a server command there (``srs user list``,
``srs core``, ``srs gui``) would otherwise end in an ImportError traceback.
"""

from __future__ import annotations

# Top-level module -> the extra (setup.cfg) that installs it. Modules several extras
# share name the smallest extra that brings them.
EXTRA_OF_MODULE: dict[str, str] = {
    "sqlalchemy": "core",
    "alembic": "core",
    "tqdm": "core",
    "amqtt": "broker",
    "argon2": "broker",
    "filelock": "broker",
    "PySide6": "gui",
    "shiboken6": "gui",
    "cv2": "edge",
    "dlib": "edge",
    "face_recognition_models": "edge",
    "psycopg": "postgres",
}

# face_recognition pins dlib (no wheel on PyPI), so it is installed apart (Makefile).
NO_DEPS = {"face_recognition": "pip install --no-deps 'face_recognition==1.3.0'"}


def missing_module_sentence(exc: ModuleNotFoundError, command: str) -> str | None:
    """One sentence for a module this installation lacks, or None if not SRS's to name."""
    top = (exc.name or "").split(".")[0]
    if top in NO_DEPS:
        return (
            f"'{command}' needs the face_recognition package, which this installation "
            f"lacks: install it with {NO_DEPS[top]} (after the 'edge' or 'core' extra)"
        )
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return None
    return (
        f"'{command}' needs SRS's '{extra}' extra, which this installation lacks "
        f"(no module '{top}'): install it with pip install 'srs[{extra}]', or run this "
        f"command where it is installed"
    )


def command_words(argv: list[str]) -> str:
    """``srs user list --data-dir x`` -> ``srs user list`` (the words before options)."""
    words = ["srs"]
    for word in argv:
        if word.startswith("-"):
            break
        words.append(word)
    return " ".join(words)
