from . import paycrm_promise_wizard
from . import paycrm_reminder_preview
from . import paycrm_reminder_preview_line
