"""The 国密 profile: SM4-GCM tokens and blobs, HMAC-SM3 blind index, values of either profile read
under both, every value naming its algorithm; the primitives checked against the standards' examples."""

from __future__ import annotations

import base64
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.security import crypto
from app.security.crypto import SM, STANDARD, KeyError_, Keyring, aad_for, parse_key_list, parse_key_text

AES = bytes(range(32))
SM4 = bytes(range(100, 116))
BLIND = b"blind-index-key-for-unit-tests!!"
AAD = aad_for("student", "id_number_enc", "0123456789abcdef0123456789abcdef")
ID = "11010519491231002X"
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def ring(profile: str = SM) -> Keyring:
    """Both keys configured; the profile decides which one is active."""
    return Keyring(keys={"k1": AES, "s1": SM4}, active="s1" if profile == SM else "k1",
                   blind_key=BLIND, profile=profile, sm4=frozenset({"s1"}))


# -- the primitives are the real ones -------------------------------------------------------------

def test_sm4_through_cryptography_gives_the_gbt_32907_example_block():
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm3_through_cryptography_gives_the_gbt_32905_example_digest():
    digest = hashes.Hash(hashes.SM3())
    digest.update(b"abc")
    assert digest.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_an_sm4_token_is_sm4_gcm_with_the_row_as_associated_data():
    """Opened with cryptography's SM4 and GCM directly: nonce, then ciphertext, then the 16-byte tag."""
    prefix, kid, body = ring().encrypt(ID, AAD).split(":", 2)
    raw = base64.urlsafe_b64decode(body)
    nonce, ct, tag = raw[:12], raw[12:-16], raw[-16:]
    decryptor = Cipher(algorithms.SM4(SM4), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(AAD)
    assert (prefix, kid) == ("sm4", "s1")
    assert (decryptor.update(ct) + decryptor.finalize()).decode() == ID


# -- round trips, formats, both ways --------------------------------------------------------------

@pytest.mark.parametrize("text", [ID, "湖南省长沙市芙蓉区五一大道12号3栋101室", "13812345678", "a"])
def test_the_sm_profile_round_trips_text(text):
    r = ring()
    assert r.decrypt(r.encrypt(text, AAD), AAD) == text


def test_the_sm_profile_round_trips_a_photo_in_a_marked_blob():
    r = ring()
    blob = r.encrypt_bytes(PHOTO, AAD)
    assert blob.startswith(b"\x00sm4\x02s1") and PHOTO not in blob
    assert len(blob) == len(b"\x00sm4\x02s1") + 12 + len(PHOTO) + 16
    assert Keyring.key_id_of(blob) == "s1"
    assert r.decrypt_bytes(blob, AAD) == PHOTO


def test_tokens_and_blobs_carry_their_algorithm():
    sm, std = ring(SM), ring(STANDARD)
    assert sm.encrypt(ID, AAD).startswith("sm4:s1:") and std.encrypt(ID, AAD).startswith("v1:k1:")
    assert std.encrypt_bytes(PHOTO, AAD)[:3] == b"\x02k1"
    assert Keyring.key_id_of(sm.encrypt(ID, AAD)) == "s1"


@pytest.mark.parametrize("writer, reader", [(STANDARD, SM), (SM, STANDARD)], ids=["std-read-by-sm", "sm-read-by-std"])
def test_a_value_written_under_one_profile_decrypts_under_the_other(writer, reader):
    token, blob = ring(writer).encrypt(ID, AAD), ring(writer).encrypt_bytes(PHOTO, AAD)
    assert ring(reader).decrypt(token, AAD) == ID
    assert ring(reader).decrypt_bytes(blob, AAD) == PHOTO


@pytest.mark.parametrize("other", [
    aad_for("family_member", "id_number_enc", "0123456789abcdef0123456789abcdef"),
    aad_for("student", "phone_enc", "0123456789abcdef0123456789abcdef"),
    aad_for("student", "id_number_enc", "fedcba9876543210fedcba9876543210"),
    b"",
], ids=["other-table", "other-column", "other-row", "no-aad"])
def test_an_sm4_value_under_a_wrong_aad_fails(other):
    r = ring()
    with pytest.raises(KeyError_, match="altered"):
        r.decrypt(r.encrypt(ID, AAD), other)
    with pytest.raises(KeyError_, match="altered"):
        r.decrypt_bytes(r.encrypt_bytes(PHOTO, AAD), other)


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda t: t.replace("sm4:s1:", "v1:s1:"), id="sm4-token-relabelled-aes"),
    pytest.param(lambda t: t.replace("sm4:s1:", "sm4:k1:"), id="sm4-token-pointed-at-an-aes-key"),
    pytest.param(lambda t: t[:-2], id="tag-cut"),
    pytest.param(lambda t: "sm4:s1:" + t[7:-4] + ("AAAA" if t[-4:] != "AAAA" else "BBBB"), id="tag-changed"),
])
def test_a_tampered_sm4_token_is_refused(tamper):
    r = ring()
    with pytest.raises(KeyError_):
        r.decrypt(tamper(r.encrypt(ID, AAD)), AAD)


