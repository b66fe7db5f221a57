"""Which registry can do what, measured on the live registry rather than recited.

`probe` pushes a tiny throwaway image (a config and a manifest, no layer) into a scratch
repository ``registry-lab-probe/…``, tries each operation on it, then cleans up what the
registry lets it delete. Each answer comes with how it was measured.

```python
from registry_lab.capabilities import probe
probe(lab.registry.client)      # capacité | résultat | comment on l'a mesuré
```
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass
from html import escape

from .errors import RegistryAPIError, RegistryError
from .french import format_number, format_size
from .manifests import OCI_CONFIG, OCI_MANIFEST
from .registry import RegistryClient
from .tables import html_table, text_table

__all__ = ["PROBE_REPOSITORY", "Capabilities", "Measurement", "probe"]

#: Where the probe pushes its throwaway image (a second repository receives the mount).
PROBE_REPOSITORY = "registry-lab-probe/sonde"
#: The page size asked of the catalog: larger than any limit met in practice.
LARGE_PAGE = 10_000
_TAG = "sonde"


def _yes_no(value: bool | None) -> str:
    return {True: "oui", False: "non", None: "non mesuré"}[value]


def _why(exc: RegistryAPIError) -> str:
    return f"HTTP {exc.status}" + (f" {exc.code}" if exc.code else "")


@dataclass(frozen=True)
class Measurement:
    """One capability: its value, the result in words, and how it was measured."""

    key: str
    label: str
    value: bool | int | str | None
    result: str
    method: str

    def row(self) -> list[str]:
        return [self.label, self.result, self.method]


@dataclass(frozen=True)
class Capabilities:
    """What one registry can do; shows itself as a French table."""

    url: str
    measurements: tuple[Measurement, ...]
    notes: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> bool | int | str | None:
        for measurement in self.measurements:
            if measurement.key == key:
                return measurement.value
        raise KeyError(key)

    @property
    def api_version(self) -> str | None:
        value = self["api_version"]
        return value if isinstance(value, str) else None

    @property
    def delete_enabled(self) -> bool | None:
        return self._bool("delete")

    @property
    def tag_delete(self) -> bool | None:
        return self._bool("tag_delete")

    @property
    def referrers(self) -> bool | None:
        return self._bool("referrers")

    @property
    def catalog_page_limit(self) -> int | None:
        """The largest ``n`` the catalog serves; None when no limit showed up to 10 000."""
        value = self["catalog_page_limit"]
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def cross_repo_mount(self) -> bool | None:
        return self._bool("mount")

    @property
    def chunked_upload(self) -> bool | None:
        return self._bool("chunked_upload")

    def _bool(self, key: str) -> bool | None:
        value = self[key]
        return value if isinstance(value, bool) else None

    @property
    def caption(self) -> str:
        return f"Capacités du registry {self.url}"

    _HEADERS = ("capacité", "résultat", "comment on l'a mesuré")

    def __str__(self) -> str:
        table = text_table(self._HEADERS, [m.row() for m in self.measurements])
        notes = "".join(f"\n{note}" for note in self.notes)
        return f"{self.caption}\n{table}{notes}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        table = html_table(
            self._HEADERS, [m.row() for m in self.measurements], caption=self.caption
        )
        notes = "".join(f"<p>{escape(note)}</p>" for note in self.notes)
        return table + notes


class _Probe:
    """The measurements of one `probe` run, in the order they are taken."""

    def __init__(self, client: RegistryClient, repository: str) -> None:
        self.client = client
        self.repository = repository
        self.mount_repository = f"{repository}-montage"
        self.results: list[Measurement] = []
        self.notes: list[str] = []

    def add(
        self, key: str, label: str, value: bool | int | str | None, result: str, method: str
    ) -> None:
        self.results.append(Measurement(key, label, value, result, method))

    def skipped(self, reason: str) -> None:
        for key, label in (
            ("chunked_upload", "envoi par morceaux (PATCH)"),
            ("mount", "montage entre dépôts"),
            ("referrers", "API referrers (OCI 1.1)"),
            ("tag_delete", "suppression d'un tag seul"),
            ("delete", "suppression d'un manifeste"),
        ):
            self.add(key, label, None, "non mesuré", reason)

    def api_version(self) -> None:
        ping = self.client.ping()
        version = ping.api_version
        result = version or "absente"
        if ping.auth_required:
            result += " (authentification demandée)"
        self.add(
            "api_version",
            "version de l'API",
            version,
            result,
            f"GET /v2/ → {ping.status}, en-tête Docker-Distribution-API-Version",
        )

    def push(self) -> tuple[str, str] | None:
        """Push the throwaway image; ``(config digest, manifest digest)``, None if refused."""
        nonce = secrets.token_hex(8)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": []},
                "history": [{"created_by": f"registry_lab : sonde {nonce}", "empty_layer": True}],
            }
        ).encode()
        half = len(config) // 2 + 1
        method = (
            "POST puis 2 PATCH (Content-Range) et PUT d'une configuration de "
            f"{format_size(len(config))} dans {self.repository}"
        )
        try:
            config_digest = self.client.upload_blob(self.repository, config, chunk_size=half)
            self.add("chunked_upload", "envoi par morceaux (PATCH)", True, "oui", method)
        except RegistryAPIError as exc:
            self.add(
                "chunked_upload", "envoi par morceaux (PATCH)", False, f"non ({_why(exc)})", method
            )
            try:
                config_digest = self.client.upload_blob(self.repository, config)
            except RegistryAPIError as again:
                self.results.pop()
                self.skipped(f"impossible de pousser l'image de sonde ({_why(again)})")
                return None
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [],
        }
        try:
            digest = self.client.put_manifest(self.repository, _TAG, manifest)
        except RegistryAPIError as exc:
            self.results.pop()
            self.skipped(f"impossible de pousser le manifeste de sonde ({_why(exc)})")
            return None
        return config_digest, digest

    def mount(self, config_digest: str) -> None:
        method = f"POST /v2/{self.mount_repository}/blobs/uploads/?mount=…&from={self.repository}"
        mounted = self.client.mount_blob(self.mount_repository, config_digest, self.repository)
        result = "oui (201 Created)" if mounted else "non (202 : un envoi ordinaire commence)"
        self.add("mount", "montage entre dépôts", mounted, result, method)

    def referrers(self, digest: str) -> None:
        method = f"GET /v2/{self.repository}/referrers/<empreinte du manifeste>"
        try:
            self.client.referrers(self.repository, digest)
        except RegistryAPIError as exc:
            self.add("referrers", "API referrers (OCI 1.1)", False, f"non ({_why(exc)})", method)
        else:
            self.add("referrers", "API referrers (OCI 1.1)", True, "oui (200)", method)

    def tag_delete(self) -> None:
        method = f"DELETE /v2/{self.repository}/manifests/{_TAG} (un tag, pas une empreinte)"
        try:
            self.client.delete_manifest(self.repository, _TAG)
        except RegistryAPIError as exc:
            self.add("tag_delete", "suppression d'un tag seul", False, f"non ({_why(exc)})", method)
        else:
            self.add("tag_delete", "suppression d'un tag seul", True, "oui (202)", method)

    def delete(self, digest: str) -> bool:
        method = f"DELETE /v2/{self.repository}/manifests/<empreinte> du manifeste de sonde"
        try:
            self.client.delete_manifest(self.repository, digest)
        except RegistryAPIError as exc:
            self.add("delete", "suppression d'un manifeste", False, f"non ({_why(exc)})", method)
            self.notes.append(
                f"Le manifeste de sonde reste dans {self.repository} : ce registry ne supprime pas."
            )
            return False
        self.add("delete", "suppression d'un manifeste", True, "oui (202 Accepted)", method)
        return True

    def clean(self, config_digest: str) -> None:
        """Unlink the probe's config blob from both scratch repositories (best effort)."""
        for repository in (self.repository, self.mount_repository):
            with contextlib.suppress(RegistryError):
                self.client.delete_blob(repository, config_digest)
        self.notes.append(
            f"Les dépôts {self.repository} et {self.mount_repository} restent au catalogue "
            "(l'API ne supprime pas un dépôt) ; le ramasse-miettes libère leurs blobs."
        )

    def catalog_limit(self) -> None:
        label = "taille maximale d'une page du catalogue"
        try:
            names, link = self.client.catalog_page(LARGE_PAGE)
        except RegistryAPIError as exc:
            limit = self._largest_page()
            self.add(
                "catalog_page_limit",
                label,
                limit,
                f"{format_number(limit)} (au-delà : {_why(exc)})",
                f"GET /v2/_catalog?n={LARGE_PAGE} refusé, puis dichotomie sur n",
            )
            return
        method = f"GET /v2/_catalog?n={LARGE_PAGE} : dépôts comptés, en-tête Link lu"
        if link:
            self.add(
                "catalog_page_limit",
                label,
                len(names),
                f"{len(names)} (le registry coupe la page et donne un Link)",
                method,
            )
        else:
            self.add(
                "catalog_page_limit",
                label,
                None,
                f"aucune limite atteinte ({len(names)} dépôt(s) en une page)",
                method,
            )

    def _largest_page(self) -> int:
        """The largest ``n`` the catalog accepts, by bisection between 1 and 10 000."""
        accepted, refused = 0, LARGE_PAGE
        while refused - accepted > 1:
            middle = (accepted + refused) // 2
            try:
                self.client.catalog_page(middle)
            except RegistryAPIError:
                refused = middle
            else:
                accepted = middle
        return accepted


def probe(client: RegistryClient, repository: str = PROBE_REPOSITORY) -> Capabilities:
    """Measure what the registry behind ``client`` can do; needs the right to push.

    ```python
    capabilities = probe(RegistryClient("http://127.0.0.1:5000"))
    capabilities.delete_enabled        # True on the lab's registry
    ```
    """
    run = _Probe(client, repository)
    run.api_version()
    pushed = run.push()
    if pushed is not None:
        config_digest, digest = pushed
        run.mount(config_digest)
        run.referrers(digest)
        run.tag_delete()
        if run.delete(digest):
            run.clean(config_digest)
    run.catalog_limit()
    return Capabilities(client.base_url, tuple(run.results), tuple(run.notes))
