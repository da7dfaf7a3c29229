"""connectors.easypost.signature: EasyPost's published test vector."""

from connectors.easypost.signature import easypost_signature, easypost_signature_valid

from .easypost import SECRET, SIGNED, VECTOR


def test_signature_matches_the_published_test_vector():
    body = SIGNED.read_bytes()
    assert len(body) == 539
    assert easypost_signature(body=body, secret=SECRET) == VECTOR
    assert easypost_signature(body=body, secret="se\u0301cret") == VECTOR  # decomposed form, same key
    assert easypost_signature_valid(
        body=body, header=VECTOR.upper().replace("HMAC-SHA256-HEX", "hmac-sha256-hex"), secret=SECRET
    )
    assert not easypost_signature_valid(body=body + b" ", header=VECTOR, secret=SECRET)
    assert not easypost_signature_valid(body=body, header=VECTOR, secret="")
