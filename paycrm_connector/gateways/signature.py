"""HMAC-SHA256 webhook signatures in Stripe's header format: ``t=<ts>,v1=<hex>``.

Used by the demo gateway (which signs its own events) and by tests. Several
``v1`` entries may be present while a secret is rotated: any match is accepted.
"""

import hashlib
import hmac
import re
import time

from .. import const

# ASCII only: str.isdigit() also takes "²", which int() refuses, and
# hmac.compare_digest() raises on non-ASCII text.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"[0-9a-fA-F]{1,128}")


class SignatureError(Exception):
    """The payload is not proven to come from the gateway."""


def compute(payload, secret, timestamp):
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(payload, secret, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={compute(payload, secret, timestamp)}"


def parse_header(value):
    """Return ``(timestamp, [signatures])``; malformed input raises.

    One timestamp only: Stripe's SDK reads the first, a naive parser the last,
    and both must check the one that was signed.
    """
    timestamp, signatures = None, []
    for part in (value or "").split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(item):
                raise SignatureError("malformed signature header")
            timestamp = int(item)
        elif key == "v1":
            if not _HEX.fullmatch(item):
                raise SignatureError("malformed signature header")
            signatures.append(item)
    if timestamp is None or not signatures:
        raise SignatureError("malformed signature header")
    return timestamp, signatures


def check_timestamp(timestamp):
    """Refuse a signed timestamp more than the tolerance away from now, either
    way: a signature dated in the future could be replayed until then."""
    now, tolerance = time.time(), const.WEBHOOK_TOLERANCE_SECONDS
    if timestamp < now - tolerance:
        raise SignatureError("timestamp too old: outside the tolerance window")
    if timestamp > now + tolerance:
        raise SignatureError("timestamp in the future: outside the tolerance window")


def verify(payload, header_value, secret):
    if not secret:
        raise SignatureError("no webhook secret configured")
    timestamp, signatures = parse_header(header_value)
    check_timestamp(timestamp)
    expected = compute(payload, secret, timestamp)
    if not any(hmac.compare_digest(expected, sig) for sig in signatures):
        raise SignatureError("signature mismatch")
    return timestamp
