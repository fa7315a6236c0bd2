from . import webhook
from . import portal
