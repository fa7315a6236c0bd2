/** @odoo-module */
/* Browser tests of the staff screens, one per kind of user (issue 14):
 * an invoicing user sends a payment link and later sees the payment, an
 * administrator enables the demo gateway. Started by tests/test_staff_tours.py. */

import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

const tours = registry.category("web_tour.tours");

const openOnlinePaymentTab = {
    content: "Open the Online Payment tab",
    trigger: ".o_notebook .nav-link[name='paycrm_online_payment']",
    run: "click",
};

tours.add("paycrm_invoicing_user_send_link", {
    steps: () => [
        {
            content: "The invoice is open",
            trigger: ".o_form_view .o_field_widget[name='name']:contains('INV/')",
        },
        {
            content: "Send Payment Link (a header button, for invoicing users too)",
            trigger: ".o_form_view .o_form_statusbar button[name='action_paycrm_send_link']",
            run: "click",
        },
        {
            content: "The wizard proposes the amount due",
            trigger: ".modal .o_field_widget[name='amount'] input",
        },
        {
            content: "Send by email",
            trigger: ".modal .o_field_widget[name='channel'] input[data-value='email']",
            run: "click",
        },
        {
            content: "Send",
            trigger: ".modal footer button[name='action_send']",
            run: "click",
        },
        {
            content: "The wizard closes and says the link was sent",
            trigger: "body:not(:has(.modal)) .o_notification:contains('Payment link sent')",
        },
        openOnlinePaymentTab,
        {
            content: "The stable link is shown on the invoice",
            trigger: ".o_field_widget[name='paycrm_link_url']:contains('/paycrm/pay/')",
        },
    ],
});

tours.add("paycrm_invoicing_user_sees_payment", {
    steps: () => [
        {
            content: "The invoice reads paid (Odoo's own ribbon)",
            trigger: ".o_form_view .ribbon:contains('Paid'), .o_form_view .ribbon:contains('In Payment')",
        },
        openOnlinePaymentTab,
        {
            content: "The amount received through the gateway is shown",
            trigger: ".o_field_widget[name='paycrm_amount_received']:contains('250.00')",
        },
        {
            content: "The gateway payment is listed by what happened, not by its id",
            trigger: ".o_field_widget[name='paycrm_event_ids'] td:contains('Payment succeeded')",
        },
        {
            content: "The chatter tells the story in plain words",
            trigger: ".o-mail-Message:contains('Checkout opened for')",
        },
    ],
});

tours.add("paycrm_admin_enable_demo_gateway", {
    steps: () => [
        {
            content: "Open Invoicing > Configuration",
            trigger: ".o_main_navbar [data-menu-xmlid='account.menu_finance_configuration']",
            run: "click",
        },
        {
            content: "Payment Connector > Payment Gateways",
            trigger: ".dropdown-item[data-menu-xmlid='paycrm_connector.paycrm_menu_gateway']",
            run: "click",
        },
        {
            content: "Open the disabled demo gateway",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Tour Demo')",
            run: "click",
        },
        {
            content: "Enable it in test mode",
            trigger: ".o_form_view .o_statusbar_status button[data-value='test']",
            run: "click",
        },
        {
            content: "Make it the company default",
            trigger: ".o_form_view .o_field_widget[name='is_default'] input",
            run: "click",
        },
        ...stepUtils.saveForm(),
        {
            content: "It is enabled",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='test']",
        },
        {
            content: "The Webhook URL is labelled as such",
            trigger: ".o_form_view label:contains('Webhook URL')",
        },
    ],
});
