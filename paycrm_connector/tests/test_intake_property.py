"""Promise 5 and 8 over arbitrary input (hypothesis, through real HTTP): no body,
header set, path or query makes a public route answer 5xx, and none posts.

Each property posts to the running server; after its examples the processor
runs over whatever was stored (PayPal's stand-in then says what it says of
junk: not ours), and nothing may be booked in any clearing journal.
"""

import json
import re
import time
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import const
from ..gateways import signature
from ..gateways.demo import DEMO_METHODS
from .paypal_common import PaypalFlowCase
from .paypal_standin import WEBHOOK_ID, webhook_headers
from .paypal_standin import make_event as paypal_event

VERIFY = "/v1/notifications/verify-webhook-signature"
QUIET = (
    # Refusals and junk stored from a signed body are logged, by design.
    "odoo.addons.paycrm_connector.controllers.webhook",
    "odoo.addons.paycrm_connector.controllers.portal",
    "odoo.addons.paycrm_connector.controllers.pay_choice",
    "odoo.addons.paycrm_connector.models.paycrm_event_processor",
    "odoo.http",
)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    # Shrinking replays many HTTP requests: report the first failure as found.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

# -- strategies ---------------------------------------------------------------

# Any code point, NUL and lone surrogates included.
any_text = st.text(st.characters(codec=None, categories=None), max_size=12)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),  # NaN and infinities: json.dumps writes them
    any_text,
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3)
    ),
    max_leaves=12,
)
event_types = st.sampled_from(
    sorted(
        const.DEMO_EVENT_KINDS.keys()
        | const.STRIPE_EVENT_KINDS.keys()
        | const.PAYPAL_EVENT_KINDS.keys()
    )
)
timestamps = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.just(int(time.time())),
    st.floats(),
    any_text,
    st.datetimes().map(lambda stamp: stamp.isoformat() + "Z"),
)
events = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(any_text, st.text(min_size=250, max_size=260), json_values),
        "type": st.one_of(event_types, any_text, json_values),
        "event_type": st.one_of(event_types, any_text),
        "created": timestamps,
        "create_time": timestamps,
        "livemode": json_values,
        "data": st.fixed_dictionaries({"object": json_values}) | json_values,
        "resource": json_values,
    },
)


# A real event with a few of its fields replaced by the kind of value that
# once crashed the intake, or removed (DROP).
DROP = object()
edge_cases = st.sampled_from(
    ["", "\x00", "evt_\x00", "\ud800", "x" * 256, "\x1b", 10**30, -1, 1.5, "junk"]
)
edge_values = st.one_of(
    edge_cases,
    edge_cases,
    timestamps,
    json_values,
    st.just(DROP),
)


def _mutated(template):
    def apply(changes):
        event = {**template, **changes}
        return {key: value for key, value in event.items() if value is not DROP}

    keys = st.sampled_from(sorted(template.keys() | {"created", "create_time"}))
    return st.dictionaries(keys, edge_values, min_size=1, max_size=3).map(apply)


def _nest(depth, dicts):
    if dicts:
        return b'{"a": ' * depth + b"1" + b"}" * depth
    return b"[" * depth + b"]" * depth


def _bodies(template):
    near = _mutated(template).map(lambda event: json.dumps(event).encode())
    return st.one_of(
        # Near misses first (three times as likely), then anything.
        near,
        near,
        near,
        st.binary(max_size=200),
        json_values.map(lambda value: json.dumps(value).encode()),
        events.map(lambda event: json.dumps(event).encode()),
        events.map(lambda event: json.dumps(event).encode("utf-16")),
        st.builds(_nest, st.integers(min_value=1, max_value=3000), st.booleans()),
    )


# What requests may send as a header value (latin-1, no line breaks, no
# leading space).
header_values = st.text(
    st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=40
).map(str.lstrip)
header_names = st.sampled_from(
    [
        "Paycrm-Signature",
        "Stripe-Signature",
        "Paypal-Transmission-Id",
        "Paypal-Transmission-Time",
        "Paypal-Transmission-Sig",
        "Paypal-Cert-Url",
        "Paypal-Auth-Algo",
        "Content-Type",
        "X-Forwarded-Host",
    ]
)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-16",
    ]
)
header_sets = st.dictionaries(header_names, header_values, max_size=6)
# How the body is signed: not at all, or correctly (with a secret of the
# demo or Stripe gateway), at a timestamp maybe far from now.
sign_modes = st.sampled_from(["none", "demo", "stripe", "paypal"])
skews = st.one_of(st.just(0), st.integers(min_value=-(10**6), max_value=10**6))
# What a URL or a form can carry: any UTF-8 text (no lone surrogates).
url_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["²", "1e3", "-1", "9" * 40, "é", "\x00"]),
)


