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
    CertificateError,
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
    NetworkSetupError,
    NotRootError,
    PortBusyError,
    RegistryAPIError,
    RegistryDownError,
    RegistryError,
    RegistryLabError,
    RegistryStartError,
    StateDirError,
    TLSError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedError,
)
from .examples import build_example
from .exchanges import Transcript
from .graph import LayerMove, image_stack, lab_layers, layer_dag, mark_and_sweep, transfer
from .hosts import DockerHost
from .images import BASE_IMAGE
from .lab import Lab
from .layer_files import Efficiency, ImageFiles, LayerFiles
from .layers import (
    ContainerLayer,
    ImageLayers,
    LayerStep,
    container_layer,
    image_files,
    image_layers,
    layer_digests,
    registry_files,
    registry_layers,
)
from .maintenance import DeleteResult, GcReport, delete_digest, delete_tag, garbage_collect
from .manifests import Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform
from .notebook import install_error_display
from .reference import Reference, parse_reference
from .registry import RegistryClient
from .registry_log import listen
from .secure import SecureRegistry
from .services import RegistryService
from .status import ComponentStatus, LabStatus
from .storage import StorageTree, SweepPlan, disk_usage, plan_sweep, read_storage
from .transfers import LayerTransfer, TransferReport, pull, push

__version__ = "0.1.0"

install_error_display()

__all__ = [
    "BASE_IMAGE",
    "BlobUnknownError",
    "Capabilities",
    "CertificateError",
    "Check",
    "CommandOutput",
    "ComponentStatus",
    "ContainerLayer",
    "CopyReport",
    "DaemonDownError",
    "DaemonError",
    "DaemonStartError",
    "DeleteResult",
    "DeniedError",
    "Descriptor",
    "DigestInvalidError",
    "DigestMismatchError",
    "DockerCommandError",
    "DockerHost",
    "DoctorReport",
    "Efficiency",
    "GcReport",
    "ImageBuildError",
    "ImageConfig",
    "ImageFiles",
    "ImageIndex",
    "ImageLayers",
    "ImageManifest",
    "InvalidReferenceError",
    "Lab",
    "LabError",
    "LabNotRunningError",
    "LabStatus",
    "LayerFiles",
    "LayerMove",
    "LayerStep",
    "LayerTransfer",
    "ManifestUnknownError",
    "MissingBinaryError",
    "NameUnknownError",
    "NetworkSetupError",
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
    "SecureRegistry",
    "StateDirError",
    "StorageTree",
    "SweepPlan",
    "TLSError",
    "TooManyRequestsError",
    "Transcript",
    "TransferReport",
    "UnauthorizedError",
    "UnsupportedError",
    "__version__",
    "build_example",
    "container_layer",
    "delete_digest",
    "delete_tag",
    "diagnose",
    "disk_usage",
    "garbage_collect",
    "image_files",
    "image_layers",
    "image_stack",
    "install_error_display",
    "lab_layers",
    "layer_dag",
    "layer_digests",
    "listen",
    "mark_and_sweep",
    "parse_reference",
    "plan_sweep",
    "pull",
    "push",
    "read_storage",
    "registry_files",
    "registry_layers",
    "transfer",
]
