"""Field encryption: AES-256-GCM tokens bound to table/column/row, key ids, blind index."""

from __future__ import annotations

import base64

import pytest

from app.security import crypto
from app.security.crypto import SM, KeyError_, Keyring, aad_for, parse_key_list

K1 = bytes(range(32))
K2 = bytes(range(32, 64))
BLIND = b"blind-index-key-for-unit-tests!!"
AAD = aad_for("student", "id_number_enc", "0123456789abcdef0123456789abcdef")
ID = "11010519491231002X"


def ring(active: str = "k1", blind: bytes = BLIND, **keys: bytes) -> Keyring:
    return Keyring(keys=keys or {"k1": K1, "k2": K2}, active=active, blind_key=blind)


def test_encrypted_value_decrypts_to_the_original_text():
    r = ring()
    for text in (ID, "湖南省长沙市芙蓉区五一大道12号3栋101室", "13812345678", "a"):
        assert r.decrypt(r.encrypt(text, AAD), AAD) == text


def test_token_names_format_version_and_active_key_id():
    token = ring(active="k2").encrypt(ID, AAD)
    prefix, kid, body = token.split(":", 2)
    assert (prefix, kid) == ("v1", "k2")
    raw = base64.urlsafe_b64decode(body)
    # 12-byte nonce + ciphertext as long as the UTF-8 plaintext + 16-byte GCM tag
    assert len(raw) == crypto.NONCE_BYTES + len(ID.encode()) + 16
    assert ID not in token
    assert Keyring.key_id_of(token) == "k2"


def test_every_encryption_uses_a_fresh_nonce():
    r = ring()
    tokens = {r.encrypt(ID, AAD) for _ in range(20)}
    assert len(tokens) == 20
    nonces = {base64.urlsafe_b64decode(t.split(":", 2)[2])[: crypto.NONCE_BYTES] for t in tokens}
    assert len(nonces) == 20


@pytest.mark.parametrize(
    "other_aad",
    [
        aad_for("family_member", "id_number_enc", "0123456789abcdef0123456789abcdef"),  # table
        aad_for("student", "phone_enc", "0123456789abcdef0123456789abcdef"),  # column
        aad_for("student", "id_number_enc", "fedcba9876543210fedcba9876543210"),  # row uid
        b"",
    ],
    ids=["other-table", "other-column", "other-row", "no-aad"],
)
def test_ciphertext_moved_to_another_table_column_or_row_fails_to_decrypt(other_aad):
    r = ring()
    token = r.encrypt(ID, AAD)
    with pytest.raises(KeyError_):
        r.decrypt(token, other_aad)


def _flip_body_char(token: str) -> str:
    prefix, kid, body = token.split(":", 2)
    i = len(body) // 2
    return f"{prefix}:{kid}:{body[:i]}{'A' if body[i] != 'A' else 'B'}{body[i + 1:]}"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_flip_body_char, id="one-body-character-changed"),
        pytest.param(lambda t: t.replace("v1:k1:", "v1:k2:"), id="relabelled-to-other-key"),
        pytest.param(lambda t: t.replace("v1:", "v2:", 1), id="unknown-format-version"),
        pytest.param(lambda t: "not a token", id="plain-text"),
        pytest.param(lambda t: "v1:k1", id="no-body"),
        pytest.param(lambda t: t[:-4], id="truncated-by-a-base64-quantum"),
    ],
)
def test_tampered_token_is_refused_with_key_error(tamper):
    r = ring()
    token = r.encrypt(ID, AAD)
    with pytest.raises(KeyError_):
        r.decrypt(tamper(token), AAD)


@pytest.mark.parametrize("cut", [1, 2, "all"], ids=["last-char-lost", "two-chars-lost", "empty-body"])
def test_token_truncated_by_a_column_limit_is_refused_with_key_error(cut):
    r = ring()
    token = r.encrypt(ID, AAD)
    damaged = "v1:k1:" if cut == "all" else token[:-cut]
    with pytest.raises(KeyError_):
        r.decrypt(damaged, AAD)


def test_token_under_a_key_id_that_is_not_configured_is_refused():
    token = ring(active="k2").encrypt(ID, AAD)
    only_k1 = Keyring(keys={"k1": K1}, active="k1", blind_key=BLIND)
    with pytest.raises(KeyError_, match="k2"):
        only_k1.decrypt(token, AAD)


def test_old_tokens_still_decrypt_after_another_key_becomes_active():
    token = ring(active="k1").encrypt(ID, AAD)
    assert ring(active="k2").decrypt(token, AAD) == ID


@pytest.mark.parametrize("length", [0, 16, 24, 31, 33, 64])
def test_encryption_key_must_be_exactly_32_bytes(length):
    with pytest.raises(KeyError_, match="32 bytes"):
        Keyring(keys={"k1": b"\x01" * length}, active="k1", blind_key=BLIND)


def test_active_key_must_be_configured():
    with pytest.raises(KeyError_, match="active"):
        Keyring(keys={"k1": K1}, active="k9", blind_key=BLIND)