def test_an_aes_blob_relabelled_sm4_is_refused():
    r = ring()
    with pytest.raises(KeyError_, match="algorithm"):
        r.decrypt_bytes(b"\x00sm4" + ring(STANDARD).encrypt_bytes(PHOTO, AAD), AAD)


# -- blind index ----------------------------------------------------------------------------------

def test_the_sm_blind_index_is_hmac_sm3_and_differs_from_sha256():
    sm, std = ring(SM).blind_index("id_number", ID), ring(STANDARD).blind_index("id_number", ID)
    independent = hmac.new(BLIND, f"id_number\x00{ID}".encode(), "sm3").digest()  # hashlib's OpenSSL SM3
    assert sm == "sm3:" + base64.urlsafe_b64encode(independent).decode().rstrip("=")
    assert std == hmac.new(BLIND, f"id_number\x00{ID}".encode(), "sha256").hexdigest()
    assert sm != std and len(sm) == 47 <= 64 and ID not in sm


def test_each_profile_knows_an_index_of_the_other_must_be_redone():
    sm, std = ring(SM), ring(STANDARD)
    assert sm.blind_is_current(sm.blind_index("id_number", ID))
    assert not sm.blind_is_current(std.blind_index("id_number", ID))
    assert std.blind_is_current(std.blind_index("id_number", ID))
    assert not std.blind_is_current(sm.blind_index("id_number", ID))


# -- keys -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [0, 15, 17, 32])
def test_an_sm4_key_must_be_exactly_16_bytes(length):
    with pytest.raises(KeyError_, match="16 bytes"):
        Keyring(keys={"s1": b"\x01" * length}, active="s1", blind_key=BLIND, profile=SM, sm4=frozenset({"s1"}))


@pytest.mark.parametrize("active, profile", [("k1", SM), ("s1", STANDARD)])
def test_the_active_key_must_be_of_the_profiles_kind(active, profile):
    with pytest.raises(KeyError_, match="profile"):
        Keyring(keys={"k1": AES, "s1": SM4}, active=active, blind_key=BLIND, profile=profile,
                sm4=frozenset({"s1"}))


def test_an_unknown_profile_is_refused():
    with pytest.raises(KeyError_, match="'standard' or 'sm'"):
        Keyring(keys={"k1": AES}, active="k1", blind_key=BLIND, profile="sm2")


def test_a_key_list_says_which_keys_are_sm4():
    spec = f"k1:{crypto.b64(AES)}, s1:sm4:{crypto.b64(SM4)}"
    assert parse_key_list(spec) == ({"k1": AES, "s1": SM4}, frozenset({"s1"}))
    assert crypto.key_text(SM4, SM) == f"sm4:{crypto.b64(SM4)}"
    assert parse_key_text(crypto.key_text(SM4, SM)) == (SM4, True)


def test_a_key_of_an_unknown_kind_is_refused():
    with pytest.raises(KeyError_, match="unknown key kind"):
        parse_key_text(f"sm9:{crypto.b64(SM4)}")


def test_new_keys_have_the_profiles_length():
    assert len(crypto.new_key(SM)) == 16 and len(crypto.new_key(STANDARD)) == 32
