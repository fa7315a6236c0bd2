"""HMAC-SHA256 webhook signatures in Stripe's header format: ``t=<ts>,v1=<hex>``.

Used by the demo gateway (which signs its own events) and by tests. Several
``v1`` entries may be present while a secret is rotated: any match is accepted.
"""

import hashlib
import hmac
import time


class SignatureError(Exception):
    """The payload is not proven to come from the gateway."""


def compute(payload, secret, timestamp):
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(payload, secret, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={compute(payload, secret, timestamp)}"


def parse_header(value):
    """Return ``(timestamp, [signatures])``; malformed input raises."""
    timestamp, signatures = None, []
    for part in (value or "").split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and item.isdigit():
            timestamp = int(item)
        elif key == "v1" and item:
            signatures.append(item)
    if timestamp is None or not signatures:
        raise SignatureError("malformed signature header")
    return timestamp, signatures


def verify(payload, header_value, secret, tolerance=300, now=None):
    if not secret:
        raise SignatureError("no webhook secret configured")
    timestamp, signatures = parse_header(header_value)
    now = time.time() if now is None else now
    if tolerance and abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance window")
    expected = compute(payload, secret, timestamp)
    if not any(hmac.compare_digest(expected, sig) for sig in signatures):
        raise SignatureError("signature mismatch")
    return timestamp
