from . import paycrm_event_match
from . import paycrm_refund
from . import paycrm_tieout
