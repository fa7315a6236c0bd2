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

# PayPal's REST currencies: two decimals, except these three that PayPal takes in
# whole units (a decimal amount is refused), whatever ISO 4217 says about HUF/TWD.
PAYPAL_CURRENCIES = frozenset(
    "AUD BRL CAD CNY CZK DKK EUR HKD HUF ILS JPY MYR MXN TWD NZD NOK PHP PLN GBP "
    "SGD SEK CHF THB USD".split()
)
PAYPAL_ZERO_DECIMAL = frozenset("HUF JPY TWD".split())


def stripe_exponent(currency_code, iso_decimals):
    code = (currency_code or "").upper()
    if code in STRIPE_ZERO_DECIMAL:
        return 0
    if code in STRIPE_THREE_DECIMAL:
        return 3
    return int(iso_decimals)


def paypal_exponent(currency_code):
    """Decimals PayPal uses for ``currency_code``; ``None`` if PayPal lacks it."""
    code = (currency_code or "").upper()
    if code not in PAYPAL_CURRENCIES:
        return None
    return 0 if code in PAYPAL_ZERO_DECIMAL else 2


def to_minor(amount, exponent):
    """``Decimal``-exact conversion of a major-unit amount to an integer."""
    value = Decimal(str(amount)) * (Decimal(10) ** exponent)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor, exponent):
    """Integer minor units back to a ``Decimal`` in major units."""
    return Decimal(int(minor)) / (Decimal(10) ** exponent)


def to_decimal_string(minor, exponent):
    """Minor units as the fixed-point string REST APIs such as PayPal's expect."""
    value = from_minor(minor, exponent)
    return f"{value:.{int(exponent)}f}"
