from lxml import etree

from odoo import models

COMPILE_ONCE_KEY = "paycrm_qweb_compile_once"
CURSOR_CACHE_KEY = "paycrm.qweb_compiled"


class IrQweb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _compile(self, template):
        """Compile an inline template once per cursor when the caller asks.

        mail.render.mixin parses and compiles a mail template's body again for
        every record (an etree is never cached): a reminder batch would compile
        the same body hundreds of times, which cost more than rendering it. The
        key is the source itself plus the whole context (language, restricted
        mode, render options), so an edited template or another language
        compiles afresh.
        """
        if not self.env.context.get(COMPILE_ONCE_KEY) or not isinstance(
            template, etree._Element
        ):
            return super()._compile(template)
        key = (
            etree.tostring(template),
            self.env.uid,
            self.env.su,
            repr(sorted(self.env.context.items())),
        )
        cache = self.env.cr.cache.setdefault(CURSOR_CACHE_KEY, {})
        if key not in cache:
            cache[key] = super()._compile(template)
        return cache[key]
