from . import test_gateway
from . import test_invoice
from . import test_partner
from . import test_security
from . import test_gateway_paypal
from . import test_reminder_policy
from . import test_reminder_skips
from . import test_reminder_concurrency
