"""Stored secrets are Fernet-encrypted with keys from the server configuration, with rotation."""

import hashlib

import pytest
from cryptography.fernet import Fernet

from connector_base.engine.vault import (
    SecretDecryptError,
    Vault,
    VaultKeyInvalid,
    VaultKeyMissing,
    parse_keys,
)

GENERATE_COMMAND = (
    'python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


@pytest.fixture
def old_key():
    return Vault.generate_key()


@pytest.fixture
def new_key():
    return Vault.generate_key()


def test_encrypt_decrypt_round_trip(old_key):
    vault = Vault([old_key])
    token = vault.encrypt("pässword-🔑")
    assert isinstance(token, str), "tokens are stored in text fields"
    assert "pässword" not in token, "the token must not contain the plaintext"
    assert vault.decrypt(token) == "pässword-🔑", "decrypt must give back the exact plaintext"


def test_token_does_not_decrypt_with_a_wrong_key(old_key, new_key):
    token = Vault([old_key]).encrypt("s3cr3t-value")
    with pytest.raises(SecretDecryptError) as caught:
        Vault([new_key]).decrypt(token)
    assert "removed from the rotation list" in str(caught.value), (
        "the message must point at the likely cause: a key removed from the list"
    )


def test_garbage_token_is_a_decrypt_error(old_key):
    for token in ("", "not-a-token", "gAAAAAB-truncated", "é"):
        with pytest.raises(SecretDecryptError):
            Vault([old_key]).decrypt(token)


def test_rotation_keeps_old_secrets_readable_and_rewrites_them(old_key, new_key):
    token = Vault([old_key]).encrypt("api-secret-123")
    rotated_vault = Vault([new_key, old_key])
    assert rotated_vault.decrypt(token) == "api-secret-123", "old key second must still decrypt"
    assert rotated_vault.needs_rotation(token), "a token of the old key needs rotation"

    rotated = rotated_vault.rotate(token)
    assert not rotated_vault.needs_rotation(rotated), "a rotated token is on the primary key"
    assert Vault([new_key]).decrypt(rotated) == "api-secret-123", (
        "after rotation the old key can be dropped from the list"
    )


def test_encrypt_uses_the_first_key(old_key, new_key):
    token = Vault([new_key, old_key]).encrypt("value-xyz")
    assert Vault([new_key]).decrypt(token) == "value-xyz", "the first key must encrypt"
    with pytest.raises(SecretDecryptError):
        Vault([old_key]).decrypt(token)


def test_rotate_of_undecryptable_token_is_a_decrypt_error(old_key, new_key):
    token = Vault([old_key]).encrypt("value-xyz")
    with pytest.raises(SecretDecryptError):
        Vault([new_key]).rotate(token)


def test_parse_keys_first_non_empty_source_wins(old_key, new_key):
    third = Vault.generate_key()
    keys = parse_keys(None, "  , ", f" {new_key},\n{old_key} ", third)
    assert keys == [new_key, old_key], "the configuration option beats the environment variable"
    assert parse_keys(f"{new_key} {old_key}") == [new_key, old_key], "whitespace also separates"


def test_missing_keys_message_says_how_to_fix():
    with pytest.raises(VaultKeyMissing) as caught:
        parse_keys(None, "", False)
    message = str(caught.value)
    for needle in ("connector_encryption_keys", "ODOO_CONNECTOR_KEYS", GENERATE_COMMAND):
        assert needle in message, f"the missing-key message must mention {needle!r}"
    assert "first key encrypts" in message, "the message must explain the key order"
    with pytest.raises(VaultKeyMissing):
        Vault([])


def test_invalid_key_names_its_position_but_never_the_key(old_key):
    bad_key = "this-is-not-a-fernet-key"
    with pytest.raises(VaultKeyInvalid) as caught:
        parse_keys(f"{old_key},{bad_key}")
    message = str(caught.value)
    assert caught.value.position == 2, "the position of the bad key must be reported"
    assert "#2" in message, "the message must say which key is bad"
    assert bad_key not in message and old_key not in message, "keys must never be printed"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__, (
        "the underlying error (which could quote the key) must not be chained"
    )
    with pytest.raises(VaultKeyInvalid):
        Vault([bad_key])


def test_primary_fingerprint_identifies_the_primary_key_safely(old_key, new_key):
    vault = Vault([new_key, old_key])
    fingerprint = vault.primary_fingerprint
    assert fingerprint == hashlib.sha256(new_key.encode()).hexdigest()[:12], (
        "fingerprint is the first 12 hex chars of sha256(primary key)"
    )
    assert fingerprint == Vault([new_key]).primary_fingerprint, "only the primary key counts"
    assert fingerprint != Vault([old_key]).primary_fingerprint, "different keys differ"
    assert new_key not in repr(vault) and old_key not in repr(vault), "repr must not leak keys"


def test_generated_keys_are_valid_and_unique():
    first, second = Vault.generate_key(), Vault.generate_key()
    assert first != second, "generated keys must be random"
    Fernet(first.encode())  # raises if invalid
    assert parse_keys(first) == [first], "a generated key must pass validation"