@tagged("post_install", "-at_install")
class TestIntakeProperty(PaypalFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gateways = cls.demo_gateway | cls.stripe_gateway | cls.paypal_gateway

    def setUp(self):
        super().setUp()
        for logger in QUIET:
            self.enterContext(mute_logger(logger))
        self.addCleanup(self.paypal_standin.clear_faults)

    # -- invariants -----------------------------------------------------------

    def _assert_answered(self, response):
        self.assertLess(
            response.status_code, 500, response.text[:500] if response.text else ""
        )

    def _assert_nothing_booked(self):
        """Run the processor over what was stored; nothing may be booked."""
        self.paypal_standin.clear_faults()
        self._process()
        lines = self.env["account.move.line"].search_count(
            [("journal_id", "in", self.gateways.journal_id.ids)]
        )
        self.assertEqual(lines, 0, "nothing posted in a clearing journal")
        booked = self.events.search([("move_id", "!=", False)])
        self.assertFalse(booked, "no event booked")

    # -- webhooks -------------------------------------------------------------

    def _headers(self, body, mode, skew, extra):
        headers = dict(extra)
        now = int(time.time()) + skew
        if mode == "demo":
            secret = self.demo_gateway.webhook_secret
            headers["Paycrm-Signature"] = signature.header(body, secret, now)
        elif mode == "stripe":
            # Stripe's scheme is ours: HMAC over "<t>.<body>".
            secret = self.stripe_gateway.webhook_secret
            headers["Stripe-Signature"] = signature.header(body, secret, now)
        elif mode == "paypal":
            try:
                event = json.loads(body)
            except (ValueError, RecursionError):
                event = None
            if isinstance(event, dict):
                headers.update(webhook_headers(event, WEBHOOK_ID))
        return headers

    def _post_webhook(self, gateway, body, headers):
        # Not url_open: it would send an empty body as a GET.
        response = self.opener.post(
            f"{self.base_url()}/paycrm/webhook/{gateway.id}",
            data=body,
            headers=headers,
            timeout=60,
        )
        self.env.invalidate_all()
        return response

    def _webhook_property(self, gateway, template):
        # Mostly signed as this gateway signs, sometimes as another would.
        own = {"demo": "demo", "stripe": "stripe", "paypal": "paypal"}[gateway.provider]

        @PROPERTY
        @given(
            body=_bodies(template),
            mode=st.one_of(st.just(own), st.just(own), sign_modes),
            skew=skews,
            extra=header_sets,
            content_type=st.none() | content_types,
            paypal_down=st.booleans(),
        )
        def check(body, mode, skew, extra, content_type, paypal_down):
            headers = self._headers(body, mode, skew, extra)
            if content_type:
                headers["Content-Type"] = content_type
            self.paypal_standin.clear_faults()
            if paypal_down:
                # PayPal's verification API down: the unverified path.
                self.paypal_standin.fail_next(503, count=10**6, path_prefix=VERIFY)
            self._assert_answered(self._post_webhook(gateway, body, headers))

        check()
        self._assert_nothing_booked()

    def test_demo_webhook_never_5xx(self):
        event = self._demo_payment(self._invoice(100.0), 1000)
        # For no invoice: a near miss that is still valid is no junk, and
        # would be booked.
        event["data"]["object"]["metadata"] = {}
        self._webhook_property(self.demo_gateway, event)

    def test_stripe_webhook_never_5xx(self):
        event = self._stripe_event("payment_intent.succeeded", {"id": "pi_prop"})
        self._webhook_property(self.stripe_gateway, event)

    def test_paypal_webhook_never_5xx(self):
        resource = {
            "id": "CAPT-PROP",
            "status": "COMPLETED",
            "amount": {"currency_code": "USD", "value": "1.00"},
        }
        event = paypal_event("PAYMENT.CAPTURE.COMPLETED", "capture", resource)
        self._webhook_property(self.paypal_gateway, event)

    # -- public pay routes ----------------------------------------------------

    def test_pay_routes_never_5xx(self):
        invoice = self._invoice(100.0)
        invoice._portal_ensure_token()
        gateway_ids = [str(gateway.id) for gateway in self.gateways]

        @PROPERTY
        @given(
            invoice_id=st.one_of(
                st.just(invoice.id),
                st.integers(min_value=0, max_value=2**31 + 5),
                st.just(10**20),
            ),
            token=st.one_of(st.just(invoice.access_token), url_text),
            suffix=st.sampled_from(["", "/done", "/cancel"]),
            query=st.dictionaries(
                st.sampled_from(["amount", "sig", "gateway", "token", "PayerID"]),
                st.one_of(url_text, st.sampled_from(gateway_ids)),
                max_size=4,
            ),
        )
        def check(invoice_id, token, suffix, query):
            path = f"/paycrm/pay/{invoice_id}/{quote(token, safe='')}{suffix}"
            if query:
                path += "?" + urlencode(query)
            response = self.url_open(path, allow_redirects=False)
            self.env.invalidate_all()
            self._assert_answered(response)

        check()
        self._assert_nothing_booked()

    def test_demo_checkout_routes_never_5xx(self):
        invoice = self._invoice(100.0)
        link, _created = self.env["paycrm.link"]._paycrm_checkout_for(invoice)
        page = self.url_open(f"/paycrm/demo/checkout/{link.session_ref}")
        self.assertEqual(page.status_code, 200)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

        @PROPERTY
        @given(
            real=st.booleans(),
            ref=url_text,
            form=st.fixed_dictionaries(
                {
                    "csrf_token": st.one_of(st.just(csrf), url_text),
                    # Never a method the page offers: a valid submit pays,
                    # which is no junk.
                    "method": url_text.filter(lambda m: m not in DEMO_METHODS),
                },
                optional={
                    "outcome": st.one_of(st.just("pay"), url_text),
                    "card_country": url_text,
                    "junk": url_text,
                },
            ),
        )
        def check(real, ref, form):
            ref = link.session_ref if real else quote(ref, safe="") or "x"
            path = f"/paycrm/demo/checkout/{ref}"
            self._assert_answered(self.url_open(path, allow_redirects=False))
            response = self.url_open(f"{path}/submit", data=form, allow_redirects=False)
            self.env.invalidate_all()
            self._assert_answered(response)

        check()
        self._assert_nothing_booked()
        self.assertFalse(self.events.search_count([]), "no demo event sent")
