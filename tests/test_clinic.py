"""The error clinic's knowledge: each real message is named, with a French why and fix.

The messages are the ones the real docker CLI printed in tests/test_secure.py and in
notebook 07 (Docker Engine 20.10 with the 28.x client); the integration tests reproduce them.
"""

from __future__ import annotations

import pytest

from registry_lab.clinic import SYMPTOMS, attempt, catalogue, diagnose
from registry_lab.commands import CommandOutput
from registry_lab.errors import (
    DeniedError,
    LabError,
    ManifestUnknownError,
    TLSError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedError,
)

MESSAGES = {
    'Get "https://198.18.0.2:5000/v2/": http: server gave HTTP response to HTTPS client': (
        "HTTP ≠ HTTPS",
        TLSError,
    ),
    'Get "https://198.18.0.2:5000/v2/": x509: certificate signed by unknown authority': (
        "x509",
        TLSError,
    ),
    "no basic auth credentials": ("UNAUTHORIZED", UnauthorizedError),
    "Error response from daemon: login attempt to https://198.18.0.2:5000/v2/ failed with "
    "status: 401 Unauthorized": ("UNAUTHORIZED", UnauthorizedError),
    "denied: requested access to the resource is denied": ("DENIED", DeniedError),
    "Error response from daemon: toomanyrequests: You have reached your pull rate limit.": (
        "TOOMANYREQUESTS",
        TooManyRequestsError,
    ),
    "Error response from daemon: manifest for 127.0.0.1:5000/cours/x:1 not found: manifest "
    "unknown: manifest unknown": ("MANIFEST_UNKNOWN", ManifestUnknownError),
}


@pytest.mark.parametrize("message", MESSAGES)
def test_each_real_message_is_named(message: str) -> None:
    code, error = MESSAGES[message]
    output = CommandOutput("hôte A", ("push", "x"), 1, f"The push refers to …\n{message}\n")
    diagnosis = diagnose(output)
    assert diagnosis.code == code
    assert diagnosis.evidence == message
    raised = diagnosis.error()
    assert isinstance(raised, error)
    assert raised.hint and message in raised.message
    html = diagnosis._repr_html_()
    assert "Pourquoi" in html and "Remède" in html


def test_errors_of_the_package_are_named_by_their_class() -> None:
    error = UnsupportedError("DELETE refusé", "activez-le", status=405, code="UNSUPPORTED")
    assert diagnose(error).code == "UNSUPPORTED"


def test_an_unknown_message_is_said_unknown() -> None:
    diagnosis = diagnose("quelque chose d'autre")
    assert diagnosis.symptom is None
    assert "non répertoriée" in str(diagnosis)


def test_attempt_returns_the_error_and_refuses_success() -> None:
    def fails() -> None:
        raise DeniedError("non", "demandez", status=403, code="DENIED")

    assert isinstance(attempt(fails), DeniedError)
    with pytest.raises(LabError):
        attempt(lambda: None)


def test_the_catalogue_lists_every_symptom_in_french() -> None:
    text = str(catalogue())
    for symptom in SYMPTOMS:
        assert symptom.code in text
        assert symptom.why and symptom.fix
