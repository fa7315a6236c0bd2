"""Payment profile values: DSO countback and the A-D rating with its reasons."""

from odoo import _, api, models

from .. import const


class PaycrmProfileRating(models.AbstractModel):
    _name = "paycrm.profile.rating"
    _description = "Customer Payment Rating"

    @staticmethod
    def _paycrm_dso(receivable, sales):
        """Countback DSO (see the field help) from AR and per-period sales,
        most recent period first."""
        if receivable <= 0:
            return 0.0
        days = 0.0
        for period_sales in sales:
            if period_sales >= receivable:
                return days + const.DSO_PERIOD_DAYS * receivable / period_sales
            receivable -= max(period_sales, 0)
            days += const.DSO_PERIOD_DAYS
        return days

    @api.model
    def _paycrm_profile_values(self, row, settings, company_delay):
        paid_count = row.get("paid_count") or 0
        due_count = row.get("due_count") or 0
        own_history = paid_count >= settings["profile_min_history"]
        avg_late = float(row.get("avg_late") or 0.0)
        on_time = 100.0 * row["on_time"] / due_count if due_count else 0.0
        rating, reasons = self._paycrm_risk(
            settings,
            has_invoices=bool(row),
            paid_count=paid_count,
            avg_late=avg_late,
            on_time=on_time if due_count >= settings["profile_min_history"] else None,
            oldest=row.get("oldest") or 0,
        )
        return {
            "paycrm_lifetime_paid": row.get("received") or 0.0,
            "paycrm_open_amount": row.get("open") or 0.0,
            "paycrm_overdue_amount": row.get("overdue") or 0.0,
            "paycrm_oldest_overdue_days": row.get("oldest") or 0,
            "paycrm_last_payment_date": row.get("last_paid"),
            "paycrm_paid_count_12m": paid_count,
            "paycrm_avg_days_to_pay": float(row.get("avg_to_pay") or 0.0),
            "paycrm_avg_days_late": avg_late,
            "paycrm_due_count_12m": due_count,
            "paycrm_on_time_rate": on_time,
            "paycrm_dso": self._paycrm_dso(
                float(row.get("open") or 0.0),
                [float(row.get(k) or 0.0) for k in ("s1", "s2", "s3")],
            ),
            "paycrm_risk_rating": rating,
            "paycrm_risk_reasons": reasons,
            "paycrm_predict_delay_days": round(row["avg_signed"])
            if own_history
            else company_delay,
        }

    @api.model
    def _paycrm_risk(
        self, settings, has_invoices, paid_count, avg_late, on_time, oldest
    ):
        """(rating, reasons): the worst grade any rule reaches, with the
        reasons of that grade.

        An invoice overdue past the C or D limit grades any customer: that is
        today's fact, history or not. Below it, a customer with fewer paid
        invoices than the minimum history is *Not enough history* (a grade
        from one or two payments would claim what the data cannot show). And
        A ("pays on time") is never given while an invoice is overdue."""
        if not has_invoices:
            return False, False
        s = settings
        overdue = _("An invoice is %(days)s days overdue", days=oldest)
        rules = [
            ("D", oldest > s["risk_d_overdue_days"], _(
                "An invoice is %(days)s days overdue (over %(limit)s)",
                days=oldest, limit=s["risk_d_overdue_days"])),
            ("C", oldest > s["risk_c_overdue_days"], _(
                "An invoice is %(days)s days overdue (over %(limit)s)",
                days=oldest, limit=s["risk_c_overdue_days"])),
        ]  # fmt: skip
        fired = [(grade, reason) for grade, hit, reason in rules if hit]
        if not fired and paid_count < s["profile_min_history"]:
            reasons = [
                _(
                    "Paid invoices in the last 12 months: %(count)s of the "
                    "%(minimum)s a rating needs",
                    count=paid_count,
                    minimum=s["profile_min_history"],
                )
            ]
            if oldest > 0:
                reasons.append(overdue)
            return "new", "; ".join(reasons)
        late = round(avg_late, 1)
        rules = [
            ("D", avg_late > s["risk_d_days_late"], _(
                "Pays %(days)s days late on average (over %(limit)s)",
                days=late, limit=s["risk_d_days_late"])),
            ("C", avg_late > s["risk_c_days_late"], _(
                "Pays %(days)s days late on average (over %(limit)s)",
                days=late, limit=s["risk_c_days_late"])),
            ("B", avg_late > s["risk_b_days_late"], _(
                "Pays %(days)s days late on average (over %(limit)s)",
                days=late, limit=s["risk_b_days_late"])),
            # Any overdue invoice contradicts "pays on time".
            ("B", oldest > 0, overdue),
        ]  # fmt: skip
        if on_time is not None:
            rate = round(on_time)
            rules += [
                ("C", on_time < s["risk_c_on_time"], _(
                    "On time for %(rate)s%% of invoices (under %(limit)s%%)",
                    rate=rate, limit=s["risk_c_on_time"])),
                ("B", on_time < s["risk_b_on_time"], _(
                    "On time for %(rate)s%% of invoices (under %(limit)s%%)",
                    rate=rate, limit=s["risk_b_on_time"])),
            ]  # fmt: skip
        fired += [(grade, reason) for grade, hit, reason in rules if hit]
        if not fired:
            if on_time is None:
                return "A", _(
                    "Nothing overdue; %(days)s days late on average",
                    days=late,
                )
            return "A", _(
                "Nothing overdue; %(days)s days late on average; on time for "
                "%(rate)s%% of invoices",
                days=late,
                rate=round(on_time),
            )
        worst = max(grade for grade, _reason in fired)
        # One reason per rule family: a D lateness also passes the C and B bars.
        reasons = list(dict.fromkeys(r for g, r in fired if g == worst))
        return worst, "; ".join(reasons)
