"""``python3 -m odoo`` for benchmarks and the end-to-end test, minus websockets.

With ``--workers`` Odoo re-runs ``sys.argv[0] gevent ...`` for its websocket
(bus) process and respawns it whenever it exits. Webhooks need no websocket,
and where gevent cannot start (a missing dependency) that respawn loop burns a
core and skews every figure; so the ``gevent`` command only parks here until
the server kills it. Anything else is Odoo's own command line.
"""

import signal
import sys

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "gevent":
        signal.pause()
    else:
        from odoo.cli.command import main

        main()
