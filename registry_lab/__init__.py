"""registry_lab : un labo Jupyter, en français, sur les images, couches et registries Docker.

```python
from registry_lab import Lab
lab = Lab.up()
```
"""

from __future__ import annotations

from .auth import RegistryAuth
from .capabilities import Capabilities
from .commands import CommandOutput
from .copying import CopyReport
from .doctor import Check, DoctorReport, diagnose
from .errors import (
    BlobUnknownError,
    DaemonDownError,
    DaemonError,
    DaemonStartError,
    DeniedError,
    DigestInvalidError,
    DigestMismatchError,
    DockerCommandError,
    ImageBuildError,
    InvalidReferenceError,
    LabError,
    LabNotRunningError,
    ManifestUnknownError,
    MissingBinaryError,
    NameUnknownError,
    NotRootError,
    PortBusyError,
    RegistryAPIError,
    RegistryDownError,
    RegistryError,
    RegistryLabError,
    RegistryStartError,
    StateDirError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedError,
)
from .exchanges import Transcript
from .hosts import DockerHost
from .images import BASE_IMAGE
from .lab import Lab
from .manifests import Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform
from .notebook import install_error_display
from .reference import Reference, parse_reference
from .registry import RegistryClient
from .services import RegistryService
from .status import ComponentStatus, LabStatus

__version__ = "0.1.0"

install_error_display()

__all__ = [
    "BASE_IMAGE",
    "BlobUnknownError",
    "Capabilities",
    "Check",
    "CommandOutput",
    "ComponentStatus",
    "CopyReport",
    "DaemonDownError",
    "DaemonError",
    "DaemonStartError",
    "DeniedError",
    "Descriptor",
    "DigestInvalidError",
    "DigestMismatchError",
    "DockerCommandError",
    "DockerHost",
    "DoctorReport",
    "ImageBuildError",
    "ImageConfig",
    "ImageIndex",
    "ImageManifest",
    "InvalidReferenceError",
    "Lab",
    "LabError",
    "LabNotRunningError",
    "LabStatus",
    "ManifestUnknownError",
    "MissingBinaryError",
    "NameUnknownError",
    "NotRootError",
    "Platform",
    "PortBusyError",
    "Reference",
    "RegistryAPIError",
    "RegistryAuth",
    "RegistryClient",
    "RegistryDownError",
    "RegistryError",
    "RegistryLabError",
    "RegistryService",
    "RegistryStartError",
    "StateDirError",
    "TooManyRequestsError",
    "Transcript",
    "UnauthorizedError",
    "UnsupportedError",
    "__version__",
    "diagnose",
    "install_error_display",
    "parse_reference",
]
