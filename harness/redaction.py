"""The one redactor: every observation, artefact and printed line of the harness goes through this module.

What it removes, wherever it appears:

- **the real credentials** of the machine: the values of ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_SESSION_TOKEN``, ``AWS_SECURITY_TOKEN`` and of every environment variable whose name says secret, token,
  password or credential, and the keys of every profile of the AWS shared credentials and config files
  (``AWS_SHARED_CREDENTIALS_FILE`` / ``AWS_CONFIG_FILE``, default ``~/.aws/``). They are read when the harness
  starts and again each time a world is about to replace the environment
  (:func:`remember_real_credentials`), so whatever a candidate captured at import is known;
- **AWS secret shapes**, known or not: access key ids (``AKIA``/``ASIA``/... and 16 more characters), 40-character
  secret access keys (letters of both cases and digits), session tokens (their ``IQoJb3JpZ2lu``/``FwoGZXIvYXdz``
  family of prefixes, or any base64 run of 200 characters or more), and ``secret=value`` pairs in text;
- **values under secret-looking keys** in structures (``SecretAccessKey``, ``SessionToken``, ``NextToken``...).

Every secret becomes a fingerprint, ``<redacted:xxxxxxxx>``: equal secrets give equal fingerprints within one
process (and its forked children), so two runs that used the same token still compare equal, and nothing of the
secret leaks (the hash is salted per process; ``python -m harness mutate`` hands its salt to the workers that compare
its observations: :func:`share_salt`).

**ExternalIds** are not secrets to the comparison but should not be published either: in artefacts and printed lines
(:func:`redact_output`, :func:`redact_text`) the value under any ``ExternalId``-like key, and every ExternalId a
loaded scenario declares (:func:`remember_external_ids`) in free text, is shown masked, ``dr***nt`` (first two and
last two characters; ``***`` under six characters), unless :func:`show_external_ids` was called (the CLI's
``--show-external-ids``). Observations keep them, so a candidate that sends another ExternalId is still caught.

This module imports nothing of the harness, so every part of it can use it.
"""

from __future__ import annotations

import configparser
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Keys whose values are secrets wherever they appear (STS ``Credentials``, session tokens, passwords...).
SECRET_KEY = re.compile(r"secret|token|password|credential", re.IGNORECASE)
#: Keys whose values are ExternalIds (masked in artefacts and printed lines).
EXTERNAL_ID_KEY = re.compile(r"^external_?id$", re.IGNORECASE)
#: AWS access key ids inside free text.
ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{12,}\b")
#: 40-character secret access keys: a base64-alphabet run of exactly 40 with both letter cases and a digit.
SECRET_ACCESS_KEY = re.compile(
    r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
)
#: STS session tokens: their known prefixes, or any base64 run of 200 characters or more.
SESSION_TOKEN = re.compile(
    r"(?:IQoJb3JpZ2lu|IQoDYXdz|FwoGZXIvYXdz|FQoGZXIvYXdz|AQoDYXdz|AgoJb3JpZ2lu)[A-Za-z0-9/+=]{20,}"
    r"|(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{200,}={0,2}"
)
#: ``name=value`` / ``name: value`` pairs of secret-looking names inside free text.
SECRET_ASSIGNMENT = re.compile(
    r"(?i)((?:secret|token|password|credential)[A-Za-z_]*[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"
)
#: Environment variables that hold AWS credentials (their names do not all look secret).
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
#: Keys of the AWS shared files that hold credentials.
CREDENTIAL_FILE_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token")
#: Shortest value remembered as a secret or an ExternalId to find in free text (shorter ones are too common).
MIN_KNOWN_LENGTH = 8
MIN_EXTERNAL_ID_LENGTH = 4
_MAX_CREDENTIALS_FILE_BYTES = 1024 * 1024
_REDACTED = re.compile(r"^<redacted:[0-9a-f]{8}>$")
_SALT_BYTES = 16


class _State:
    """What this process knows: real secret values, ExternalIds, whether ExternalIds are shown, the fingerprint salt."""

    salt = secrets.token_bytes(_SALT_BYTES)
    known: set[str] = set()
    external_ids: set[str] = set()
    show_external_ids = False
    started = False


def fingerprint(value: Any) -> str:
    """A stand-in for a secret: equal secrets give equal stand-ins within this process, nothing else leaks.

    Args:
        value: The secret.

    Returns:
        ``<redacted:xxxxxxxx>`` with a salted hash prefix (the salt is random per process).
    """
    digest = hashlib.sha256(_State.salt + repr(value).encode()).hexdigest()[:8]
    return f"<redacted:{digest}>"


def share_salt(salt: bytes) -> None:
    """Fingerprint with ``salt`` from now on, to compare observations made in other processes of the same run.

    Processes forked from this one inherit its salt; processes started afresh that exchange observations (the
    pytest-xdist workers of the comparison suite share baseline runs) must be given one salt, random per run.

    Raises:
        ValueError: ``salt`` is shorter than 16 bytes.
    """
    if len(salt) < _SALT_BYTES:
        raise ValueError(f"a fingerprint salt has at least {_SALT_BYTES} bytes")
    _State.salt = bytes(salt)


def fingerprint_salt() -> bytes:
    """This process's fingerprint salt, for a process of the same run that compares observations made here."""
    return _State.salt


def mask(value: Any) -> str:
    """An ExternalId as people may see it: ``dr***nt`` (``***`` when shorter than six characters)."""
    text = str(value)
    return f"{text[:2]}***{text[-2:]}" if len(text) >= 6 else "***"


