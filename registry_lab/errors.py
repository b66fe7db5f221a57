"""The one exception hierarchy of registry_lab.

Every error carries a French ``message`` (what went wrong) and a French ``hint``
(how to fix it), so that the CLI and the notebooks can show both without a traceback.

```
RegistryLabError
 ├── InvalidReferenceError    an image reference that breaks the distribution grammar
 ├── LabError                 the lab itself: state folder, ports, prerequisites
 │    ├── NotRootError
 │    ├── MissingBinaryError
 │    ├── StateDirError
 │    ├── PortBusyError
 │    ├── NetworkSetupError    the lab's network namespace and veth pair
 │    ├── LabNotRunningError
 │    └── CertificateError     a certificate or key of the lab: unreadable, or not the CA's
 ├── DaemonError              a Docker host (dockerd) or the docker CLI
 │    ├── DaemonStartError
 │    ├── DaemonDownError
 │    ├── DockerCommandError
 │    └── ImageBuildError
 └── RegistryError            a registry: the lab's process, or any registry the client talks to
      ├── RegistryStartError
      ├── RegistryDownError    nothing answers (connection refused, timeout, DNS)
      ├── TLSError             HTTP against HTTPS, a certificate nobody trusts
      ├── DigestMismatchError  content whose sha256 is not the digest announced
      └── RegistryAPIError     the registry answered with an error (its code, HTTP status)
           ├── UnauthorizedError     UNAUTHORIZED (401)
           ├── DeniedError           DENIED (403)
           ├── TooManyRequestsError  TOOMANYREQUESTS (429)
           ├── UnsupportedError      UNSUPPORTED (405: for example delete disabled)
           ├── NameUnknownError      NAME_UNKNOWN
           ├── ManifestUnknownError  MANIFEST_UNKNOWN
           ├── BlobUnknownError      BLOB_UNKNOWN
           └── DigestInvalidError    DIGEST_INVALID
```
"""

from __future__ import annotations

import errno

__all__ = [
    "BlobUnknownError",
    "CertificateError",
    "DaemonDownError",
    "DaemonError",
    "DaemonStartError",
    "DeniedError",
    "DigestInvalidError",
    "DigestMismatchError",
    "DockerCommandError",
    "ImageBuildError",
    "InvalidReferenceError",
    "LabError",
    "LabNotRunningError",
    "ManifestUnknownError",
    "MissingBinaryError",
    "NameUnknownError",
    "NetworkSetupError",
    "NotRootError",
    "PortBusyError",
    "RegistryAPIError",
    "RegistryDownError",
    "RegistryError",
    "RegistryLabError",
    "RegistryStartError",
    "StateDirError",
    "TLSError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnsupportedError",
    "describe_os_error",
]


_OS_ERRORS_FR = {
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EEXIST: "un fichier porte déjà ce nom",
}


def describe_os_error(exc: OSError) -> str:
    """A system error in French words (``errno``'s own text when it has no translation)."""
    return _OS_ERRORS_FR.get(exc.errno or 0, exc.strerror or str(exc))


class RegistryLabError(Exception):
    """Root of every error raised by registry_lab: a French message and a hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nPiste : {self.hint}"
        return self.message

    def _repr_html_(self) -> str:
        from html import escape

        hint = f"<br><b>Piste :</b> {escape(self.hint)}" if self.hint else ""
        return (
            '<div style="border-left:4px solid #c0392b;padding:4px 8px">'
            f"<b>{escape(type(self).__name__)}</b> : {escape(self.message)}{hint}</div>"
        )


class InvalidReferenceError(RegistryLabError):
    """An image reference that breaks a rule of the distribution grammar (the rule is named)."""

    def __init__(self, message: str, hint: str = "", *, reference: str = "") -> None:
        super().__init__(message, hint)
        self.reference = reference


class LabError(RegistryLabError):
    """The lab as a whole: prerequisites, state folder, ports."""


class NotRootError(LabError):
    """Starting dockerd needs root."""


class MissingBinaryError(LabError):
    """A program the lab needs is not installed."""

    def __init__(
        self, message: str, hint: str = "", *, binary: str = "", package: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.binary = binary
        self.package = package


class StateDirError(LabError):
    """The state folder cannot be created or written, or its paths are too long."""


class PortBusyError(LabError):
    """A TCP port the lab wants on 127.0.0.1 is already taken."""

    def __init__(self, message: str, hint: str = "", *, port: int = 0, holder: str = "") -> None:
        super().__init__(message, hint)
        self.port = port
        self.holder = holder


class NetworkSetupError(LabError):
    """The lab's network namespace or veth pair could not be made or removed."""


class LabNotRunningError(LabError):
    """An action needs the lab, and the lab is not running."""


class DaemonError(RegistryLabError):
    """A Docker host of the lab (its dockerd) or the docker CLI."""


class DaemonStartError(DaemonError):
    """dockerd did not start; the message ends with the end of its log."""


class DaemonDownError(DaemonError):
    """dockerd does not answer on its socket."""


class DockerCommandError(DaemonError):
    """A ``docker …`` command run against a lab host failed."""

    def __init__(
        self, message: str, hint: str = "", *, returncode: int = 1, output: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.returncode = returncode
        self.output = output


class ImageBuildError(DaemonError):
    """Building an image on a lab host failed; the message ends with the build's output."""


class RegistryError(RegistryLabError):
    """The registry (CNCF Distribution)."""


class RegistryStartError(RegistryError):
    """The registry process did not start; the message ends with the end of its log."""


class RegistryDownError(RegistryError):
    """The registry does not answer."""


class TLSError(RegistryError):
    """The secure connection failed: HTTP spoken to an HTTPS client, or an unknown authority."""


class DigestMismatchError(RegistryError):
    """Content received from a registry does not hash to the digest it was asked by."""

    def __init__(
        self, message: str, hint: str = "", *, expected: str = "", actual: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.expected = expected
        self.actual = actual


class RegistryAPIError(RegistryError):
    """The registry answered with an error: HTTP ``status`` and the API's error ``code``."""

    def __init__(
        self, message: str, hint: str = "", *, status: int = 0, code: str = "", detail: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.detail = detail


class UnauthorizedError(RegistryAPIError):
    """UNAUTHORIZED: credentials missing or wrong."""


class DeniedError(RegistryAPIError):
    """DENIED: authenticated, but not allowed to do this."""


class TooManyRequestsError(RegistryAPIError):
    """TOOMANYREQUESTS: the registry's rate limit is reached (HTTP 429)."""


class UnsupportedError(RegistryAPIError):
    """UNSUPPORTED: the registry does not allow this operation (for example delete)."""


class NameUnknownError(RegistryAPIError):
    """NAME_UNKNOWN: no such repository."""


class ManifestUnknownError(RegistryAPIError):
    """MANIFEST_UNKNOWN: no such tag or manifest digest."""


class BlobUnknownError(RegistryAPIError):
    """BLOB_UNKNOWN: no such blob in this repository."""


class DigestInvalidError(RegistryAPIError):
    """DIGEST_INVALID: the registry found that uploaded content does not match its digest."""


class CertificateError(LabError):
    """A certificate or private key of the lab: missing, unreadable, or a request it cannot meet."""
