"""Choosing the credential file: a browser upload, or a path on the server for large files."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from credkit.notebook.runbook import BASE_DIR_ENV, resolve_path
from credkit.workbook import WORKBOOK_SUFFIXES

#: Jupyter Server's default ``websocket_max_message_size``: larger uploads never reach the kernel.
DEFAULT_UPLOAD_LIMIT_MIB = 10
#: What ``make lab`` allows (jupyter_server_config.py).
MAKE_LAB_UPLOAD_LIMIT_MIB = 100
#: The files the upload offers: a CSV, or an Excel workbook (its first sheet is read).
UPLOAD_ACCEPTS = ",".join((".csv", *WORKBOOK_SUFFIXES))
#: Set by ``make lab`` and ``make app`` to the limit their server allows.
UPLOAD_LIMIT_ENV = "CREDKIT_UPLOAD_LIMIT_MIB"


def configured_upload_limit_mib() -> float:
    """The upload limit the server was started with (CREDKIT_UPLOAD_LIMIT_MIB), else the default."""
    try:
        return float(os.environ.get(UPLOAD_LIMIT_ENV, DEFAULT_UPLOAD_LIMIT_MIB))
    except ValueError:
        return DEFAULT_UPLOAD_LIMIT_MIB


@dataclass(frozen=True)
class UploadedFile:
    """One file as the FileUpload widget delivered it."""

    name: str
    content: bytes


def uploaded_file(
    entry: Mapping[str, Any], limit_mib: float = DEFAULT_UPLOAD_LIMIT_MIB
) -> UploadedFile:
    """The file in one FileUpload value entry; ValueError (with what to do) when its content is
    missing or empty.

    A browser reports the name and size of a file before sending it; when the server drops the
    message that carries the bytes, the entry may name a file whose content never arrived.
    """
    name = str(entry.get("name") or "upload.csv")
    content = entry.get("content")
    size = int(entry.get("size") or 0)
    data = b"" if content is None else bytes(content)
    if data:
        return UploadedFile(name, data)
    if size == 0 and content is not None:
        raise ValueError(f"{name} is empty (0 bytes): choose the credential CSV itself.")
    arrived = "its content is missing" if content is None else "its content is empty"
    raise ValueError(
        f"{name} was chosen ({_megabytes(size)}) but {arrived}: the upload did not reach "
        f"the kernel. {too_large_advice(limit_mib)}"
    )


def too_large_advice(limit_mib: float) -> str:
    """What to do with a file too large to upload through this server."""
    return (
        f"Files over {limit_mib:g} MiB: type the file's path on the server in the path box and "
        f"press Load, or start JupyterLab with `make lab` (it allows "
        f"{MAKE_LAB_UPLOAD_LIMIT_MIB} MiB uploads)."
    )


class FileChooser:
    """An upload button and a server path box; each hands the file to a callback."""

    def __init__(
        self,
        on_bytes: Callable[[bytes, str], object],
        on_path: Callable[[str], object],
        *,
        upload_limit_mib: float = DEFAULT_UPLOAD_LIMIT_MIB,
    ) -> None:
        self._on_bytes = on_bytes
        self._on_path = on_path
        self.upload_limit_mib = upload_limit_mib
        self.upload = widgets.FileUpload(
            accept=UPLOAD_ACCEPTS,
            multiple=False,
            description="Upload CSV or Excel",
            button_style="primary",
            layout=widgets.Layout(width="auto"),  # the description in full
        )
        self.upload.add_class("credkit-upload")
        self.upload.observe(self.handle_upload, names="value")
        self.path = widgets.Text(
            placeholder="path on the server, e.g. demo/credentials-messy.csv",
            description="Path:",
            layout=widgets.Layout(width="480px"),
        )
        self.load_button = widgets.Button(description="Load", icon="folder-open")
        self.load_button.on_click(self.handle_load_click)
        self.note = widgets.HTML(
            f"<small>{html.escape(too_large_advice(upload_limit_mib))}</small>"
        )
        self.message = widgets.HTML()
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.upload]),
                widgets.HBox([self.path, self.load_button]),
                self.note,
                self.message,
            ]
        )

    def handle_upload(self, change: Mapping[str, Any]) -> None:
        """FileUpload's value changed: read the file, then clear the value.

        Clearing frees the bytes and lets the same file be chosen again; it also keeps the
        widget's repr free of the content's memory address.
        """
        entries = change["new"]
        if not entries:
            return  # our own clearing below
        self.upload.value = ()
        try:
            chosen = uploaded_file(entries[0], self.upload_limit_mib)
        except ValueError as problem:
            self.say(str(problem), error=True)
            return
        self.say("")
        self._on_bytes(chosen.content, chosen.name)

    def handle_load_click(self, _button: widgets.Button | None = None) -> None:
        """The Load button: read the file at the typed path on the server."""
        typed = self.path.value.strip()
        if not typed:
            self.say("Type the path of the CSV file on the server first.", error=True)
            return
        path = resolve_path(typed)  # relative to CREDKIT_BASE_DIR (the repository in `make lab`)
        if not path.is_file():
            # A relative path as typed; of an absolute one the name only: the message must not
            # show the server's folders.
            shown = Path(typed).name if Path(typed).is_absolute() else typed
            self.say(
                f"No file at {shown!r} on the server (relative paths start from the folder in "
                f"{BASE_DIR_ENV}, else the notebook's folder).",
                error=True,
            )
            return
        self.say("")
        self._on_path(str(path))

    def say(self, text: str, *, error: bool = False) -> None:
        """Show a message under the upload area ("" clears it)."""
        if not text:
            self.message.value = ""
            return
        color = "#b00020" if error else "inherit"
        self.message.value = f'<p style="color:{color}">{html.escape(text)}</p>'


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
