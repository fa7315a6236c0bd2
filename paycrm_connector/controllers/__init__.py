from . import webhook
from . import portal
from . import portal_account
from . import portal_methods
