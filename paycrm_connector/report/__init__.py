from . import paycrm_invoice_analysis
from . import paycrm_dso_analysis
from . import paycrm_reminder_analysis
from . import paycrm_gateway_analysis
from . import paycrm_link_funnel_analysis
