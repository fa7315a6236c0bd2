from . import res_company
from . import paycrm_gateway
from . import paycrm_customer_ref
from . import res_partner
from . import account_move
from . import res_config_settings
from . import paycrm_link
