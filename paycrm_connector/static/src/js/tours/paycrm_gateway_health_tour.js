/** @odoo-module */
/* Browser test of the Gateway Health dashboard (issue 16): a connector user
 * (not an administrator) reads a gateway's card and opens its failed events.
 * Started by tests/test_gateway_health.py. */

import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("paycrm_gateway_health_card", {
    steps: () => [
        {
            content: "The card of the demo gateway says what is wrong first",
            trigger: ".o_kanban_record:contains('Health Demo'):contains('reached Odoo only through the sync')",
        },
        {
            content: "The card shows the processing lag in words",
            trigger: ".o_kanban_record:contains('Health Demo'):contains('2.0 s')",
        },
        {
            content: "Open the failed events",
            trigger: ".o_kanban_record:contains('Health Demo') button[name='action_paycrm_view_failed_events']",
            run: "click",
        },
        {
            content: "The list shows the failed event only",
            trigger: ".o_list_view .o_data_row:contains('Failed'):not(:contains('Done'))",
        },
    ],
});