def _credential_files(environ: Mapping[str, str]) -> list[Path]:
    home = Path.home() / ".aws"
    return [
        Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or home / "credentials"),
        Path(environ.get("AWS_CONFIG_FILE") or home / "config"),
    ]


def _file_secrets(path: Path) -> set[str]:
    """Credential values of every profile of one AWS shared file (nothing when it is absent or not a plain file)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_CREDENTIALS_FILE_BYTES:
            return set()
        parser = configparser.RawConfigParser(strict=False, interpolation=None)
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        return set()
    return {
        parser.get(section, key).strip()
        for section in parser.sections()
        for key in CREDENTIAL_FILE_KEYS
        if parser.has_option(section, key)
    }


def _environment_secrets(environ: Mapping[str, str]) -> set[str]:
    values = {environ.get(name, "") for name in CREDENTIAL_VARIABLES}
    values |= {value for name, value in environ.items() if SECRET_KEY.search(name)}
    return {value for value in values if len(value) >= MIN_KNOWN_LENGTH}


def remember_real_credentials(environ: Mapping[str, str] | None = None) -> None:
    """Learn the credentials of ``environ`` (default: the process environment) and of its AWS shared files.

    Called when the harness starts and by every world before it replaces the environment.
    """
    environ = os.environ if environ is None else environ
    values = _environment_secrets(environ)
    for path in _credential_files(environ):
        values |= _file_secrets(path)
    _State.known |= {value for value in values if len(value) >= MIN_KNOWN_LENGTH}
    _State.started = True


def remember_external_ids(values: Iterable[Any]) -> None:
    """Learn ExternalIds (a loaded scenario's), so printed text shows them masked too."""
    _State.external_ids |= {str(v) for v in values if isinstance(v, str) and len(v) >= MIN_EXTERNAL_ID_LENGTH}


def show_external_ids(show: bool = True) -> None:
    """Show ExternalIds in clear in artefacts and printed lines (``--show-external-ids``)."""
    _State.show_external_ids = show


def known_secrets() -> tuple[str, ...]:
    """The secret values learnt so far (the files are read on first use) and those of the environment right now."""
    if not _State.started:
        remember_real_credentials()
    return tuple(sorted(_State.known | _environment_secrets(os.environ), key=len, reverse=True))


def _scrub(text: str, known: Iterable[str]) -> str:
    if len(text) < MIN_KNOWN_LENGTH:
        return text
    for value in known:
        if value and len(value) >= MIN_KNOWN_LENGTH and value in text:
            text = text.replace(value, fingerprint(value))
    for pattern in (SESSION_TOKEN, ACCESS_KEY_ID, SECRET_ACCESS_KEY):
        text = pattern.sub(lambda m: fingerprint(m.group(0)), text)
    return SECRET_ASSIGNMENT.sub(
        lambda m: m.group(0) if _REDACTED.match(m.group(2)) else m.group(1) + fingerprint(m.group(2)), text
    )


def scrub_text(text: str, known: Iterable[str] = ()) -> str:
    """Remove secrets from free text: the real credentials, ``known`` values, AWS secret shapes, ``secret=value``.

    Args:
        text: Any recorded text (an exception message, a printed line).
        known: Exact secret values to remove as well (e.g. the world's own fake credentials).

    Returns:
        The text with every secret replaced by a fingerprint.
    """
    return _scrub(text, (*known, *known_secrets()))


def redact(value: Any, known: Iterable[str] = (), *, mask_external_ids: bool = False) -> Any:
    """Redact secrets everywhere in a structure (and, for output, mask ExternalIds).

    Values under a key matching :data:`SECRET_KEY` become fingerprints (fingerprints already there are kept);
    strings are scrubbed with :func:`scrub_text`.

    Args:
        value: A recorded structure (dicts, lists, tuples, scalars).
        known: Exact secret values to scrub from strings, besides the real credentials.
        mask_external_ids: Mask ExternalIds (artefacts and printed lines; never observations, which are compared).

    Returns:
        A redacted copy.
    """
    every = (*known, *known_secrets())
    masking = mask_external_ids and not _State.show_external_ids
    return _redact(value, every, masking)


def _redact(value: Any, known: tuple[str, ...], masking: bool) -> Any:
    if isinstance(value, dict):
        return {key: _redact_item(key, item, known, masking) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(item, known, masking) for item in value)
    if isinstance(value, str):
        text = _scrub(value, known)
        return _mask_known_external_ids(text) if masking else text
    return value


def _redact_item(key: Any, item: Any, known: tuple[str, ...], masking: bool) -> Any:
    if not isinstance(key, str) or item in (None, ""):
        return _redact(item, known, masking)
    if SECRET_KEY.search(key) and not (isinstance(item, str) and _REDACTED.match(item)):
        return fingerprint(item)
    if masking and EXTERNAL_ID_KEY.match(key) and isinstance(item, str):
        return mask(item)
    return _redact(item, known, masking)


def _mask_known_external_ids(text: str) -> str:
    for value in sorted(_State.external_ids, key=len, reverse=True):
        if value in text:
            text = text.replace(value, mask(value))
    return text


def redact_output(value: Any) -> Any:
    """A structure as an artefact may show it: secrets redacted, ExternalIds masked unless shown."""
    return redact(value, mask_external_ids=True)


def redact_text(text: str) -> str:
    """A line as the harness may print it: secrets redacted, ExternalIds masked unless shown."""
    text = scrub_text(text)
    return text if _State.show_external_ids else _mask_known_external_ids(text)
