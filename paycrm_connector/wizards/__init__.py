from . import paycrm_link_wizard
