"""registry_lab : un labo Jupyter, en français, sur les images, couches et registries Docker.

```python
from registry_lab import Lab
lab = Lab.up()
```
"""

from __future__ import annotations

from .commands import CommandOutput
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
from .hosts import DockerHost
from .images import BASE_IMAGE
from .lab import Lab
from .notebook import install_error_display
from .services import RegistryService
from .status import ComponentStatus, LabStatus

__version__ = "0.1.0"

install_error_display()

__all__ = [
    "BASE_IMAGE",
    "BlobUnknownError",
    "Check",
    "CommandOutput",
    "ComponentStatus",
    "DaemonDownError",
    "DaemonError",
    "DaemonStartError",
    "DeniedError",
    "DigestInvalidError",
    "DigestMismatchError",
    "DockerCommandError",
    "DockerHost",
    "DoctorReport",
    "ImageBuildError",
    "InvalidReferenceError",
    "Lab",
    "LabError",
    "LabNotRunningError",
    "LabStatus",
    "ManifestUnknownError",
    "MissingBinaryError",
    "NameUnknownError",
    "NotRootError",
    "PortBusyError",
    "RegistryAPIError",
    "RegistryDownError",
    "RegistryError",
    "RegistryLabError",
    "RegistryService",
    "RegistryStartError",
    "StateDirError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnsupportedError",
    "__version__",
    "diagnose",
    "install_error_display",
]
