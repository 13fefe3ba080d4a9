"""manage.py import_addresses FILE --city NAME: a city's open address points (CSV or GeoJSON) for address search."""

import json
import re
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from addresses.columns import FIELDS, ColumnError, parse_mapping
from addresses.reading import ImportFileError, read_addresses
from addresses.services import address_points_replace

SHOWN_BAD_ROWS = 50
_CITY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class Command(BaseCommand):
    help = ("Loads a city's address points from CSV or GeoJSON (as open-data portals publish them) for address "
            "search. Replaces that city's earlier set in one transaction; bad rows are listed and skipped.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--city", required=True, help="the set's name, e.g. raleigh (a re-import replaces it)")
        parser.add_argument("--format", choices=("csv", "geojson"), default="",
                            help="default: by the file's extension (.geojson/.json, else CSV)")
        parser.add_argument("--columns", default="",
                            help="field=COLUMN pairs, comma-separated, where the guess is wrong; fields: "
                                 f"{', '.join(FIELDS)}. Example: address=ADD_FULL,city=POSTAL_CITY")
        parser.add_argument("--srid", type=int, default=4326,
                            help="EPSG code of the coordinates (e.g. 2264 for NC State Plane feet); default 4326")
        parser.add_argument("--max-bad-percent", type=float, default=10.0,
                            help="more bad rows than this share stops the import (a wrong column, not bad rows)")
        parser.add_argument("--anywhere", action="store_true",
                            help="keep points outside the service area (skipped and counted by default)")

    def handle(self, *args, **options):
        city = options["city"].strip().lower()
        if not _CITY.match(city):
            raise CommandError("--city: lower-case letters, digits and dashes, e.g. raleigh or wake-county.")
        try:
            columns = parse_mapping(options["columns"])
        except ColumnError as exc:
            raise CommandError(str(exc)) from None
        area = None
        if not options["anywhere"]:
            area = GEOSGeometry(json.dumps(settings.SERVICE_AREA), srid=4326).prepared
        try:
            result = read_addresses(options["file"], columns=columns, srid=options["srid"], area=area,
                                    file_format=options["format"])
        except ImportFileError as exc:
            raise CommandError(f"Nothing imported: {exc}") from None
        self.stdout.write("Columns: " + ", ".join(f"{k}={v}" for k, v in result.columns.items()))
        for line, why in result.bad[:SHOWN_BAD_ROWS]:
            self.stderr.write(f"line {line}: skipped, {why}")
        if len(result.bad) > SHOWN_BAD_ROWS:
            self.stderr.write(f"... and {len(result.bad) - SHOWN_BAD_ROWS} more skipped rows")
        total = len(result.rows) + len(result.bad)
        if not result.rows:
            raise CommandError(f"Nothing imported: none of the {total} rows is a usable address point.")
        if len(result.bad) * 100 > options["max_bad_percent"] * total:
            raise CommandError(
                f"Nothing imported: {len(result.bad)} of {total} rows are bad, more than "
                f"{options['max_bad_percent']:g}%. Check the column mapping (--columns) and the coordinate system "
                "(--srid), or raise --max-bad-percent.")
        imported = address_points_replace(city=city, rows=result.rows)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE addresses_addresspoint")  # the planner learns the new set's trigram spread
        self.stdout.write(self.style.SUCCESS(
            f"{imported} address points imported for {city} ({len(result.bad)} rows skipped); "
            "earlier points of this set replaced."))
