from . import test_gateway
from . import test_invoice
from . import test_partner
from . import test_security
from . import test_webhook_controller
from . import test_webhook_processing
from . import test_webhook_property
