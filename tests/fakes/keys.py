"""Throwaway keys for tests that sign in the way real services want (GitHub Apps, Google
service accounts)."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


# Where Google's service accounts get their access tokens (the Drive fake answers there).
TOKEN_URI = "https://oauth2.googleapis.com/token"


def service_account_file(folder: Path) -> Path:
    """A Google service account's JSON key in `folder`, with a fresh private key."""
    path = folder / "drive-sa.json"
    info = {
        "type": "service_account",
        "project_id": "acme-pmsync",
        "private_key_id": "0123456789abcdef",
        "private_key": rsa_private_key_pem(),
        "client_email": "pmsync@acme-pmsync.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": TOKEN_URI,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return path
