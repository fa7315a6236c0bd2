from . import test_gateway
from . import test_invoice
from . import test_partner
from . import test_security
from . import test_payment_link
from . import test_payment_link_errors
from . import test_payment_link_send
from . import test_payment_link_demo