@pytest.mark.parametrize("kid", ["", "k:1"])
def test_key_id_must_be_non_empty_and_free_of_colons(kid):
    with pytest.raises(KeyError_):
        Keyring(keys={kid: K1}, active=kid, blind_key=BLIND)


def test_blind_index_key_must_be_at_least_16_bytes():
    with pytest.raises(KeyError_, match="blind"):
        Keyring(keys={"k1": K1}, active="k1", blind_key=b"short")


def test_blind_index_is_deterministic_and_independent_of_the_encryption_key():
    a = ring(active="k1").blind_index("id_number", ID)
    b = ring(active="k2").blind_index("id_number", ID)
    assert a == b
    assert len(a) == 64 and int(a, 16) >= 0
    assert ID not in a


def test_blind_index_depends_on_the_blind_key():
    other = ring(blind=b"another-blind-index-key-32-bytes")
    assert ring().blind_index("id_number", ID) != other.blind_index("id_number", ID)


def test_blind_index_differs_by_purpose_and_by_value():
    r = ring()
    assert r.blind_index("id_number", ID) != r.blind_index("phone", ID)
    assert r.blind_index("id_number", ID) != r.blind_index("id_number", "110105194912310021")


def test_bytes_round_trip_and_carry_the_key_id():
    r = ring(active="k2")
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    aad = aad_for("student", "photo_enc", "abc")
    blob = r.encrypt_bytes(photo, aad)
    assert photo not in blob
    assert Keyring.key_id_of(blob) == "k2"
    assert r.decrypt_bytes(blob, aad) == photo
    assert r.encrypt_bytes(photo, aad) != blob  # fresh nonce


def test_bytes_bound_to_another_row_fail_to_decrypt():
    r = ring()
    blob = r.encrypt_bytes(b"photo", aad_for("student", "photo_enc", "row-a"))
    with pytest.raises(KeyError_):
        r.decrypt_bytes(blob, aad_for("student", "photo_enc", "row-b"))


def test_bytes_under_an_unknown_key_id_are_refused():
    blob = ring(active="k2").encrypt_bytes(b"photo", AAD)
    with pytest.raises(KeyError_):
        Keyring(keys={"k1": K1}, active="k1", blind_key=BLIND).decrypt_bytes(blob, AAD)


def test_key_list_is_parsed_into_ids_and_raw_keys():
    spec = f" k1:{base64.b64encode(K1).decode()} , k2:{base64.b64encode(K2).decode()},"
    assert parse_key_list(spec) == ({"k1": K1, "k2": K2}, frozenset())


def test_key_list_keeps_the_order_so_the_first_key_is_the_default_active_one():
    spec = f"b:{base64.b64encode(K2).decode()},a:{base64.b64encode(K1).decode()}"
    assert list(parse_key_list(spec)[0]) == ["b", "a"]


def test_key_list_entry_without_an_id_is_refused():
    with pytest.raises(KeyError_):
        parse_key_list(base64.b64encode(K1).decode())


def test_generated_keys_are_32_random_bytes():
    a, b = crypto.new_key(), crypto.new_key()
    assert len(a) == len(b) == 32 and a != b
    assert crypto.unb64(crypto.b64(a)) == a


def test_an_opener_decrypts_as_decrypt_does_under_each_key_and_profile():
    sm = Keyring(keys={"s1": bytes(16), "k1": K1}, active="s1", blind_key=BLIND, profile=SM, sm4=frozenset({"s1"}))
    tokens = [ring(active="k1").encrypt(ID, AAD), ring(active="k2").encrypt("湖南", AAD), sm.encrypt(ID, AAD)]
    both = Keyring(keys={"k1": K1, "k2": K2, "s1": bytes(16)}, active="k1", blind_key=BLIND, sm4=frozenset({"s1"}))
    open_ = both.opener()
    for _ in range(2):  # the first of each key through decrypt, the next ones on the kept cipher
        assert [open_(t, AAD) for t in tokens] == [both.decrypt(t, AAD) for t in tokens] == [ID, "湖南", ID]


@pytest.mark.parametrize("tamper", [
    pytest.param(_flip_body_char, id="one-body-character-changed"),
    pytest.param(lambda t: t.replace("v1:k1:", "v1:k2:"), id="relabelled-to-other-key"),
    pytest.param(lambda t: t.replace("v1:k1:", "sm4:k1:"), id="relabelled-to-other-algorithm"),
    pytest.param(lambda t: "not a token", id="plain-text"),
    pytest.param(lambda t: t[:-4], id="truncated"),
    pytest.param(lambda t: "v1:k1:x:" + t.split(":", 2)[2], id="a-colon-more"),
])
def test_an_opener_refuses_what_decrypt_refuses_once_its_key_is_known(tamper):
    r = ring()
    open_ = r.opener()
    assert open_(r.encrypt(ID, AAD), AAD) == ID  # k1's cipher kept
    with pytest.raises(KeyError_):
        open_(tamper(r.encrypt(ID, AAD)), AAD)
    with pytest.raises(KeyError_):
        open_(r.encrypt(ID, AAD), aad_for("student", "phone_enc", "0123456789abcdef0123456789abcdef"))
