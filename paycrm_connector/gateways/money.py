"""Conversion between Odoo amounts and gateway minor units.

Only this module multiplies or divides by a power of ten. ISO 4217 decimals come
from the Odoo currency; Stripe's documented exceptions override them.
"""

from decimal import ROUND_HALF_UP, Decimal

# Stripe charges these in whole units although ISO gives some of them decimals.
STRIPE_ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
STRIPE_THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def stripe_exponent(currency_code, iso_decimals):
    code = (currency_code or "").upper()
    if code in STRIPE_ZERO_DECIMAL:
        return 0
    if code in STRIPE_THREE_DECIMAL:
        return 3
    return int(iso_decimals)


def to_minor(amount, exponent):
    """``Decimal``-exact conversion of a major-unit amount to an integer."""
    value = Decimal(str(amount)) * (Decimal(10) ** exponent)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor, exponent):
    """Integer minor units back to a ``Decimal`` in major units."""
    return Decimal(int(minor)) / (Decimal(10) ** exponent)
