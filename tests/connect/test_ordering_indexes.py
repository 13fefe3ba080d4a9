"""Every default ordering of connect's tables has an index behind it (issue 13): a list page, an API list or an
unordered query sorts by it, and without an index that is a sort of the whole table, every time."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "api", "audit", "dispatch", "integration", "registry", "requests_app"}
# Tables that stay small, so a sort costs nothing: say why when adding one.
SMALL_TABLES = {
    "integration.TrainingRecord": "a few course records per analyst",
}


def indexed_column_lists(table: str) -> list[list[str]]:
    """The columns of each plain b-tree index on the table (not partial: those serve only their own rows)."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT array_agg(a.attname ORDER BY k.position)
            FROM pg_index i
            JOIN pg_class index_class ON index_class.oid = i.indexrelid
            JOIN pg_am am ON am.oid = index_class.relam AND am.amname = 'btree'
            CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = %s::regclass AND i.indpred IS NULL AND i.indexprs IS NULL
            GROUP BY i.indexrelid
        """, [table])
        return [columns for (columns,) in cursor.fetchall()]


def ordering_columns(model, ordering) -> list[str] | None:
    """The columns an ordering sorts by, or None where it cannot be served by one table's index (a relation's
    field, an expression)."""
    columns = []
    for item in ordering:
        if not isinstance(item, str):
            return None
        name = item.lstrip("-")
        if "__" in name:
            return None
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        columns.append(field.column)
    return columns


def default_orderings():
    admin.autodiscover()
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS or model._meta.proxy or not model._meta.managed:
            continue
        model_admin = admin.site._registry.get(model)
        for source, ordering in (("Meta.ordering", model._meta.ordering),
                                 ("admin ordering", getattr(model_admin, "ordering", None))):
            if ordering:
                yield model, source, list(ordering)


def orderings_without_index() -> list[str]:
    missing = []
    for model, source, ordering in default_orderings():
        if model._meta.label in SMALL_TABLES:
            continue
        columns = ordering_columns(model, ordering)
        indexes = indexed_column_lists(model._meta.db_table)
        # A b-tree serves its columns' order either way round, and any ordering that starts with them.
        if columns is None or not any(index[:len(columns)] == columns for index in indexes):
            missing.append(f"{model._meta.label} {source} {ordering}")
    return missing


def test_every_default_ordering_has_an_index_behind_it():
    assert orderings_without_index() == []


def test_an_ordering_whose_index_is_gone_is_listed():
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX camera_label")  # undone with the test's transaction
    assert orderings_without_index() == ["registry.Camera Meta.ordering ['label']"]


def test_orderings_through_a_relation_are_listed_as_unserved():
    from registry.models import Camera

    assert ordering_columns(Camera, ["-created_at", "label"]) == ["created_at", "label"]
    assert ordering_columns(Camera, ["owner__kind"]) is None
