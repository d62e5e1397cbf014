"""Error text for people: whole sentences, no errno, no command lines, and a next step.

The core's messages are written for a log or a shell ("could not download X from URL:
[Errno 111] Connection refused; run: facemend-cli ..."). Dialogs pass them through
``for_people`` with the next step that fits where they are shown.
"""

from __future__ import annotations

import re
from pathlib import Path

#: "[Errno 111] ", "[WinError 10061] ", "<urlopen error ...>" wrappers
_ERRNO = re.compile(r"\[(?:Errno|WinError) -?\d+\]\s*")
_URLOPEN = re.compile(r"<urlopen error (.*?)>")
#: shell instructions meant for the command line, with what introduces them
_COMMAND = re.compile(r"[;,.]?\s*(?:\(|run:?\s*|then run\s*)?`?facemend-cli [^`)]*`?\)?", re.IGNORECASE)
#: hashes and CLI asks mean nothing to a person: said in words, or left out
_JARGON = (
    (re.compile(r"[:;,]?\s*expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}"), ""),
    (re.compile(r"its sha256 [0-9a-f]{64} matches"), "its contents match"),
    (re.compile(r";\s*say which model it is"), ""),  # the CLI's --name; the app asks for the right file
    (re.compile(r"\s*\(?sha256 [0-9a-f]{64}\)?"), ""),
)
#: what a network reason means, in plain words
_PLAIN_REASONS = {
    "name or service not known": "the server's name could not be found (is this computer offline?)",
    "nodename nor servname provided": "the server's name could not be found (is this computer offline?)",
    "temporary failure in name resolution": "the server's name could not be found (is this computer offline?)",
    "connection refused": "the server refused the connection",
    "network is unreachable": "the network cannot be reached (is this computer offline?)",
    "timed out": "the server did not answer in time",
    "no space left on device": "the disk is full",
    "permission denied": "Facemend is not allowed to write there",
}


def for_people(error: BaseException | str, next_step: str) -> str:
    """One or two sentences for a dialog: the cause without jargon, then ``next_step``."""
    text = os_error_text(error) if isinstance(error, OSError) else str(error)
    text = _URLOPEN.sub(r"\1", _ERRNO.sub("", text))
    text = _COMMAND.sub("", text)
    for pattern, words in _JARGON:
        text = pattern.sub(words, text)
    for raw, plain in _PLAIN_REASONS.items():
        text = re.sub(re.escape(raw), plain, text, flags=re.IGNORECASE)
    text = text.strip().rstrip(";:,. ")
    if text.lower().startswith("unexpected error"):
        text = "Something went wrong" + text[len("unexpected error") :]
    return f"{_sentence(text)} {_sentence(next_step)}".strip()


def about_file(message: str, path: Path) -> str:
    """A core message about ``path`` ("/a/b/x.pth: cannot tell...") as its reason alone, with
    the file named by its name, for "Facemend could not use x.pth: <reason>"."""
    return message.removeprefix(f"{path}: ").replace(str(path), path.name)


def os_error_text(error: OSError) -> str:
    """What an ``OSError`` says without its number: "Permission denied: /x/y"."""
    reason = error.strerror or str(error) or type(error).__name__
    return f"{reason}: {error.filename}" if error.filename else reason


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    first_word = text.split(maxsplit=1)[0]
    if "." not in first_word.rstrip(":") and "/" not in first_word:  # never capitalise a file name
        text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."
