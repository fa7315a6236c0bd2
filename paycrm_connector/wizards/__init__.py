from . import paycrm_promise_wizard
from . import paycrm_reminder_preview
from . import paycrm_reminder_preview_line
from . import paycrm_event_match
from . import paycrm_refund
from . import paycrm_tieout
from . import paycrm_link_wizard
