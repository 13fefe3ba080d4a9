"""Admin lists that stay fast at a million rows: no COUNT(*) of the whole table, and the last pages read from the end.

Django's changelist counts every matching row twice per page (the filtered count and the table's total): at a
million cameras that was most of a second. Here the total is not shown, the filtered count is exact up to
EXACT_UP_TO rows and PostgreSQL's estimate beyond (the list then says "about"), and a page past the middle is
read in the reverse order from the end, so the last page costs what the first does instead of an OFFSET over a
million rows. With an estimated count, pages near the middle may overlap or miss a few rows: nobody pages
through 10,000 pages, they search or filter, which brings the count back under EXACT_UP_TO.
"""

import json
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections

EXACT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    estimated = False  # True when count is PostgreSQL's estimate

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        exact = queryset.order_by()[:EXACT_UP_TO + 1].count()  # stops reading at the cap
        if exact <= EXACT_UP_TO:
            return exact
        self.estimated = True
        return max(exact, _planner_rows(queryset))

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if top + self.orphans >= self.count:
            top = self.count
        if bottom <= self.count // 2 or not self.object_list.ordered:
            return self._get_page(self.object_list[bottom:top], number, self)
        # From the end, in the reverse order (the same index, read backwards), then put back in order.
        rows = list(self.object_list.reverse()[self.count - top:self.count - bottom])
        rows.reverse()
        return self._get_page(rows, number, self)


def _planner_rows(queryset) -> int:
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class LargeListAdminMixin:
    """For a model admin whose table grows to a million rows: see the module's docstring. Its list_select_related
    and an index behind its ordering are the admin's own to set."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
